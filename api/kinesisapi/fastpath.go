package kinesisapi

import "github.com/spatehq/spate/api/awsproto"

// decodePutRecordsFast decodes the common shape of a PutRecords body in one
// pass over its bytes (awsproto.FastParser): an object with string members
// StreamName, StreamARN, StreamId and Records, a list of objects with string
// members Data, PartitionKey and ExplicitHashKey.
//
// It gives up (ok == false) on anything else: other member names, nulls,
// numbers, escaped or non-UTF-8 strings, bad base64, malformed JSON. The
// caller then decodes with encoding/json, which accepts the rest of JSON
// and words the errors. Invariant: whenever it returns ok, the request
// equals what encoding/json would have decoded from body (a differential
// fuzz test checks this); validation follows either way. The decoded
// request never aliases body.
func decodePutRecordsFast(body []byte) (*putRecordsRequest, bool) {
	p := awsproto.NewFastParser(body)
	in := &putRecordsRequest{}
	ok := p.Object(func(key []byte) bool {
		switch string(key) {
		case "StreamName":
			return p.String(&in.StreamName)
		case "StreamARN":
			return p.String(&in.StreamARN)
		case "StreamId":
			return p.String(&in.StreamID)
		case "Records":
			// A repeated Records member takes the slow path: encoding/json
			// decodes it over the first list's elements, merging the two.
			if in.Records != nil {
				return false
			}
			in.Records = make([]putRecordsEntry, 0, 16)
			return p.List(func() bool {
				var e putRecordsEntry
				ok := p.Object(func(key []byte) bool {
					switch string(key) {
					case "Data":
						return p.Blob(&e.Data)
					case "PartitionKey":
						return p.String(&e.PartitionKey)
					case "ExplicitHashKey":
						return p.String(&e.ExplicitHashKey)
					}
					return false
				})
				in.Records = append(in.Records, e)
				return ok
			})
		}
		return false
	})
	if !ok || !p.End() {
		return nil, false
	}
	return in, true
}
