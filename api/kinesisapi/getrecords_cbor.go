package kinesisapi

import (
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
	b, ok := r.Records.AppendCBOR(b)
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
