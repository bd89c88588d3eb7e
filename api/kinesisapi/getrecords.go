package kinesisapi

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/spatehq/spate/api/awsproto"
)

// A GetRecords reply is up to 10 MiB of data, 13.4 MiB once base64-encoded.
// Through encoding/json it took about four times that at its peak (its own
// buffer, grown by doubling, then the copy into the handler's), so it
// encodes itself into one buffer of the right size instead, and holds the
// store's read budget, which counts that buffer, until it has been written.
var (
	_ awsproto.Appender      = getRecordsReply{}
	_ interface{ Release() } = getRecordsReply{}
)

// Release returns the store's read budget, and the records' block to the
// handler's pool, once the reply has been written.
func (r getRecordsReply) Release() {
	r.src.Release()
	if r.blocks != nil {
		r.blocks.put(r.Records)
	}
}

// Member names as encoding/json writes them, in field order.
const (
	jsonRecordSeq    = `{"SequenceNumber":`
	jsonRecordTime   = `,"ApproximateArrivalTimestamp":`
	jsonRecordData   = `,"Data":`
	jsonRecordKey    = `,"PartitionKey":`
	jsonRecordEnc    = `,"EncryptionType":`
	jsonNextIterator = `,"NextShardIterator":`
	jsonMillisBehind = `,"MillisBehindLatest":`
	jsonChildShards  = `,"ChildShards":`
	maxEpochJSONLen  = 24 // "-62135596800.000" and 253402300799.999 are shorter
	maxInt64JSONLen  = 20
	recordFramingLen = len(jsonRecordSeq) + len(jsonRecordTime) + len(jsonRecordData) + len(jsonRecordKey) + maxEpochJSONLen + len(`"",}`) + len(`""`) +
		len(jsonRecordEnc) + len(`"KMS"`)
	replyFramingLen = len(`{"Records":[]`) + len(jsonNextIterator) + len(`""`) + len(jsonMillisBehind) + maxInt64JSONLen + len(jsonChildShards) + len(`}`)
)

// JSONLen bounds the length of AppendJSON's output.
func (r getRecordsReply) JSONLen() int {
	return replyFramingLen + jsonStringLen(r.NextShardIterator) + r.Records.JSONLen() + childShardsJSONLen(r.ChildShards)
}

// childShardsJSONLen bounds the length of children in JSON.
func childShardsJSONLen(children []childShardOut) int {
	return 1024 * len(children) // ample; were it short, append would only reallocate
}

// AppendJSON appends the reply exactly as encoding/json (without HTML
// escaping) would encode it.
func (r getRecordsReply) AppendJSON(b []byte) []byte {
	b = append(b, `{"Records":`...)
	b = r.Records.AppendJSON(b)
	if r.NextShardIterator != "" {
		b = append(b, jsonNextIterator...)
		b = appendJSONString(b, r.NextShardIterator)
	}
	return appendLagAndChildrenJSON(b, r.MillisBehindLatest, r.ChildShards)
}

// appendLagAndChildrenJSON appends the members that end GetRecords' reply
// and a SubscribeToShardEvent, and closes the object.
func appendLagAndChildrenJSON(b []byte, millisBehind int64, children []childShardOut) []byte {
	b = append(b, jsonMillisBehind...)
	b = strconv.AppendInt(b, millisBehind, 10)
	if len(children) > 0 {
		b = append(b, jsonChildShards...)
		b = appendJSONSlow(b, children)
	}
	return append(b, '}')
}

// plainJSON reports whether encoding/json writes s as it is between
// quotes: printable ASCII without '"' and '\'. Sequence numbers, iterators
// and almost all partition keys are.
func plainJSON[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// jsonStringLen bounds the length of s as a JSON string: 6 bytes a byte
// (\u00XX) for one that needs escaping.
func jsonStringLen(s string) int {
	if plainJSON(s) {
		return len(s) + 2
	}
	return 6*len(s) + 2
}

func appendJSONString(b []byte, s string) []byte {
	if plainJSON(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return appendJSONSlow(b, s)
}

// appendJSONSlow appends v through encoding/json, for what is rare in a
// reply: strings that need escaping (or replacing invalid UTF-8), child
// shards.
func appendJSONSlow(b []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("kinesisapi: encoding " + err.Error()) // strings and plain structs always encode
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
