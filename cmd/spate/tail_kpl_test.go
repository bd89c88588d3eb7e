package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
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

// TestTailKPL: tail prints an aggregate put through the API as its user
// records with their sub-sequence numbers, and as stored with --raw.
func TestTailKPL(t *testing.T) {
	s := startAPIServer(t)
	ctx := clientTestContext(t)
	if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "k", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	agg := kpl.Aggregate([]kpl.Record{{PartitionKey: "a", Data: []byte("u0")}, {PartitionKey: "b", Data: []byte("u1")}, {PartitionKey: "c", Data: []byte("u2")}})
	put, err := s.api.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "k", PartitionKey: "a", Data: agg})
	if err != nil {
		t.Fatal(err)
	}
	// tail prints n lines, then is interrupted.
	tail := func(n int, args ...string) []jsonRecord {
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := s.runTo(tctx, nil, pw, io.Discard, append([]string{"tail", "k", "--from", "trim-horizon", "--format", "json"}, args...)...)
			pw.Close()
			done <- err
		}()
		var out []jsonRecord
		sc := bufio.NewScanner(pr)
		for len(out) < n && sc.Scan() {
			var r jsonRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			out = append(out, r)
		}
		cancel()
		go io.Copy(io.Discard, pr)
		if err := <-done; err != nil {
			t.Fatalf("tail: %v", err)
		}
		return out
	}
	users := tail(3)
	for i, u := range users {
		if u.Sequence != put.GetSequenceNumber() || u.SubSequence == nil || *u.SubSequence != i ||
			string(u.Data) != fmt.Sprintf("u%d", i) || u.PartitionKey != string(rune('a'+i)) {
			t.Errorf("user record %d printed as %+v", i, u)
		}
	}
	if raw := tail(1, "--raw"); len(raw) != 1 || !bytes.Equal(raw[0].Data, agg) || raw[0].SubSequence != nil {
		t.Errorf("--raw printed %+v, want the aggregate as stored", raw)
	}
}
