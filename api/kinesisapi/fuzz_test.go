package kinesisapi

import (
	"testing"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/apierr"
)

// FuzzDecodeRequest feeds arbitrary bodies to every action's decoder and
// validator. They must never panic, and must either produce a request or
// reject the body as the client's fault (SerializationException or
// ValidationException), never as an internal failure. What they accept
// holds only the text the body sent: no string that was not Unicode text
// is rewritten to U+FFFD.
func FuzzDecodeRequest(f *testing.F) {
	h := newHandler(nil)
	actions := h.Actions()
	seeds := []struct {
		action string
		body   string
	}{
		{"PutRecords", `{"StreamName":"s","Records":[{"Data":"AAE=","PartitionKey":"k","ExplicitHashKey":"12"},{"Data":"","PartitionKey":"😀"}]}`},
		{"PutRecords", `{"StreamName":"s","Records":[{"Data":null},{}, 1]}`},
		{"PutRecord", `{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","Data":"aGk=","PartitionKey":"k","SequenceNumberForOrdering":"0"}`},
		{"PutRecord", `{"Data":"a\u0047k=","PartitionKey":""}`},
		{"CreateStream", `{"StreamName":"s","ShardCount":2,"StreamModeDetails":{"StreamMode":"ON_DEMAND"},"Tags":{"":"v","k":null}}`},
		{"ListShards", `{"StreamName":"s","ShardFilter":{"Type":"AT_TIMESTAMP","Timestamp":"2023-11-14T22:13:20Z"},"StreamCreationTimestamp":1.5e9}`},
		{"GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":"-1.5"}`},
		{"RemoveTagsFromStream", `{"StreamName":"s","TagKeys":["a",""]}`},
		{"DescribeStream", `{"StreamName":"a b","Limit":1e3}`},
		{"DescribeLimits", `null`},
		{"ListStreams", `{"Limit":`},
		{"PutRecord", "{\"StreamName\":\"s\",\"Data\":\"\",\"PartitionKey\":\"k\xff\"}"},
		{"PutRecords", `{"StreamName":"s","Records":[{"Data":"","PartitionKey":"\ud83d\ude00"},{"Data":"","PartitionKey":"\udc00"}]}`},
	}
	for _, s := range seeds {
		for i, a := range actions {
			if a == s.action {
				f.Add(uint8(i), []byte(s.body))
			}
		}
	}
	f.Fuzz(func(t *testing.T, action uint8, body []byte) {
		name := actions[int(action)%len(actions)]
		in, err := h.Decode(name, body)
		if err != nil {
			if code := apierr.CodeOf(err); code != apierr.Serialization && code != apierr.Validation {
				t.Fatalf("%s: %s rejected as %s: %v", name, body, code, err)
			}
			return
		}
		if in == nil {
			t.Fatalf("%s: no error and no request", name)
		}
		awsprototest.CheckNoInventedReplacements(t, body, in)
	})
}
