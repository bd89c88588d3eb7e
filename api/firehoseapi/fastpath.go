package firehoseapi

import "github.com/spatehq/spate/api/awsproto"

// decodePutRecordBatchFast decodes the common shape of a PutRecordBatch body
// in one pass over its bytes (awsproto.FastParser): an object with string
// member DeliveryStreamName and member Records, a list of objects with one
// string member Data.
//
// It gives up (ok == false) on anything else: other member names, nulls,
// escaped or non-UTF-8 strings, bad base64, malformed JSON. The caller then
// decodes with encoding/json, which accepts the rest of JSON and words the
// errors. Invariant: whenever it returns ok, the request equals what
// encoding/json would have decoded from body (a differential fuzz test
// checks this); validation follows either way. The decoded request never
// aliases body.
func decodePutRecordBatchFast(body []byte) (*putRecordBatchRequest, bool) {
	p := awsproto.NewFastParser(body)
	in := &putRecordBatchRequest{}
	ok := p.Object(func(key []byte) bool {
		switch string(key) {
		case "DeliveryStreamName":
			return p.String(&in.DeliveryStreamName)
		case "Records":
			// A repeated Records member takes the slow path: encoding/json
			// decodes it over the first list's elements, merging the two.
			if in.Records != nil {
				return false
			}
			in.Records = make([]recordIn, 0, 16)
			return p.List(func() bool {
				var r recordIn
				ok := p.Object(func(key []byte) bool {
					return string(key) == "Data" && p.Blob(&r.Data)
				})
				in.Records = append(in.Records, r)
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
