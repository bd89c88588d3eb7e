package kinesisapi

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

// TestPartitionKeyMustBeUnicode: a partition key that is not Unicode text
// is refused as gRPC refuses it (ValidationException), whether it arrives as
// raw bytes that are not UTF-8 or as an unpaired surrogate escape, by
// PutRecord and by PutRecords (whose fast decoder leaves such bodies to
// encoding/json, which turned both into U+FFFD and stored them).
func TestPartitionKeyMustBeUnicode(t *testing.T) {
	c := newStoreServer(t, nil)
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	data := base64.StdEncoding.EncodeToString([]byte("x"))
	one := func(key string) string {
		return `{"StreamName":"s","Data":"` + data + `","PartitionKey":"` + key + `"}`
	}
	batch := func(key string) string {
		return `{"StreamName":"s","Records":[{"Data":"` + data + `","PartitionKey":"ok"},{"Data":"` + data + `","PartitionKey":"` + key + `"}]}`
	}
	for _, tt := range []struct {
		name, key, want string
	}{
		{"raw bytes", "k\xff\xfe", "byte 0xff"},
		{"truncated sequence", "k\xe2\x82", "byte 0xe2"},
		{"overlong encoding", "\xc0\xaf", "byte 0xc0"},
		{"encoded surrogate", "\xed\xa0\x80", "byte 0xed"},
		{"lone high surrogate escape", `\ud800`, `\ud800`},
		{"lone low surrogate escape", `\uDC00x`, `\uDC00`},
		{"reversed pair", `\udc00\ud800`, `\udc00`},
		{"high surrogate then other escape", `\ud83d\u0041`, `\ud83d`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.FailsWith("PutRecord", one(tt.key), 400, "ValidationException", tt.want)
			if want := "at 'partitionKey' failed to satisfy constraint: Member must be valid Unicode text"; !strings.Contains(r.Message(), want) {
				t.Errorf("PutRecord message %q, want it to contain %q", r.Message(), want)
			}
			r = c.FailsWith("PutRecords", batch(tt.key), 400, "ValidationException", tt.want)
			if want := "at 'records.2.member.partitionKey'"; !strings.Contains(r.Message(), want) {
				t.Errorf("PutRecords message %q, want it to contain %q", r.Message(), want)
			}
		})
	}

	// What is Unicode passes, escaped or not, and reads back as sent.
	for _, key := range []string{`\ud83d\ude00`, "😀", `\u00e9`, `\\ud800`} {
		c.OK("PutRecord", one(key))
	}
	it := c.OK("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"].(string)
	var keys []string
	for _, r := range c.OK("GetRecords", map[string]any{"ShardIterator": it})["Records"].([]any) {
		keys = append(keys, r.(map[string]any)["PartitionKey"].(string))
	}
	if want := []string{"😀", "😀", "é", `\ud800`}; !slices.Equal(keys, want) {
		t.Errorf("stored keys %q, want %q (and nothing refused)", keys, want)
	}
}
