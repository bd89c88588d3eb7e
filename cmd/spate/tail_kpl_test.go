package main

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/spatehq/spate/kpl"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestFormatRecordsKPL(t *testing.T) {
	agg := kpl.Aggregate([]kpl.Record{{PartitionKey: "a", Data: []byte("one")}, {PartitionKey: "b", ExplicitHashKey: "42", Data: []byte("two")}})
	corrupt := append([]byte(nil), agg...)
	corrupt[len(corrupt)-1] ^= 1
	rec := func(data []byte) *spatev1.Record {
		return &spatev1.Record{SequenceNumber: "49000", PartitionKey: "pk", Data: data}
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name   string
		format string
		raw    bool
		data   []byte
		want   string
	}{
		{"text user records", "text", false, agg, "one\ntwo\n"},
		{"json user records", "json", false, agg,
			`{"shard":"s","sequence":"49000","partitionKey":"a","arrival":"","data":"b25l","subSequence":0}` + "\n" +
				`{"shard":"s","sequence":"49000","partitionKey":"b","arrival":"","data":"dHdv","subSequence":1,"explicitHashKey":"42"}` + "\n"},
		{"json raw", "json", true, agg,
			`{"shard":"s","sequence":"49000","partitionKey":"pk","arrival":"","data":"` + b64(agg) + `"}` + "\n"},
		{"json corrupt as stored", "json", false, corrupt,
			`{"shard":"s","sequence":"49000","partitionKey":"pk","arrival":"","data":"` + b64(corrupt) + `"}` + "\n"},
		{"plain", "text", false, []byte("plain"), "plain\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := formatRecords(&buf, tt.format, "s", rec(tt.data), tt.raw); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("got  %s\nwant %s", buf.String(), tt.want)
			}
		})
	}
}
