package kinesisapi

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

// decodeFor decodes body as a request of action, as the handler does.
func decodeFor(t testing.TB, h *handler, action, body string) (any, error) {
	t.Helper()
	return h.Decode(action, []byte(body))
}

func TestValidateAgainstModel(t *testing.T) {
	h := newHandler(nil)
	const validationPrefix = "1 validation error detected: "
	tests := []struct {
		name   string
		action string
		body   string
		// want is the exact message; "" means the request is valid.
		want string
	}{
		{"valid put", "PutRecord", `{"StreamName":"s","Data":"AAE=","PartitionKey":"k"}`, ""},
		{"valid arn", "PutRecord", `{"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","Data":"","PartitionKey":"k"}`, ""},
		{"valid empty", "DescribeLimits", `{}`, ""},
		{"unknown members ignored", "ListStreams", `{"Bogus":1,"Limit":5}`, ""},
		{"pattern", "DescribeStream", `{"StreamName":"a b"}`,
			validationPrefix + "Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"pattern is anchored at both ends", "PutRecord", `{"StreamName":"s","Data":"","PartitionKey":"k","ExplicitHashKey":"01"}`,
			validationPrefix + `Value '01' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})`},
		{"pattern repetition bound", "PutRecord", `{"StreamName":"s","Data":"","PartitionKey":"k","ExplicitHashKey":"1` + strings.Repeat("0", 39) + `"}`,
			validationPrefix + "Value '1" + strings.Repeat("0", 39) + `' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})`},
		{"hash key at the limit", "PutRecord", `{"StreamName":"s","Data":"","PartitionKey":"k","ExplicitHashKey":"1` + strings.Repeat("0", 38) + `"}`, ""},
		{"sequence number for ordering", "PutRecord", `{"StreamName":"s","Data":"","PartitionKey":"k","SequenceNumberForOrdering":"abc"}`,
			validationPrefix + `Value 'abc' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,128})`},
		{"arn pattern", "DescribeStreamSummary", `{"StreamARN":"arn:aws:kinesis:us-east-1:123:stream/s"}`,
			validationPrefix + `Value 'arn:aws:kinesis:us-east-1:123:stream/s' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:stream/\S+`},
		{"empty string breaks pattern and min length", "DeleteStream", `{"StreamName":""}`,
			"2 validation errors detected: " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"string max length", "DeleteStream", `{"StreamName":"` + strings.Repeat("a", 129) + `"}`,
			validationPrefix + "Value '" + strings.Repeat("a", 129) + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"string at max length", "DeleteStream", `{"StreamName":"` + strings.Repeat("a", 128) + `"}`, ""},
		{"length counts UTF-16 units: 128 astral runes are 256", "PutRecord",
			`{"StreamName":"s","Data":"","PartitionKey":"` + strings.Repeat("😀", 128) + `"}`, ""},
		{"length counts UTF-16 units: 129 astral runes are 258", "PutRecord",
			`{"StreamName":"s","Data":"","PartitionKey":"` + strings.Repeat("😀", 129) + `"}`,
			validationPrefix + "Value '" + strings.Repeat("😀", 129) + "' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"length counts UTF-16 units: 256 two-byte runes", "PutRecord",
			`{"StreamName":"s","Data":"","PartitionKey":"` + strings.Repeat("é", 256) + `"}`, ""},
		{"required members", "PutRecord", `{}`,
			"2 validation errors detected: " +
				"Value null at 'data' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'partitionKey' failed to satisfy constraint: Member must not be null"},
		{"null is missing", "GetRecords", `{"ShardIterator":null}`,
			validationPrefix + "Value null at 'shardIterator' failed to satisfy constraint: Member must not be null"},
		{"integer min", "DescribeStream", `{"StreamName":"s","Limit":0}`,
			validationPrefix + "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"integer max", "ListShards", `{"StreamName":"s","MaxResults":10001}`,
			validationPrefix + "Value '10001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"integer at bounds", "GetRecords", `{"ShardIterator":"x","Limit":10000}`, ""},
		{"enum", "GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"OLDEST"}`,
			validationPrefix + "Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"},
		{"nested required", "ListShards", `{"StreamName":"s","ShardFilter":{}}`,
			validationPrefix + "Value null at 'shardFilter.type' failed to satisfy constraint: Member must not be null"},
		{"nested enum and pattern", "ListShards", `{"StreamName":"s","ShardFilter":{"Type":"NEWEST","ShardId":"a/b"}}`,
			"2 validation errors detected: " +
				"Value 'NEWEST' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]; " +
				"Value 'a/b' at 'shardFilter.shardId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"nested structure enum", "CreateStream", `{"StreamName":"s","StreamModeDetails":{"StreamMode":"FAST"}}`,
			validationPrefix + "Value 'FAST' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]"},
		{"list min", "PutRecords", `{"StreamName":"s","Records":[]}`,
			validationPrefix + "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"list member paths", "PutRecords", `{"StreamName":"s","Records":[{"Data":"","PartitionKey":""},{"PartitionKey":"k"},{"Data":"","PartitionKey":"k","ExplicitHashKey":"x"}]}`,
			"3 validation errors detected: " +
				"Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value null at 'records.2.member.data' failed to satisfy constraint: Member must not be null; " +
				`Value 'x' at 'records.3.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})`},
		{"list of strings", "RemoveTagsFromStream", `{"StreamName":"s","TagKeys":["a",""]}`,
			validationPrefix + "Value '[a, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"list max", "RemoveTagsFromStream", `{"StreamName":"s","TagKeys":[` + strings.TrimSuffix(strings.Repeat(`"k",`, 51), ",") + `]}`,
			validationPrefix + "Value '[" + strings.TrimSuffix(strings.Repeat("k, ", 51), ", ") + "]' at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"map min", "AddTagsToStream", `{"StreamName":"s","Tags":{}}`,
			validationPrefix + "Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"map keys", "AddTagsToStream", `{"StreamName":"s","Tags":{"":"v","b":"w"}}`,
			validationPrefix + "Value '{=v, b=w}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"map values", "CreateStream", `{"StreamName":"s","Tags":{"k":"` + strings.Repeat("v", 257) + `"}}`,
			validationPrefix + "Value '{k=" + strings.Repeat("v", 257) + "}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"},
		{"errors in model order", "GetShardIterator", `{"StreamName":"a b","ShardIteratorType":"X"}`,
			"3 validation errors detected: " +
				"Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value null at 'shardId' failed to satisfy constraint: Member must not be null; " +
				"Value 'X' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"},
		{"positive integer", "CreateStream", `{"StreamName":"s","ShardCount":0,"MaxRecordSizeInKiB":100}`,
			"2 validation errors detected: " +
				"Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '100' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value greater than or equal to 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := decodeFor(t, h, tt.action, tt.body)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if in == nil {
					t.Fatal("decode returned no request")
				}
				return
			}
			if code := apierr.CodeOf(err); code != apierr.Validation {
				t.Fatalf("code = %s (%v), want ValidationException", code, err)
			}
			if got := apierr.MessageOf(err); got != tt.want {
				t.Errorf("message\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestValidateManyErrors(t *testing.T) {
	h := newHandler(nil)
	var recs []string
	for range 12 {
		recs = append(recs, `{"Data":""}`)
	}
	_, err := decodeFor(t, h, "PutRecords", `{"StreamName":"s","Records":[`+strings.Join(recs, ",")+`]}`)
	msg := apierr.MessageOf(err)
	if !strings.HasPrefix(msg, "12 validation errors detected: Value null at 'records.1.member.partitionKey'") {
		t.Errorf("message starts wrong: %.120s", msg)
	}
	if n := strings.Count(msg, "Member must not be null"); n != 10 {
		t.Errorf("message lists %d failures, want 10", n)
	}
	if !strings.HasSuffix(msg, "; and 2 more") {
		t.Errorf("message should end with the count of unlisted failures: ...%s", msg[len(msg)-40:])
	}
}

func TestValidateLongValueIsCut(t *testing.T) {
	h := newHandler(nil)
	recs := strings.TrimSuffix(strings.Repeat(`{"Data":"","PartitionKey":"k"},`, 501), ",")
	_, err := decodeFor(t, h, "PutRecords", `{"StreamName":"s","Records":[`+recs+`]}`)
	msg := apierr.MessageOf(err)
	if apierr.CodeOf(err) != apierr.Validation ||
		!strings.HasPrefix(msg, "1 validation error detected: Value '[PutRecordsRequestEntry(data=java.nio.HeapByteBuffer[pos=0 lim=0 cap=0], partitionKey=k), ") ||
		!strings.HasSuffix(msg, "...' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500") {
		t.Fatalf("got %v", err)
	}
	if len(msg) > 2*1024 {
		t.Errorf("message is %d bytes long; the value should be cut near 1024", len(msg))
	}
}

func TestDecodeSerializationErrors(t *testing.T) {
	h := newHandler(nil)
	tests := []struct {
		name, action, body string
		wantInMessage      string
	}{
		{"empty body", "DescribeLimits", ``, "request body is empty"},
		{"whitespace body", "DescribeLimits", "  \n", "request body is empty"},
		{"null body", "DescribeLimits", `null`, "must be a JSON object, got JSON null"},
		{"array body", "ListStreams", `[]`, "must be a JSON object, got JSON array"},
		{"malformed", "ListStreams", `{"Limit":`, "not valid JSON"},
		{"trailing garbage", "ListStreams", `{} x`, "not valid JSON"},
		{"bad base64 character", "PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"!!!!"}`, "can not be converted to a Blob"},
		{"bad base64 length", "PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"abc"}`, "can not be converted to a Blob"},
		{"unpadded base64", "PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"AAE"}]}`, "can not be converted to a Blob"},
		{"blob as number", "PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":12}`, "expected a base64 string"},
		{"string as number", "DescribeStream", `{"StreamName":12}`, "'StreamName' must be a string, got JSON number"},
		{"integer as string", "DescribeStream", `{"StreamName":"s","Limit":"5"}`, "'Limit' must be an integer"},
		{"integer with fraction", "DescribeStream", `{"StreamName":"s","Limit":1.5}`, "got JSON number 1.5"},
		{"integer overflow", "DescribeStream", `{"StreamName":"s","Limit":3000000000}`, "got JSON number 3000000000"},
		{"list as object", "PutRecords", `{"StreamName":"s","Records":{}}`, "'Records' must be a list"},
		{"list member as string", "PutRecords", `{"StreamName":"s","Records":["x"]}`, "must be a structure"},
		{"map as list", "AddTagsToStream", `{"StreamName":"s","Tags":[]}`, "'Tags' must be a map"},
		{"boolean as string", "DeleteStream", `{"StreamName":"s","EnforceConsumerDeletion":"yes"}`, "must be a boolean"},
		{"timestamp as boolean", "GetShardIterator", `{"StreamName":"s","ShardId":"x","ShardIteratorType":"AT_TIMESTAMP","Timestamp":true}`, "expected a timestamp"},
		{"timestamp as word", "GetShardIterator", `{"StreamName":"s","ShardId":"x","ShardIteratorType":"AT_TIMESTAMP","Timestamp":"yesterday"}`, "not a valid timestamp"},
		{"timestamp out of range", "GetShardIterator", `{"StreamName":"s","ShardId":"x","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1e300}`, "not a valid timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeFor(t, h, tt.action, tt.body)
			if code := apierr.CodeOf(err); code != apierr.Serialization {
				t.Fatalf("code = %s (%v), want SerializationException", code, err)
			}
			if msg := apierr.MessageOf(err); !strings.Contains(msg, tt.wantInMessage) {
				t.Errorf("message %q does not contain %q", msg, tt.wantInMessage)
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	h := newHandler(nil)
	t.Run("blob", func(t *testing.T) {
		in, err := decodeFor(t, h, "PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"aGVs\u0062A=="}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(in.(*putRecordRequest).Data); got != "hell" {
			t.Errorf("Data = %q, want %q", got, "hell")
		}
	})
	t.Run("empty blob is present", func(t *testing.T) {
		in, err := decodeFor(t, h, "PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":""}`)
		if err != nil {
			t.Fatal(err)
		}
		if d := in.(*putRecordRequest).Data; d == nil || len(d) != 0 {
			t.Errorf("Data = %#v, want empty non-nil", d)
		}
	})
	want := time.UnixMilli(1700000000123)
	for _, ts := range []string{`1700000000.123`, `"1700000000.123"`, `1.700000000123e9`, `"2023-11-14T22:13:20.123Z"`, `1700000000.1230001`} {
		t.Run("timestamp "+ts, func(t *testing.T) {
			in, err := decodeFor(t, h, "GetShardIterator",
				`{"StreamName":"s","ShardId":"x","ShardIteratorType":"AT_TIMESTAMP","Timestamp":`+ts+`}`)
			if err != nil {
				t.Fatal(err)
			}
			got := time.Time(*in.(*getShardIteratorRequest).Timestamp)
			if d := got.Sub(want); d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("Timestamp = %v, want %v", got, want)
			}
		})
	}
	t.Run("integer timestamp", func(t *testing.T) {
		in, err := decodeFor(t, h, "ListShards", `{"StreamName":"s","StreamCreationTimestamp":1700000000}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Time(*in.(*listShardsRequest).StreamCreationTimestamp); !got.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("StreamCreationTimestamp = %v", got)
		}
	})
}

func TestServedActions(t *testing.T) {
	h := newHandler(nil)
	want := []string{
		"AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteResourcePolicy", "DeleteStream",
		"DeregisterStreamConsumer", "DescribeAccountSettings", "DescribeLimits",
		"DescribeStream", "DescribeStreamConsumer", "DescribeStreamSummary", "DisableEnhancedMonitoring", "EnableEnhancedMonitoring", "GetRecords",
		"GetResourcePolicy", "GetShardIterator", "IncreaseStreamRetentionPeriod",
		"ListShards", "ListStreamConsumers", "ListStreams", "ListTagsForResource", "ListTagsForStream", "MergeShards", "PutRecord", "PutRecords",
		"PutResourcePolicy", "RegisterStreamConsumer", "RemoveTagsFromStream", "SplitShard", "StartStreamEncryption", "StopStreamEncryption", "SubscribeToShard", "TagResource", "UntagResource", "UpdateAccountSettings",
		"UpdateMaxRecordSize", "UpdateShardCount", "UpdateStreamMode", "UpdateStreamWarmThroughput",
	}
	if got := h.Actions(); !reflect.DeepEqual(got, want) {
		t.Errorf("served actions = %v, want %v", got, want)
	}
	// Every action of the 2013-12-02 model is served (issue 13 served the
	// last ones: resharding and SubscribeToShard).
	if unsupported := h.UnsupportedActions(); len(unsupported) != 0 {
		t.Errorf("unsupported actions = %v, want none", unsupported)
	}
}
