package kinesisapi

import (
	"unicode/utf8"

	"github.com/spatehq/spate/api/awsproto"
)

// A PutRecords reply in AWS CBOR appends itself, as a GetRecords reply
// does: 500 results through JSON and the model-driven transcoding cost
// several times the JSON encoding alone (BenchmarkPutRecordsReplyCBOR).
var _ awsproto.CBORAppender = putRecordsReply{}

// AppendCBOR appends the reply exactly as awsproto transcodes its
// encoding/json form (a differential test checks it, and another that
// the struct has no field this encoder does not know), or reports false
// for a string that is not valid UTF-8, left to the transcoding.
func (r putRecordsReply) AppendCBOR(b []byte) ([]byte, bool) {
	n := 2 // FailedRecordCount, Records
	if r.EncryptionType != "" {
		n++
	}
	b = awsproto.AppendCBORMap(b, n)
	b = awsproto.AppendCBORText(b, "FailedRecordCount")
	b = awsproto.AppendCBORInt(b, int64(r.FailedRecordCount))
	b = awsproto.AppendCBORText(b, "Records")
	if r.Records == nil {
		b = append(b, 0xf6) // null, as encoding/json writes a nil slice
	} else {
		b = awsproto.AppendCBORArray(b, len(r.Records))
	}
	for i := range r.Records {
		e := &r.Records[i]
		members := [...]struct{ name, value string }{
			{"SequenceNumber", e.SequenceNumber}, {"ShardId", e.ShardID},
			{"ErrorCode", e.ErrorCode}, {"ErrorMessage", e.ErrorMessage},
		}
		set := 0
		for _, m := range members {
			if m.value != "" { // omitempty
				if !utf8.ValidString(m.value) {
					return nil, false
				}
				set++
			}
		}
		b = awsproto.AppendCBORMap(b, set)
		for _, m := range members {
			if m.value != "" {
				b = awsproto.AppendCBORText(b, m.name)
				b = awsproto.AppendCBORText(b, m.value)
			}
		}
	}
	if r.EncryptionType != "" {
		if !utf8.ValidString(r.EncryptionType) {
			return nil, false
		}
		b = awsproto.AppendCBORText(b, "EncryptionType")
		b = awsproto.AppendCBORText(b, r.EncryptionType)
	}
	return b, true
}
