package shard

import (
	"context"
	"testing"
)

func TestValues(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteValues(ctx, "fh", ValueWrite{Key: "ds/a", Value: []byte("1")}, ValueWrite{Key: "ds/b", Value: []byte("2")},
		ValueWrite{Key: "ck/a", Value: []byte("3")}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteValues(ctx, "other", ValueWrite{Key: "ds/z", Value: []byte("9")}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteValues(ctx, "fh", ValueWrite{Key: "ds/b", Delete: true}, ValueWrite{Key: "ds/c", Value: []byte("4")}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s = openTest(t, dir)
	got := map[string]string{}
	if err := s.ScanValues("fh", "ds/", func(k string, v []byte) error { got[k] = string(v); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["ds/a"] != "1" || got["ds/c"] != "4" {
		t.Fatalf("scan fh/ds/ = %v, want ds/a=1 ds/c=4", got)
	}
	v, ok, err := s.GetValue("fh", "ck/a")
	if err != nil || !ok || string(v) != "3" {
		t.Fatalf("GetValue = %q %v %v", v, ok, err)
	}
	if _, ok, _ := s.GetValue("fh", "ds/b"); ok {
		t.Fatal("deleted value still there")
	}
}

func TestInternalStreams(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", WithShardLimit(1))
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "firehose:orders", ShardCount: 1, Internal: true}); err != nil {
		t.Fatal(err)
	}
	// Internal streams do not count against the account's shard limit.
	mustCreate(t, s, "public", 1)
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "firehose:x", ShardCount: 1}); err == nil {
		t.Fatal("a public stream took an internal name")
	}
	out, err := s.ListStreams(ctx, ListStreamsInput{})
	if err != nil || len(out.Streams) != 1 || out.Streams[0].Name != "public" {
		t.Fatalf("ListStreams = %+v, %v; want only the public stream", out.Streams, err)
	}
	if _, err := s.Append(ctx, "firehose:orders", []Entry{{PartitionKey: "k", Data: []byte("x")}}); err != nil {
		t.Fatalf("append to internal stream: %v", err)
	}
	if got := readAll(t, s, "firehose:orders", "shardId-000000000000", Position{Type: TrimHorizon}); len(got) != 1 {
		t.Fatalf("internal stream holds %d records", len(got))
	}
}
