package shard

import (
	"context"
	"errors"
	"testing"

	"github.com/spatehq/spate/apierr"
)

func TestCommitIsAtomicAcrossStreamsAndValues(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"out-a", "out-b"} {
		if err := s.CreateStream(ctx, CreateStreamInput{Name: name, ShardCount: 2}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Commit(ctx, Commit{
		Appends: []StreamAppend{
			{Stream: "out-a", Entries: []Entry{{PartitionKey: "k1", Data: []byte("a1")}, {PartitionKey: "k2", Data: []byte("a2")}}},
			{Stream: "out-b", Entries: []Entry{{PartitionKey: "k3", Data: []byte("b1")}}},
		},
		Namespace: "app",
		Values:    []ValueWrite{{Key: "state", Value: []byte("s1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || len(res[0]) != 2 || len(res[1]) != 1 || res[0][0].SequenceNumber == "" {
		t.Fatalf("results = %+v", res)
	}

	// A commit naming a missing stream changes nothing, not even the values.
	_, err = s.Commit(ctx, Commit{
		Appends:   []StreamAppend{{Stream: "out-a", Entries: []Entry{{PartitionKey: "k", Data: []byte("x")}}}, {Stream: "missing"}},
		Namespace: "app",
		Values:    []ValueWrite{{Key: "state", Value: []byte("s2")}},
	})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.ResourceNotFound {
		t.Fatalf("commit to a missing stream: err = %v, want ResourceNotFound", err)
	}
	// A commit with an invalid entry changes nothing either.
	if _, err := s.Commit(ctx, Commit{
		Appends:   []StreamAppend{{Stream: "out-a", Entries: []Entry{{PartitionKey: "", Data: []byte("x")}}}},
		Namespace: "app", Values: []ValueWrite{{Key: "state", Value: []byte("s3")}},
	}); err == nil {
		t.Fatal("empty partition key accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, ok, err := s.GetValue("app", "state")
	if err != nil || !ok || string(v) != "s1" {
		t.Fatalf("state after reopen = %q, %v, %v; want s1", v, ok, err)
	}
	count := func(stream string) int {
		n := 0
		shards, err := s.ListShards(ctx, ListShardsInput{Stream: stream})
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range shards.Shards {
			c, err := s.Seek(ctx, stream, sh.ShardID, Position{Type: TrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Read(ctx, c, 100, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			n += len(r.Records)
		}
		return n
	}
	if a, b := count("out-a"), count("out-b"); a != 2 || b != 1 {
		t.Fatalf("records after reopen: out-a %d, out-b %d; want 2 and 1", a, b)
	}
}
