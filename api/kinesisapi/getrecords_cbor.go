package kinesisapi

import (
	"time"
	"unicode/utf8"

	"github.com/spatehq/spate/api/awsproto"
)

// A GetRecords reply in AWS CBOR (the Java SDK's and the KCL's default)
// appends itself too, instead of being encoded as JSON (base64 and all) and
// transcoded: the data goes out as byte strings straight from the store's
// records.
var _ awsproto.CBORAppender = getRecordsReply{}

// AppendCBOR appends the reply exactly as awsproto transcodes AppendJSON's
// output by the model (a differential test checks it), or reports false for
// what is rare (child shards, strings that are not valid UTF-8) and left
// to the transcoding.
func (r getRecordsReply) AppendCBOR(b []byte) ([]byte, bool) {
	if len(r.ChildShards) > 0 || !utf8.ValidString(r.NextShardIterator) {
		return nil, false
	}
	n := 2 // Records, MillisBehindLatest
	if r.NextShardIterator != "" {
		n++
	}
	b = awsproto.AppendCBORMap(b, n)
	b = awsproto.AppendCBORText(b, "Records")
	b, ok := appendRecordsCBOR(b, r.Records)
	if !ok {
		return nil, false
	}
	if r.NextShardIterator != "" {
		b = awsproto.AppendCBORText(b, "NextShardIterator")
		b = awsproto.AppendCBORText(b, r.NextShardIterator)
	}
	b = awsproto.AppendCBORText(b, "MillisBehindLatest")
	b = awsproto.AppendCBORInt(b, r.MillisBehindLatest)
	return b, true
}

// appendRecordsCBOR appends records as a CBOR array, exactly as awsproto
// transcodes appendRecordsJSON's output, or reports false for strings
// that are not valid UTF-8 (left to the transcoding).
func appendRecordsCBOR(b []byte, records []recordOut) ([]byte, bool) {
	b = awsproto.AppendCBORArray(b, len(records))
	for i := range records {
		rec := &records[i]
		if !utf8.ValidString(rec.SequenceNumber) || !utf8.ValidString(rec.PartitionKey) {
			return nil, false
		}
		fields := 4
		if rec.EncryptionType != "" {
			fields++
		}
		b = awsproto.AppendCBORMap(b, fields)
		b = awsproto.AppendCBORText(b, "SequenceNumber")
		b = awsproto.AppendCBORText(b, rec.SequenceNumber)
		b = awsproto.AppendCBORText(b, "ApproximateArrivalTimestamp")
		b = awsproto.AppendCBORTime(b, time.Time(rec.ApproximateArrivalTimestamp))
		b = awsproto.AppendCBORText(b, "Data")
		if rec.Data == nil {
			b = append(b, 0xf6) // null, as encoding/json writes a nil slice
		} else {
			b = awsproto.AppendCBORBytes(b, rec.Data)
		}
		b = awsproto.AppendCBORText(b, "PartitionKey")
		b = awsproto.AppendCBORText(b, rec.PartitionKey)
		if rec.EncryptionType != "" {
			b = awsproto.AppendCBORText(b, "EncryptionType")
			b = awsproto.AppendCBORText(b, rec.EncryptionType)
		}
	}
	return b, true
}
