package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

const (
	e400 = http.StatusBadRequest
	e404 = http.StatusNotFound
	e405 = http.StatusMethodNotAllowed
	e413 = http.StatusRequestEntityTooLarge

	tSer   = "SerializationException"
	tVal   = "ValidationException"
	tArg   = "InvalidArgumentException"
	tNF    = "ResourceNotFoundException"
	tOp    = "UnknownOperationException"
	tInUse = "ResourceInUseException"
)

// kinesisRow is a Kinesis JSON request to action with body.
func kinesisRow(name, action string, body func(*hostileEnv) []byte, status int, errType string) hostileCase {
	return hostileCase{name: "kinesis/" + name, target: kinesisTarget + action, body: body, status: status, errType: errType}
}

// cborHeaders are the headers of an AWS CBOR request (the Java SDK's).
func cborHeaders(target string) map[string]string {
	h := hostileJSONHeaders(target)
	h["Content-Type"] = cborContentType
	return h
}

func cborRow(name, action string, body []byte, status int, errType string) hostileCase {
	return hostileCase{name: "kinesis/" + name, header: cborHeaders(kinesisTarget + action), body: func(*hostileEnv) []byte { return body }, status: status, errType: errType}
}

// hexBytes decodes hex written with spaces; it panics on a typo (a
// defect of the table).
func hexBytes(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func hostileKinesisRows() []hostileCase {
	known := func(extra string) func(*hostileEnv) []byte {
		return func(e *hostileEnv) []byte { return []byte(`{"StreamName":"` + e.known + `"` + extra + `}`) }
	}
	put := func(key string) func(*hostileEnv) []byte {
		return func(e *hostileEnv) []byte {
			return []byte(`{"StreamName":"` + e.other + `","Data":"` + b64("x") + `","PartitionKey":"` + key + `"}`)
		}
	}
	getRecords := func(it func(e *hostileEnv) string) func(*hostileEnv) []byte {
		return func(e *hostileEnv) []byte { return jsonOf(map[string]any{"ShardIterator": it(e)})(e) }
	}
	seqIterator := func(typ, seq string) func(*hostileEnv) []byte {
		return func(e *hostileEnv) []byte {
			return jsonOf(map[string]any{"StreamName": e.known, "ShardId": "shardId-000000000000", "ShardIteratorType": typ, "StartingSequenceNumber": seq})(e)
		}
	}
	// resource and resource2 name the known stream by ARN, as ResourceARN
	// and as StreamARN, followed by extra.
	resource := func(extra string) func(*hostileEnv) []byte {
		return func(e *hostileEnv) []byte {
			return []byte(`{"ResourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/` + e.known + extra + `}`)
		}
	}
	resource2 := func(extra string) func(*hostileEnv) []byte {
		return func(e *hostileEnv) []byte {
			return []byte(`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/` + e.known + extra + `}`)
		}
	}
	records := func(n, size int) func(*hostileEnv) []byte {
		return func(e *hostileEnv) []byte {
			var b strings.Builder
			b.WriteString(`{"StreamName":"` + e.other + `","Records":[`)
			data := base64.StdEncoding.EncodeToString(make([]byte, size))
			for i := range n {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`{"Data":"` + data + `","PartitionKey":"k"}`)
			}
			b.WriteString(`]}`)
			return []byte(b.String())
		}
	}
	rows := []hostileCase{
		// The envelope.
		{name: "kinesis/GET", method: http.MethodGet, target: kinesisTarget + "ListStreams", body: str(`{}`), status: e405, errType: tOp},
		{name: "kinesis/PUT", method: http.MethodPut, target: kinesisTarget + "ListStreams", body: str(`{}`), status: e405, errType: tOp},
		{name: "kinesis/DELETE", method: http.MethodDelete, target: kinesisTarget + "ListStreams", status: e405, errType: tOp},
		{name: "kinesis/path", path: "/admin", target: kinesisTarget + "ListStreams", body: str(`{}`), status: e404, errType: tOp},
		{name: "kinesis/path traversal", path: "/../../etc/passwd", target: kinesisTarget + "ListStreams", body: str(`{}`), status: e404, errType: tOp},
		{name: "kinesis/no target", header: map[string]string{"Content-Type": "application/x-amz-json-1.1"}, body: str(`{}`), status: e400, errType: tOp},
		{name: "kinesis/unknown action", target: kinesisTarget + "DropEverything", body: str(`{}`), status: e400, errType: tOp},
		{name: "kinesis/other service", target: "DynamoDB_20120810.ListTables", body: str(`{}`), status: e400, errType: tOp},
		{name: "kinesis/target without action", target: "Kinesis_20131202", body: str(`{}`), status: e400, errType: tOp},
		{name: "kinesis/target with trailing dot", target: kinesisTarget, body: str(`{}`), status: e400, errType: tOp},
		{name: "kinesis/huge target", target: kinesisTarget + strings.Repeat("A", 6000), body: str(`{}`), status: e400, errType: tOp},
		{name: "kinesis/content type text", header: map[string]string{"Content-Type": "text/plain", "X-Amz-Target": kinesisTarget + "ListStreams"}, body: str(`{}`), status: e400, errType: tSer},
		{name: "kinesis/JSON sent as CBOR", header: cborHeaders(kinesisTarget + "ListStreams"), body: str(`{}`), status: e400, errType: tSer},
		// CBOR bodies built to exhaust the decoder: each is refused, in CBOR.
		cborRow("CBOR nested 100,000 deep", "ListStreams", append([]byte{0xa1, 0x61, 'x'}, bytes.Repeat([]byte{0x81}, 100000)...), e400, tSer),
		cborRow("CBOR array head claiming 2^63 elements", "PutRecords", hexBytes("a1 67 5265636f726473 9b 7fffffffffffffff"), e400, tSer),
		cborRow("CBOR array of 100,000 empty maps", "PutRecords", append(hexBytes("a1 67 5265636f726473 9a 000186a0"), bytes.Repeat([]byte{0xa0}, 100000)...), e400, tSer),
		cborRow("CBOR byte string head claiming 2^63 bytes", "PutRecord", hexBytes("a1 64 44617461 5b 7fffffffffffffff"), e400, tSer),
		cborRow("CBOR indefinite byte string of 1-byte chunks", "PutRecord", append(append(hexBytes("a1 64 44617461 5f"), bytes.Repeat([]byte{0x41, 'x'}, 1<<20)...), 0xff), e400, tVal),
		cborRow("CBOR duplicate StreamName", "DescribeStream", hexBytes("a2 6a 53747265616d4e616d65 61 61 6a 53747265616d4e616d65 61 62"), e400, tSer),
		cborRow("CBOR timestamp of tag 1 with a string", "GetShardIterator", hexBytes("a1 69 54696d657374616d70 c1 61 78"), e400, tSer),
		cborRow("CBOR timestamp past year 9999", "GetShardIterator", hexBytes("a1 69 54696d657374616d70 c1 1b 7fffffffffffffff"), e400, tSer),
		cborRow("CBOR bignum", "DescribeStream", hexBytes("a1 65 4c696d6974 c2 49 010000000000000000"), e400, tSer),
		cborRow("CBOR text that is not UTF-8", "DescribeStream", hexBytes("a1 6a 53747265616d4e616d65 62 ff fe"), e400, tSer),
		cborRow("CBOR trailing bytes", "ListStreams", hexBytes("a0 a0"), e400, tSer),
		cborRow("CBOR body over the cap", "PutRecord", append(hexBytes("a1 64 44617461 5a 01100000"), make([]byte, 17<<20)...), e413, tArg),
		{name: "kinesis/content type malformed", header: map[string]string{"Content-Type": "application/;;;=", "X-Amz-Target": kinesisTarget + "ListStreams"}, body: str(`{}`), status: e400, errType: tSer},
		// Bodies that are not a JSON object.
		kinesisRow("empty body", "ListStreams", str(``), e400, tSer),
		kinesisRow("whitespace body", "ListStreams", str(" \n\t "), e400, tSer),
		kinesisRow("null body", "ListStreams", str(`null`), e400, tSer),
		kinesisRow("list body", "ListStreams", str(`[]`), e400, tSer),
		kinesisRow("string body", "ListStreams", str(`"x"`), e400, tSer),
		kinesisRow("number body", "ListStreams", str(`1e999`), e400, tSer),
		kinesisRow("truncated", "DescribeStream", str(`{"StreamName":`), e400, tSer),
		kinesisRow("trailing garbage", "DescribeStream", str(`{"StreamName":"a"}garbage`), e400, tSer),
		kinesisRow("two objects", "DescribeStream", str(`{}{}`), e400, tSer),
		kinesisRow("single quotes", "DescribeStream", str(`{'StreamName':'a'}`), e400, tSer),
		kinesisRow("comment", "DescribeStream", str(`{/* x */}`), e400, tSer),
		kinesisRow("NaN", "ListStreams", str(`{"Limit":NaN}`), e400, tSer),
		kinesisRow("bare control character", "DescribeStream", str("{\"StreamName\":\"a\x01\"}"), e400, tSer),
		kinesisRow("100k [", "ListStreams", str(`{"a":`+strings.Repeat("[", 100000)), e400, tSer),
		kinesisRow("100k [ closed", "ListStreams", str(`{"a":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`), e400, tSer),
		kinesisRow("100k {", "ListStreams", str(strings.Repeat(`{"a":`, 100000)), e400, tSer),
		kinesisRow("100k [ as body", "ListStreams", str(strings.Repeat("[", 100000)), e400, tSer),
		kinesisRow("invalid UTF-8 outside strings", "ListStreams", str("{\xff}"), e400, tSer),
		kinesisRow("UTF-16 body", "ListStreams", str("\xff\xfe{\x00}\x00"), e400, tSer),
		// Duplicate members: the last wins, as in AWS's parser.
		kinesisRow("duplicate member", "DescribeStreamSummary", func(e *hostileEnv) []byte {
			return []byte(`{"StreamName":"nope","StreamName":"` + e.known + `"}`)
		}, http.StatusOK, ""),
		// Wrong types.
		kinesisRow("name is a number", "DescribeStream", str(`{"StreamName":7}`), e400, tSer),
		kinesisRow("name is true", "DescribeStream", str(`{"StreamName":true}`), e400, tSer),
		kinesisRow("name is an object", "DescribeStream", str(`{"StreamName":{}}`), e400, tSer),
		kinesisRow("name is a list", "DescribeStream", str(`{"StreamName":["a"]}`), e400, tSer),
		kinesisRow("count is a string", "CreateStream", str(`{"StreamName":"h1","ShardCount":"2"}`), e400, tSer),
		kinesisRow("count has a fraction", "CreateStream", str(`{"StreamName":"h1","ShardCount":1.5}`), e400, tSer),
		kinesisRow("count overflows int32", "CreateStream", str(`{"StreamName":"h1","ShardCount":2147483648}`), e400, tSer),
		kinesisRow("count is 1e400", "CreateStream", str(`{"StreamName":"h1","ShardCount":1e400}`), e400, tSer),
		kinesisRow("count is negative", "CreateStream", str(`{"StreamName":"h1","ShardCount":-1}`), e400, tVal),
		kinesisRow("count is zero", "CreateStream", str(`{"StreamName":"h1","ShardCount":0}`), e400, tVal),
		kinesisRow("count is huge", "CreateStream", str(`{"StreamName":"h1","ShardCount":2147483647}`), e400, "LimitExceededException"),
		kinesisRow("limit is negative", "ListStreams", str(`{"Limit":-5}`), e400, tVal),
		kinesisRow("limit is 2^63", "ListStreams", str(`{"Limit":9223372036854775808}`), e400, tSer),
		kinesisRow("limit is -2^63", "ListStreams", str(`{"Limit":-9223372036854775808}`), e400, tSer),
		kinesisRow("records is a string", "PutRecords", str(`{"StreamName":"a","Records":"x"}`), e400, tSer),
		kinesisRow("records of numbers", "PutRecords", str(`{"StreamName":"a","Records":[1,2]}`), e400, tSer),
		kinesisRow("data is a number", "PutRecord", str(`{"StreamName":"a","Data":123,"PartitionKey":"k"}`), e400, tSer),
		kinesisRow("data is not base64", "PutRecord", str(`{"StreamName":"a","Data":"!!!","PartitionKey":"k"}`), e400, tSer),
		kinesisRow("data is URL base64", "PutRecord", str(`{"StreamName":"a","Data":"-_-_","PartitionKey":"k"}`), e400, tSer),
		kinesisRow("tags are a list", "AddTagsToStream", known(`,"Tags":["a"]`), e400, tSer),
		kinesisRow("timestamp is words", "GetShardIterator", known(`,"ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":"yesterday"`), e400, tSer),
		kinesisRow("timestamp is 1e400", "GetShardIterator", known(`,"ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1e400`), e400, tSer),
		kinesisRow("retention is a string", "IncreaseStreamRetentionPeriod", known(`,"RetentionPeriodHours":"48"`), e400, tSer),
		// Names: lengths and characters.
		kinesisRow("name 129 characters", "DescribeStream", str(`{"StreamName":"`+strings.Repeat("a", 129)+`"}`), e400, tVal),
		kinesisRow("name 100 KB", "DescribeStream", str(`{"StreamName":"`+strings.Repeat("a", 100<<10)+`"}`), e400, tVal),
		kinesisRow("name empty", "DescribeStream", str(`{"StreamName":""}`), e400, tVal),
		kinesisRow("name with slash", "CreateStream", str(`{"StreamName":"a/b","ShardCount":1}`), e400, tVal),
		kinesisRow("name with dot-dot slash", "CreateStream", str(`{"StreamName":"../x","ShardCount":1}`), e400, tVal),
		kinesisRow("name with space", "CreateStream", str(`{"StreamName":"a b","ShardCount":1}`), e400, tVal),
		kinesisRow("name with NUL escape", "CreateStream", str(`{"StreamName":"a\u0000b","ShardCount":1}`), e400, tVal),
		kinesisRow("name with umlaut", "CreateStream", str(`{"StreamName":"ü","ShardCount":1}`), e400, tVal),
		kinesisRow("name not UTF-8", "CreateStream", str("{\"StreamName\":\"a\xffb\",\"ShardCount\":1}"), e400, tVal),
		kinesisRow("internal stream name", "DescribeStream", str(`{"StreamName":"firehose:x"}`), e400, tVal),
		kinesisRow("internal stream name put", "PutRecord", str(`{"StreamName":"firehose:x","Data":"","PartitionKey":"k"}`), e400, tVal),
		kinesisRow("internal stream create", "CreateStream", str(`{"StreamName":"firehose:x","ShardCount":1}`), e400, tVal),
		kinesisRow("stream that does not exist", "DescribeStream", str(`{"StreamName":"does-not-exist"}`), e400, tNF),
		kinesisRow("stream already exists", "CreateStream", func(e *hostileEnv) []byte { return []byte(`{"StreamName":"` + e.known + `","ShardCount":1}`) }, e400, tInUse),
		kinesisRow("ARN of another account", "DescribeStreamSummary", str(`{"StreamARN":"arn:aws:kinesis:us-east-1:999999999999:stream/hostile-known"}`), e400, tNF),
		kinesisRow("ARN pattern", "DescribeStreamSummary", str(`{"StreamARN":"arn:aws:s3:::bucket"}`), e400, tVal),
		kinesisRow("name and ARN disagree", "DescribeStreamSummary", str(`{"StreamName":"hostile-other","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/hostile-known"}`), e400, tArg),
		kinesisRow("shard id traversal", "GetShardIterator", known(`,"ShardId":"../../x","ShardIteratorType":"LATEST"`), e400, tVal),
		kinesisRow("shard that does not exist", "GetShardIterator", known(`,"ShardId":"shardId-999999999999","ShardIteratorType":"LATEST"`), e400, tNF),
		kinesisRow("iterator type unknown", "GetShardIterator", known(`,"ShardId":"shardId-000000000000","ShardIteratorType":"OLDEST"`), e400, tVal),
		kinesisRow("retention too long", "IncreaseStreamRetentionPeriod", known(`,"RetentionPeriodHours":100000`), e400, tArg),
		kinesisRow("retention too short", "DecreaseStreamRetentionPeriod", known(`,"RetentionPeriodHours":1`), e400, tArg),
		kinesisRow("tag key aws:", "AddTagsToStream", known(`,"Tags":{"aws:x":"v"}`), e400, tArg),
		kinesisRow("tag key too long", "AddTagsToStream", known(`,"Tags":{"`+strings.Repeat("k", 129)+`":"v"}`), e400, tVal),
		kinesisRow("51 tags", "AddTagsToStream", func(e *hostileEnv) []byte {
			tags := map[string]string{}
			for i := range 51 {
				tags[fmt.Sprint("k", i)] = "v"
			}
			return jsonOf(map[string]any{"StreamName": e.known, "Tags": tags})(e)
		}, e400, tArg),
		kinesisRow("list token forged", "ListShards", str(`{"NextToken":"forged-token"}`), e400, tArg),
		kinesisRow("list token and name", "ListShards", func(e *hostileEnv) []byte { return []byte(`{"StreamName":"` + e.known + `","NextToken":"x"}`) }, e400, tArg),
		// Partition and hash keys (defect 5 for the bytes that are not UTF-8).
		kinesisRow("partition key empty", "PutRecord", put(""), e400, tVal),
		kinesisRow("partition key 257", "PutRecord", put(strings.Repeat("k", 257)), e400, tVal),
		kinesisRow("partition key not UTF-8", "PutRecord", put("k\xff\xfe"), e400, tVal),
		kinesisRow("partition key lone surrogate", "PutRecord", put(`\ud800`), e400, tVal),
		kinesisRow("partition key reversed surrogates", "PutRecord", put(`\udc00\ud800`), e400, tVal),
		kinesisRow("partition key overlong slash", "PutRecord", put("\xc0\xaf"), e400, tVal),
		kinesisRow("partition key not UTF-8 in a batch", "PutRecords", func(e *hostileEnv) []byte {
			return []byte(`{"StreamName":"` + e.other + `","Records":[{"Data":"","PartitionKey":"ok"},{"Data":"","PartitionKey":"` + "\xff" + `"}]}`)
		}, e400, tVal),
		kinesisRow("hash key 2^128", "PutRecord", func(e *hostileEnv) []byte {
			return []byte(`{"StreamName":"` + e.other + `","Data":"","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211456"}`)
		}, e400, tArg),
		kinesisRow("hash key negative", "PutRecord", put(`k","ExplicitHashKey":"-1`), e400, tVal),
		kinesisRow("hash key hex", "PutRecord", put(`k","ExplicitHashKey":"0x10`), e400, tVal),
		kinesisRow("hash key Arabic-Indic digits", "PutRecord", put(`k","ExplicitHashKey":"١٢`), e400, tVal),
		kinesisRow("ordering sequence words", "PutRecord", put(`k","SequenceNumberForOrdering":"x`), e400, tVal),
		// Record counts and sizes.
		kinesisRow("no records", "PutRecords", records(0, 1), e400, tVal),
		kinesisRow("501 records", "PutRecords", records(501, 1), e400, tVal),
		kinesisRow("record over 1 MiB", "PutRecord", func(e *hostileEnv) []byte {
			return []byte(`{"StreamName":"` + e.other + `","Data":"` + base64.StdEncoding.EncodeToString(make([]byte, 1<<20)) + `","PartitionKey":"k"}`)
		}, e400, tArg),
		kinesisRow("batch over 10 MiB", "PutRecords", records(11, 1000<<10), e400, tArg),
		kinesisRow("record over the stream's 1 MiB, under 10 MiB", "PutRecord", func(e *hostileEnv) []byte {
			return []byte(`{"StreamName":"` + e.other + `","Data":"` + base64.StdEncoding.EncodeToString(make([]byte, 5<<20)) + `","PartitionKey":"k"}`)
		}, e400, tArg),
		// The resource and settings actions (issue 12): refusals that change nothing.
		kinesisRow("tag a consumer ARN", "TagResource", resource(`/consumer/c:1","Tags":{"k":"v"}`), e400, tNF),
		kinesisRow("tag another account", "TagResource", str(`{"ResourceARN":"arn:aws:kinesis:us-east-1:111111111111:stream/a","Tags":{"k":"v"}}`), e400, tNF),
		kinesisRow("tag a firehose ARN", "TagResource", str(`{"ResourceARN":"arn:aws:firehose:us-east-1:000000000000:deliverystream/a","Tags":{"k":"v"}}`), e400, tVal),
		kinesisRow("tag with aws: prefix", "TagResource", resource(`","Tags":{"aws:k":"v"}`), e400, tArg),
		kinesisRow("untag 51 keys", "UntagResource", resource(`","TagKeys":[`+strings.Repeat(`"k",`, 50)+`"k"]`), e400, tVal),
		kinesisRow("policy not JSON", "PutResourcePolicy", resource(`","Policy":"{"`), e400, tArg),
		kinesisRow("policy with a Condition", "PutResourcePolicy", resource(`","Policy":"{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"kinesis:*\",\"Resource\":\"*\",\"Condition\":{}}}"`), e400, tArg),
		kinesisRow("policy over 20 KiB", "PutResourcePolicy", resource(`","Policy":"`+strings.Repeat(" ", 21<<10)+`"`), e400, tArg),
		kinesisRow("policy of 1 MiB", "PutResourcePolicy", resource(`","Policy":"`+strings.Repeat("[", 1<<20)+`"`), e400, tArg),
		kinesisRow("delete no policy", "DeleteResourcePolicy", resource(`"`), e400, tNF),
		kinesisRow("max record size 1023", "UpdateMaxRecordSize", resource2(`","MaxRecordSizeInKiB":1023`), e400, tVal),
		kinesisRow("max record size 2^31", "UpdateMaxRecordSize", resource2(`","MaxRecordSizeInKiB":2147483648`), e400, tSer),
		kinesisRow("stream mode unknown", "UpdateStreamMode", resource2(`","StreamModeDetails":{"StreamMode":"TURBO"}`), e400, tVal),
		kinesisRow("stream mode unchanged", "UpdateStreamMode", resource2(`","StreamModeDetails":{"StreamMode":"PROVISIONED"}`), e400, tArg),
		kinesisRow("warm throughput of a provisioned stream", "UpdateStreamWarmThroughput", known(`,"WarmThroughputMiBps":10`), e400, tArg),
		kinesisRow("commitment MAYBE", "UpdateAccountSettings", str(`{"MinimumThroughputBillingCommitment":{"Status":"MAYBE"}}`), e400, tVal),
		kinesisRow("body over the cap", "PutRecords", func(e *hostileEnv) []byte {
			return []byte(`{"StreamName":"x","Records":[{"PartitionKey":"k","Data":"` + strings.Repeat("A", 17<<20) + `"}]}`)
		}, e413, tArg),
		// Iterators: forged, truncated, expired, of another stream.
		kinesisRow("iterator garbage", "GetRecords", str(`{"ShardIterator":"garbage"}`), e400, tArg),
		kinesisRow("iterator empty", "GetRecords", str(`{"ShardIterator":""}`), e400, tVal),
		kinesisRow("iterator over 512", "GetRecords", str(`{"ShardIterator":"`+strings.Repeat("A", 513)+`"}`), e400, tVal),
		kinesisRow("iterator truncated", "GetRecords", getRecords(func(e *hostileEnv) string { it := e.iterator(e.known); return it[:len(it)/2] }), e400, tArg),
		kinesisRow("iterator with a flipped character", "GetRecords", getRecords(func(e *hostileEnv) string {
			it := []byte(e.iterator(e.known))
			i := len(it) / 2
			if it[i] == 'A' {
				it[i] = 'B'
			} else {
				it[i] = 'A'
			}
			return string(it)
		}), e400, tArg),
		kinesisRow("iterator base64 of JSON", "GetRecords", getRecords(func(*hostileEnv) string {
			return base64.StdEncoding.EncodeToString([]byte(`{"stream":"hostile-known","shard":0,"seq":"0"}`))
		}), e400, tArg),
		kinesisRow("iterator expired", "GetRecords", getRecords(func(e *hostileEnv) string { return e.expired }), e400, "ExpiredIteratorException"),
		kinesisRow("limit zero", "GetRecords", getRecords(func(e *hostileEnv) string { return e.iterator(e.known) + `","Limit":"0` }), e400, tArg),
		// Sequence numbers.
		kinesisRow("sequence number words", "GetShardIterator", seqIterator("AT_SEQUENCE_NUMBER", "abc"), e400, tVal),
		kinesisRow("sequence number 130 digits", "GetShardIterator", seqIterator("AT_SEQUENCE_NUMBER", "1"+strings.Repeat("0", 129)), e400, tVal),
		kinesisRow("sequence number missing", "GetShardIterator", seqIterator("AFTER_SEQUENCE_NUMBER", ""), e400, tVal),
		kinesisRow("sequence number forged", "GetShardIterator", seqIterator("AT_SEQUENCE_NUMBER", "4"+strings.Repeat("9", 55)), e400, tArg),
	}
	return rows
}

// firehoseRow is a Firehose JSON request to action with body.
func firehoseRow(name, action string, body func(*hostileEnv) []byte, status int, errType string) hostileCase {
	return hostileCase{name: "firehose/" + name, target: firehoseTarget + action, body: body, status: status, errType: errType}
}

// lambdaProcessing is an ExtendedS3 member set with one Lambda processor of
// the given ARN and further parameters (name, value, ...).
func lambdaProcessing(arn string, params ...string) map[string]any {
	ps := []map[string]any{{"ParameterName": "LambdaArn", "ParameterValue": arn}}
	for i := 0; i+1 < len(params); i += 2 {
		ps = append(ps, map[string]any{"ParameterName": params[i], "ParameterValue": params[i+1]})
	}
	return map[string]any{"ProcessingConfiguration": map[string]any{"Enabled": true,
		"Processors": []map[string]any{{"Type": "Lambda", "Parameters": ps}}}}
}

func hostileFirehoseRows(f *fh) []hostileCase {
	bucket := "arn:aws:s3:::" + f.bucket
	create := func(name string, s3 map[string]any) func(*hostileEnv) []byte {
		cfg := map[string]any{"RoleARN": "arn:aws:iam::123456789012:role/r", "BucketARN": bucket}
		for k, v := range s3 {
			cfg[k] = v
		}
		return jsonOf(map[string]any{"DeliveryStreamName": name, "ExtendedS3DestinationConfiguration": cfg})
	}
	batch := func(n, size int) func(*hostileEnv) []byte {
		recs := make([]map[string]any, n)
		for i := range recs {
			recs[i] = map[string]any{"Data": base64.StdEncoding.EncodeToString(make([]byte, size))}
		}
		return jsonOf(map[string]any{"DeliveryStreamName": "does-not-exist", "Records": recs})
	}
	return []hostileCase{
		{name: "firehose/GET", method: http.MethodGet, target: firehoseTarget + "ListDeliveryStreams", body: str(`{}`), status: e405, errType: tOp},
		{name: "firehose/unknown action", target: firehoseTarget + "DropEverything", body: str(`{}`), status: e400, errType: tOp},
		{name: "firehose/content type text", header: map[string]string{"Content-Type": "text/plain", "X-Amz-Target": firehoseTarget + "ListDeliveryStreams"}, body: str(`{}`), status: e400, errType: tSer},
		firehoseRow("empty body", "ListDeliveryStreams", str(``), e400, tSer),
		firehoseRow("null body", "ListDeliveryStreams", str(`null`), e400, tSer),
		firehoseRow("truncated", "DescribeDeliveryStream", str(`{"DeliveryStreamName":"a`), e400, tSer),
		firehoseRow("100k [", "ListDeliveryStreams", str(`{"a":`+strings.Repeat("[", 100000)), e400, tSer),
		firehoseRow("name is a number", "DescribeDeliveryStream", str(`{"DeliveryStreamName":1}`), e400, tSer),
		firehoseRow("limit is 1e400", "ListDeliveryStreams", str(`{"Limit":1e400}`), e400, tSer),
		firehoseRow("limit is negative", "ListDeliveryStreams", str(`{"Limit":-1}`), e400, tArg),
		firehoseRow("name 65 characters", "DescribeDeliveryStream", str(`{"DeliveryStreamName":"`+strings.Repeat("a", 65)+`"}`), e400, tArg),
		firehoseRow("name with slash", "DescribeDeliveryStream", str(`{"DeliveryStreamName":"a/b"}`), e400, tArg),
		firehoseRow("name with colon", "DescribeDeliveryStream", str(`{"DeliveryStreamName":"firehose:x"}`), e400, tArg),
		firehoseRow("name not UTF-8", "DescribeDeliveryStream", str("{\"DeliveryStreamName\":\"a\xff\"}"), e400, tArg),
		firehoseRow("stream that does not exist", "DescribeDeliveryStream", str(`{"DeliveryStreamName":"does-not-exist"}`), e400, tNF),
		firehoseRow("put to a stream that does not exist", "PutRecord", str(`{"DeliveryStreamName":"does-not-exist","Record":{"Data":"eA=="}}`), e400, tNF),
		firehoseRow("data not base64", "PutRecord", str(`{"DeliveryStreamName":"x","Record":{"Data":"!!"}}`), e400, tSer),
		firehoseRow("record missing", "PutRecord", str(`{"DeliveryStreamName":"x"}`), e400, tArg),
		firehoseRow("record over 1000 KiB", "PutRecord", jsonOf(map[string]any{"DeliveryStreamName": "x", "Record": map[string]any{"Data": base64.StdEncoding.EncodeToString(make([]byte, 1024001))}}), e400, tArg),
		firehoseRow("501 records", "PutRecordBatch", batch(501, 1), e400, tArg),
		firehoseRow("no records", "PutRecordBatch", batch(0, 1), e400, tArg),
		firehoseRow("batch over 4 MiB", "PutRecordBatch", func(e *hostileEnv) []byte {
			recs := make([]map[string]any, 5)
			for i := range recs {
				recs[i] = map[string]any{"Data": base64.StdEncoding.EncodeToString(make([]byte, 1000<<10))}
			}
			return jsonOf(map[string]any{"DeliveryStreamName": e.delivery, "Records": recs})(e)
		}, e400, tArg),
		firehoseRow("body over the cap", "PutRecordBatch", str(`{"DeliveryStreamName":"x","Records":[{"Data":"`+strings.Repeat("A", 9<<20)+`"}]}`), e413, tArg),
		firehoseRow("unknown type", "CreateDeliveryStream", jsonOf(map[string]any{"DeliveryStreamName": "h", "DeliveryStreamType": "Telepathy"}), e400, tArg),
		firehoseRow("no destination", "CreateDeliveryStream", jsonOf(map[string]any{"DeliveryStreamName": "h"}), e400, tArg),
		firehoseRow("bucket ARN garbage", "CreateDeliveryStream", create("h", map[string]any{"BucketARN": "garbage"}), e400, tArg),
		firehoseRow("bucket ARN traversal", "CreateDeliveryStream", create("h", map[string]any{"BucketARN": "arn:aws:s3:::../../etc"}), e400, tArg),
		firehoseRow("role ARN missing", "CreateDeliveryStream", create("h", map[string]any{"RoleARN": nil}), e400, tArg),
		// Prefixes (defect 7).
		firehoseRow("prefix ../", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "../"}), e400, tArg),
		firehoseRow("prefix a/../../b", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "a/../../b/"}), e400, tArg),
		firehoseRow("prefix ./", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "a/./b/"}), e400, tArg),
		firehoseRow("prefix timestamp ..", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "!{timestamp:'..'}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"}), e400, tArg),
		firehoseRow("error prefix ../", "CreateDeliveryStream", create("h", map[string]any{"ErrorOutputPrefix": "../errors/"}), e400, tArg),
		firehoseRow("prefix control character", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "a\tb/"}), e400, tArg),
		firehoseRow("prefix newline", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "a\nb/"}), e400, tArg),
		firehoseRow("prefix not UTF-8", "CreateDeliveryStream", str(`{"DeliveryStreamName":"h","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"`+bucket+"\",\"Prefix\":\"a\xff/\"}}"), e400, tArg),
		firehoseRow("prefix over 1024", "CreateDeliveryStream", create("h", map[string]any{"Prefix": strings.Repeat("a", 1025)}), e400, tArg),
		firehoseRow("prefix evaluates over 512", "CreateDeliveryStream", create("h", map[string]any{"Prefix": strings.Repeat("a/", 300)}), e400, tArg),
		firehoseRow("prefix unterminated expression", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "!{timestamp:yyyy"}), e400, tArg),
		firehoseRow("prefix unknown namespace", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "!{env:HOME}/"}), e400, tArg),
		firehoseRow("prefix lambda without partitioning", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "!{partitionKeyFromLambda:x}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"}), e400, tArg),
		// Lambda processors: refused whether or not the server runs
		// functions (no such function, or functions not enabled).
		firehoseRow("lambda processor unknown function", "CreateDeliveryStream", create("h", lambdaProcessing("arn:aws:lambda:us-east-1:000000000000:function:hostile-none")), e400, tArg),
		firehoseRow("lambda processor not an ARN", "CreateDeliveryStream", create("h", lambdaProcessing("../../bootstrap")), e400, tArg),
		firehoseRow("lambda processor huge buffer", "CreateDeliveryStream", create("h", lambdaProcessing("arn:aws:lambda:us-east-1:000000000000:function:f", "BufferSizeInMBs", "1e308")), e400, tArg),
		firehoseRow("lambda processor negative retries", "CreateDeliveryStream", create("h", lambdaProcessing("arn:aws:lambda:us-east-1:000000000000:function:f", "NumberOfRetries", "-1")), e400, tArg),
		firehoseRow("prefix key without partitioning", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "!{partitionKeyFromQuery:x}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/"}), e400, tArg),
		firehoseRow("prefix error type", "CreateDeliveryStream", create("h", map[string]any{"Prefix": "!{firehose:error-output-type}/"}), e400, tArg),
		firehoseRow("kinesis source internal stream", "CreateDeliveryStream", jsonOf(map[string]any{
			"DeliveryStreamName": "h", "DeliveryStreamType": "KinesisStreamAsSource",
			"KinesisStreamSourceConfiguration":   map[string]any{"KinesisStreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/firehose:x", "RoleARN": "arn:aws:iam::123456789012:role/r"},
			"ExtendedS3DestinationConfiguration": map[string]any{"RoleARN": "arn:aws:iam::123456789012:role/r", "BucketARN": bucket},
		}), e400, tArg),
		firehoseRow("tags not a list", "TagDeliveryStream", str(`{"DeliveryStreamName":"x","Tags":{"a":"b"}}`), e400, tSer),
	}
}

// analyticsRow is a request to the Analytics HTTP API.
func analyticsRow(name, method, path string, body func(*hostileEnv) []byte, status int, errType string) hostileCase {
	return hostileCase{name: "analytics/" + name, method: method, path: path, body: body,
		header: map[string]string{"Content-Type": "application/json"}, status: status, errType: errType}
}

func hostileAnalyticsRows() []hostileCase {
	sql := func(s string) func(*hostileEnv) []byte { return jsonOf(map[string]any{"sql": s}) }
	app := func(name, s string) func(*hostileEnv) []byte { return jsonOf(map[string]any{"name": name, "sql": s}) }
	ok := "SELECT STREAM * FROM `hostile-known`"
	return []hostileCase{
		analyticsRow("unknown path", http.MethodGet, "/v1/nope", nil, e404, tOp),
		// The client cleans the path to /etc/passwd, which the Kinesis API answers.
		analyticsRow("path traversal", http.MethodGet, "/v1/../../etc/passwd", nil, e405, tOp),
		analyticsRow("validate with GET", http.MethodGet, "/v1/validate", nil, e404, tOp),
		analyticsRow("applications with PUT", http.MethodPut, "/v1/applications", str(`{}`), e404, tOp),
		analyticsRow("empty body", http.MethodPost, "/v1/validate", str(``), e400, tSer),
		analyticsRow("null body", http.MethodPost, "/v1/validate", str(`null`), e400, tArg), // no query
		analyticsRow("truncated", http.MethodPost, "/v1/validate", str(`{"sql":"SELECT`), e400, tSer),
		analyticsRow("unknown field", http.MethodPost, "/v1/validate", str(`{"sql":"SELECT 1","admin":true}`), e400, tSer),
		analyticsRow("sql is a number", http.MethodPost, "/v1/validate", str(`{"sql":1}`), e400, tSer),
		analyticsRow("trailing garbage", http.MethodPost, "/v1/validate", str(`{"sql":"SELECT 1"} x`), e400, tSer),
		analyticsRow("100k [", http.MethodPost, "/v1/validate", str(`{"sql":`+strings.Repeat("[", 100000)), e400, tSer),
		analyticsRow("body over 1 MiB", http.MethodPost, "/v1/validate", sql(strings.Repeat(" ", 1<<20)), e413, tArg),
		analyticsRow("sql empty", http.MethodPost, "/v1/validate", sql(""), e400, tArg),
		analyticsRow("sql garbage", http.MethodPost, "/v1/validate", sql("DROP TABLE everything;"), e400, tArg),
		analyticsRow("sql not UTF-8", http.MethodPost, "/v1/validate", str("{\"sql\":\"SELECT '\xff' FROM s\"}"), e400, tArg),
		analyticsRow("sql unterminated string", http.MethodPost, "/v1/validate", sql("SELECT 'abc FROM s"), e400, tArg),
		analyticsRow("sql unknown stream", http.MethodPost, "/v1/validate", sql("SELECT STREAM * FROM `does-not-exist`"), e400, tArg),
		{name: "analytics/sql 1M unary operators", method: http.MethodPost, path: "/v1/validate", header: map[string]string{"Content-Type": "application/json"},
			body: sql("SELECT " + strings.Repeat("!", 1048000) + "1 AS x FROM s"), status: e400, errType: tArg},
		{name: "analytics/sql 100k parentheses", method: http.MethodPost, path: "/v1/validate", header: map[string]string{"Content-Type": "application/json"},
			body: sql("SELECT " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + " FROM s"), status: e400, errType: tArg},
		{name: "analytics/sql 900 KB of additions", method: http.MethodPost, path: "/v1/validate", header: map[string]string{"Content-Type": "application/json"},
			body: sql("SELECT 1" + strings.Repeat("+1", 450000) + " FROM s"), status: e400, errType: tArg},
		{name: "analytics/application with 1M unary operators", method: http.MethodPost, path: "/v1/applications", header: map[string]string{"Content-Type": "application/json"},
			body: app("deep", "SELECT "+strings.Repeat("-", 1048000)+"1 AS x FROM s"), status: e400, errType: tArg},
		{name: "analytics/schema of an internal stream", method: http.MethodGet, path: "/v1/streams/firehose:x/schema", status: e400, errType: tVal},
		{name: "analytics/sql from an internal stream", method: http.MethodPost, path: "/v1/validate", header: map[string]string{"Content-Type": "application/json"},
			body: sql("SELECT STREAM * FROM `firehose:x`"), status: e400, errType: tArg},
		analyticsRow("application name traversal", http.MethodPost, "/v1/applications", app("../x", ok), e400, tArg),
		analyticsRow("application name 129", http.MethodPost, "/v1/applications", app(strings.Repeat("a", 129), ok), e400, tArg),
		analyticsRow("application name empty", http.MethodPost, "/v1/applications", app("", ok), e400, tArg),
		analyticsRow("application name not UTF-8", http.MethodPost, "/v1/applications", str("{\"name\":\"a\xff\",\"sql\":\"SELECT 1\"}"), e400, tArg),
		analyticsRow("describe unknown application", http.MethodGet, "/v1/applications/does-not-exist", nil, e404, tNF),
		analyticsRow("start unknown application", http.MethodPost, "/v1/applications/does-not-exist/start", nil, e404, tNF),
		analyticsRow("delete unknown application", http.MethodDelete, "/v1/applications/does-not-exist", nil, e404, tNF),
		analyticsRow("results of unknown application", http.MethodGet, "/v1/applications/does-not-exist/results", nil, e404, tNF),
		analyticsRow("schema of unknown stream", http.MethodGet, "/v1/streams/does-not-exist/schema", nil, e404, tNF),
		analyticsRow("schema limit negative", http.MethodGet, "/v1/streams/hostile-known/schema?limit=-1", nil, e400, tArg),
		analyticsRow("schema limit huge", http.MethodGet, "/v1/streams/hostile-known/schema?limit=99999999999999999999", nil, e400, tArg),
		analyticsRow("escaped slash in name", http.MethodGet, "/v1/applications/a%2F..%2F..%2Fx", nil, e404, tNF),
	}
}

// grpcRow is a gRPC call.
func grpcRow(name string, call func(ctx context.Context, e *hostileEnv) error, code codes.Code, errType string) hostileCase {
	return hostileCase{name: "grpc/" + name, grpc: call, code: code, errType: errType}
}

// rawCodec sends bytes as they are, to reach the server's decoder with
// messages no generated client would write.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func rawGRPC(method string, msg []byte) func(ctx context.Context, e *hostileEnv) error {
	return func(ctx context.Context, e *hostileEnv) error {
		var out []byte
		return e.conn.Invoke(ctx, method, &msg, &out, grpc.ForceCodec(rawCodec{}))
	}
}

// vt marshals m with its vtprotobuf code, which (unlike protobuf-go) does
// not refuse strings that are not UTF-8: what a hostile peer sends.
func vt(m interface{ MarshalVT() ([]byte, error) }) []byte {
	b, err := m.MarshalVT()
	if err != nil {
		panic(err)
	}
	return b
}

func hostileGRPCRows() []hostileCase {
	put := func(key string) func(ctx context.Context, e *hostileEnv) error {
		return func(ctx context.Context, e *hostileEnv) error {
			_, err := e.kin.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: e.other, PartitionKey: key, Data: []byte("x")})
			return err
		}
	}
	getRecords := func(it func(e *hostileEnv) string) func(ctx context.Context, e *hostileEnv) error {
		return func(ctx context.Context, e *hostileEnv) error {
			_, err := e.kin.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it(e)})
			return err
		}
	}
	describe := func(name string) func(ctx context.Context, e *hostileEnv) error {
		return func(ctx context.Context, e *hostileEnv) error {
			_, err := e.kin.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: name})
			return err
		}
	}
	create := func(name string, shards int32) func(ctx context.Context, e *hostileEnv) error {
		return func(ctx context.Context, e *hostileEnv) error {
			_, err := e.kin.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: name, ShardCount: shards})
			return err
		}
	}
	validate := func(s string) func(ctx context.Context, e *hostileEnv) error {
		return func(ctx context.Context, e *hostileEnv) error {
			_, err := e.an.ValidateSql(ctx, &spatev1.ValidateSqlRequest{Sql: s})
			return err
		}
	}
	const putMethod = "/spate.v1.StreamService/PutRecord"
	return []hostileCase{
		grpcRow("partition key not UTF-8", rawGRPC(putMethod, vt(&spatev1.PutRecordRequest{StreamName: "hostile-other", PartitionKey: "k\xff", Data: []byte("x")})), codes.InvalidArgument, tVal),
		grpcRow("partition key empty", put(""), codes.InvalidArgument, tVal),
		grpcRow("partition key 257", put(strings.Repeat("k", 257)), codes.InvalidArgument, tVal),
		grpcRow("stream name internal", describe("firehose:x"), codes.InvalidArgument, tVal),
		grpcRow("stream name traversal", describe("../x"), codes.InvalidArgument, tVal),
		grpcRow("stream name 129", describe(strings.Repeat("a", 129)), codes.InvalidArgument, tVal),
		grpcRow("stream name not UTF-8", rawGRPC("/spate.v1.StreamService/DescribeStream", vt(&spatev1.DescribeStreamRequest{StreamName: "a\xff"})), codes.InvalidArgument, tVal),
		grpcRow("stream that does not exist", describe("does-not-exist"), codes.NotFound, tNF),
		grpcRow("create internal stream", create("firehose:x", 1), codes.InvalidArgument, tVal),
		grpcRow("create negative shards", create("h2", -1), codes.InvalidArgument, tArg),
		grpcRow("create existing stream", create("hostile-known", 1), codes.FailedPrecondition, tInUse),
		grpcRow("iterator garbage", getRecords(func(*hostileEnv) string { return "garbage" }), codes.InvalidArgument, tArg),
		grpcRow("iterator truncated", getRecords(func(e *hostileEnv) string { it := e.iterator(e.known); return it[:len(it)-3] }), codes.InvalidArgument, tArg),
		grpcRow("iterator expired", getRecords(func(e *hostileEnv) string { return e.expired }), codes.FailedPrecondition, "ExpiredIteratorException"),
		grpcRow("iterator not UTF-8", rawGRPC("/spate.v1.StreamService/GetRecords", vt(&spatev1.GetRecordsRequest{ShardIterator: "\xff\xfe"})), codes.InvalidArgument, tArg),
		grpcRow("message that is not protobuf", rawGRPC(putMethod, []byte{0xff, 0xff, 0xff, 0xff}), codes.Internal, ""),
		grpcRow("message with a length past its end", rawGRPC(putMethod, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}), codes.Internal, ""),
		grpcRow("message with a wrong wire type", rawGRPC(putMethod, []byte{0x0b, 0x0c}), codes.Internal, ""),
		grpcRow("message over the size cap", rawGRPC(putMethod, append([]byte{0x1a, 0x80, 0x80, 0x80, 0x09}, make([]byte, 18<<20)...)), codes.ResourceExhausted, ""),
		grpcRow("unknown method", rawGRPC("/spate.v1.StreamService/DropEverything", nil), codes.Unimplemented, ""),
		grpcRow("unknown service", rawGRPC("/admin.Shell/Exec", nil), codes.Unimplemented, ""),
		grpcRow("validate SQL garbage", validate("DROP TABLE x"), codes.InvalidArgument, tArg),
		{name: "grpc/validate SQL 2 MB of additions", grpc: validate("SELECT 1" + strings.Repeat("+1", 1<<20) + " FROM s"), code: codes.InvalidArgument, errType: tArg},
		{name: "grpc/schema of an internal stream", grpc: func(ctx context.Context, e *hostileEnv) error {
			_, err := e.an.DiscoverSchema(ctx, &spatev1.DiscoverSchemaRequest{StreamName: "firehose:x"})
			return err
		}, code: codes.InvalidArgument, errType: tVal},
		grpcRow("subscribe to a stream that does not exist", func(ctx context.Context, e *hostileEnv) error {
			s, err := e.kin.Subscribe(ctx, &spatev1.SubscribeRequest{StreamName: "does-not-exist", ShardId: "shardId-000000000000",
				StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}, codes.NotFound, tNF),
		grpcRow("firehose prefix ../", func(ctx context.Context, e *hostileEnv) error {
			_, err := e.fh.DescribeDeliveryStream(ctx, &spatev1.DescribeDeliveryStreamRequest{DeliveryStreamName: "../x"})
			return err
		}, codes.InvalidArgument, tArg),
	}
}
