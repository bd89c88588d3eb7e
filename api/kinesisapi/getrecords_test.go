package kinesisapi

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/shard"
)

// TestGetRecordsAppendJSON checks that the reply's own encoder writes what
// encoding/json writes, for the strings and values that need care.
func TestGetRecordsAppendJSON(t *testing.T) {
	at := awsproto.EpochSeconds(time.UnixMilli(1700000000123))
	tests := []struct {
		name  string
		reply getRecordsReply
	}{
		{"empty", getRecordsReply{Records: blockOf([]recordOut{}), NextShardIterator: "it", MillisBehindLatest: 0}},
		{"no iterator (shard ended) and child shards", getRecordsReply{Records: blockOf([]recordOut{}),
			ChildShards: []childShardOut{{ShardID: "shardId-000000000002", ParentShards: []string{"shardId-000000000000"}, HashKeyRange: hashKeyRange{StartingHashKey: "0", EndingHashKey: "9"}}}}},
		{"plain", getRecordsReply{Records: blockOf([]recordOut{
			{SequenceNumber: "49" + strings.Repeat("0", 54), ApproximateArrivalTimestamp: at, Data: []byte("hello"), PartitionKey: "k-1"},
			{SequenceNumber: "2", ApproximateArrivalTimestamp: awsproto.EpochSeconds(time.UnixMilli(-1500)), Data: []byte{}, PartitionKey: "x"},
		}), NextShardIterator: "AAAA-_", MillisBehindLatest: 12345}},
		{"nil data is empty, not null", getRecordsReply{Records: blockOf([]recordOut{{SequenceNumber: "1", ApproximateArrivalTimestamp: at, PartitionKey: "k"}})}},
		{"encrypted and clear", getRecordsReply{Records: blockOf([]recordOut{
			{SequenceNumber: "1", ApproximateArrivalTimestamp: at, Data: []byte("sealed"), PartitionKey: "k", EncryptionType: "KMS"},
			{SequenceNumber: "2", ApproximateArrivalTimestamp: at, Data: []byte("clear"), PartitionKey: "k"},
		}), NextShardIterator: "it"}},
		{"keys that need escaping", getRecordsReply{Records: blockOf([]recordOut{
			{SequenceNumber: "1", ApproximateArrivalTimestamp: at, Data: []byte{0, 1, 2, 255}, PartitionKey: `quote " and \ backslash`},
			{SequenceNumber: "2", ApproximateArrivalTimestamp: at, Data: []byte("d"), PartitionKey: "<html> & \u2028 \x01 \b \f \n \t é 日本"},
			{SequenceNumber: "3", ApproximateArrivalTimestamp: at, Data: []byte("d"), PartitionKey: "bad utf-8 \xff\xfe"},
			{SequenceNumber: "4", ApproximateArrivalTimestamp: at, Data: []byte("d"), PartitionKey: "del \x7f"},
		}), MillisBehindLatest: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantJSON := referenceJSON(t, struct {
				Records []recordOut `json:"Records"`
				getRecordsReply
			}{recordsOf(tt.reply.Records), tt.reply})
			got := string(tt.reply.AppendJSON(nil))
			if got != wantJSON {
				t.Errorf("AppendJSON\n got: %s\nwant: %s", got, wantJSON)
			}
			if n := tt.reply.JSONLen(); n < len(got) {
				t.Errorf("JSONLen = %d, shorter than the %d bytes written", n, len(got))
			}
		})
	}
}

// TestGetRecordsReleasesBudget checks that each reply gives the store's read
// budget back once written: with a budget that fits one reply, reads one
// after another all succeed, and only a read while a reply is held would
// be refused.
func TestGetRecordsReleasesBudget(t *testing.T) {
	c := newStoreServer(t, []shard.Option{shard.WithReadBudget(8<<20, time.Millisecond)})
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	data := base64.StdEncoding.EncodeToString(make([]byte, 64<<10))
	for range 4 {
		c.OK("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": data})
	}
	it := c.OK("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
	for i := range 3 {
		got := c.OK("GetRecords", map[string]any{"ShardIterator": it})
		if n := len(got["Records"].([]any)); n != 4 {
			t.Fatalf("read %d: %d records, want 4", i, n)
		}
	}
}

// TestGetRecordsEmptyData checks that a zero-length record (Data has no
// minimum length) comes back with "Data":"", not null: Data is a required
// member of Record, and boto3 drops a null member, so record["Data"] raised
// KeyError in every boto3 consumer.
func TestGetRecordsEmptyData(t *testing.T) {
	c := newStoreServer(t, nil)
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	c.OK("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": ""})
	it := c.OK("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
	recs := c.OK("GetRecords", map[string]any{"ShardIterator": it})["Records"].([]any)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if data, ok := recs[0].(map[string]any)["Data"].(string); !ok || data != "" {
		t.Errorf("the empty record's Data is %#v, want \"\"", recs[0].(map[string]any)["Data"])
	}
}

// TestGetRecordsReusedBlocks: GetRecords replies are encoded from blocks the
// handler recycles (recordBlocks); replies read one after another, large
// and small, from shards with different records, each come back whole and
// with their own records, never another read's.
func TestGetRecordsReusedBlocks(t *testing.T) {
	c := newStoreServer(t, nil)
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 2})
	want := map[string][]string{}
	for i := range 300 {
		sh := i % 2
		d := strings.Repeat(string(rune('a'+sh)), 10+sh*500) + strconv.Itoa(i)
		c.OK("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": base64.StdEncoding.EncodeToString([]byte(d)),
			"ExplicitHashKey": []string{"0", "340282366920938463463374607431768211455"}[sh]})
		id := shard.ShardID(uint32(sh))
		want[id] = append(want[id], d)
	}
	for round := range 6 {
		for _, id := range []string{shard.ShardID(1), shard.ShardID(0)} {
			it := c.OK("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
			in := map[string]any{"ShardIterator": it}
			if round%2 == 1 {
				in["Limit"] = 3 // a small read into a block a large one used
			}
			recs := c.OK("GetRecords", in)["Records"].([]any)
			if len(recs) == 0 || len(recs) > len(want[id]) {
				t.Fatalf("round %d, %s: %d records", round, id, len(recs))
			}
			for i, r := range recs {
				got, err := base64.StdEncoding.DecodeString(r.(map[string]any)["Data"].(string))
				if err != nil || string(got) != want[id][i] {
					t.Fatalf("round %d, %s, record %d: %q, want %q", round, id, i, got, want[id][i])
				}
			}
		}
	}
}
