package shard

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestOpenOnFullDiskServesReads restarts a store whose WAL was never
// flushed on a disk with no byte free. It opens at once, read-only: every
// acknowledged record and value reads back, and every write is refused with
// a *DiskFullError without touching the disk. Once space returns it turns
// writable by itself, without a reopen. Before the read-only start, Open
// waited for the flush of the replayed WAL, which never fit.
func TestOpenOnFullDiskServesReads(t *testing.T) {
	ctx := context.Background()
	crashed, acked := crashedStore(t)
	disk := newSmallDisk(crashed, 0) // not a byte free

	// A bound, not an assertion: before the fix Open never returned.
	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, err := OpenContext(openCtx, "db", withFS(disk), WithMinFreeDisk(1<<20), WithTrimInterval(time.Hour))
	if err != nil {
		t.Fatalf("OpenContext on a full disk: %v", err)
	}
	defer s.Close()
	if !s.ReadOnly() {
		t.Fatal("the store opened on a full disk is not read-only")
	}

	checkReads := func() {
		t.Helper()
		n := 0
		for _, sh := range []string{ShardID(0), ShardID(1)} {
			for _, r := range readAll(t, s, "s", sh, Position{Type: TrimHorizon}) {
				if want, ok := acked[r.SequenceNumber]; ok && string(r.Data) != want {
					t.Fatalf("record %s reads back %q, want %q", r.SequenceNumber, r.Data, want)
				}
				if _, ok := acked[r.SequenceNumber]; ok {
					n++
				}
			}
		}
		if n != len(acked) {
			t.Fatalf("read back %d of %d acknowledged records", n, len(acked))
		}
		if v, ok, err := s.GetValue("ns", "k"); err != nil || !ok || string(v) != "v" {
			t.Fatalf("GetValue = %q, %v, %v; want \"v\"", v, ok, err)
		}
		if _, err := s.DescribeStreamSummary(ctx, "s"); err != nil {
			t.Fatalf("DescribeStreamSummary: %v", err)
		}
		if out, err := s.ListStreams(ctx, ListStreamsInput{}); err != nil || len(out.Streams) != 1 {
			t.Fatalf("ListStreams = %v, %v", out, err)
		}
	}
	checkReads()

	for name, write := range map[string]func() error{
		"Append": func() error {
			_, err := s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte("x")}})
			return err
		},
		"Commit": func() error {
			_, err := s.Commit(ctx, Commit{Appends: []StreamAppend{{Stream: "s", Entries: []Entry{{PartitionKey: "k", Data: []byte("x")}}}}})
			return err
		},
		"CreateStream": func() error { return s.CreateStream(ctx, CreateStreamInput{Name: "t", ShardCount: 1}) },
		"DeleteStream": func() error { return s.DeleteStream(ctx, "s") },
		"AddTags":      func() error { return s.AddTags(ctx, "s", map[string]string{"a": "b"}) },
		"WriteValues":  func() error { return s.WriteValues(ctx, "ns", ValueWrite{Key: "k", Value: []byte("w")}) },
	} {
		err := write()
		t.Logf("%s: %v", name, err)
		wantDiskFull(t, err)
	}
	if err := s.TrimExpired(ctx); err != nil {
		t.Fatalf("TrimExpired while read-only: %v", err)
	}
	checkReads() // the refused writes changed nothing

	// Space returns: the watcher reopens the store for writing.
	disk.grow(64 << 20)
	deadline := time.Now().Add(time.Minute)
	for s.ReadOnly() {
		if time.Now().After(deadline) {
			t.Fatal("the store is still read-only a minute after space returned")
		}
		time.Sleep(10 * time.Millisecond)
	}
	res, err := s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte("after")}})
	if err != nil {
		t.Fatalf("Append once space returned: %v", err)
	}
	acked[res[0].SequenceNumber] = "after"
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "t", ShardCount: 1}); err != nil {
		t.Fatalf("CreateStream once space returned: %v", err)
	}
	if err := s.WriteValues(ctx, "ns", ValueWrite{Key: "k", Value: []byte("v")}); err != nil {
		t.Fatalf("WriteValues once space returned: %v", err)
	}
	n := 0
	for _, sh := range []string{ShardID(0), ShardID(1)} {
		n += len(readAll(t, s, "s", sh, Position{Type: TrimHorizon}))
	}
	if n != len(acked) {
		t.Fatalf("read %d records after the upgrade, %d acknowledged", n, len(acked))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, enospc, _ := disk.usage(); enospc != 0 {
		t.Fatalf("%d writes failed with ENOSPC: the full disk was written to", enospc)
	}
}

// crashedStore is a store in memory that crashed with records (stream "s",
// two shards) and a value ("ns", "k") acknowledged but only in its WAL: a
// restart must flush the WAL before it may write.
func crashedStore(t *testing.T) (vfs.FS, map[string]string) {
	t.Helper()
	ctx := context.Background()
	mem := vfs.NewCrashableMem()
	s, err := Open("db", withFS(mem), WithMinFreeDisk(0))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s", 2)
	acked := map[string]string{}
	for i := range 50 {
		data := fmt.Sprint("record ", i)
		res, err := s.Append(ctx, "s", []Entry{{PartitionKey: fmt.Sprint(i), Data: []byte(data)}})
		if err != nil {
			t.Fatal(err)
		}
		acked[res[0].SequenceNumber] = data
	}
	if err := s.WriteValues(ctx, "ns", ValueWrite{Key: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	_ = s.Close()
	return crashed, acked
}

// TestOpenUnderReserveIsWritable restarts a store with room to flush its
// WAL but less than the reserve free: it opens read-write, so deletions
// free space while the reserve refuses appends.
func TestOpenUnderReserveIsWritable(t *testing.T) {
	ctx := context.Background()
	crashed, _ := crashedStore(t)
	disk := newSmallDisk(crashed, 32<<20)
	s := openTest(t, "db", withFS(disk), WithMinFreeDisk(64<<20))
	if s.ReadOnly() {
		t.Fatal("a store with room to flush its WAL opened read-only")
	}
	_, err := s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte("x")}})
	wantDiskFull(t, err)
	if full := err.(*DiskFullError); full.ReadOnly {
		t.Errorf("refusal under the reserve says the store is read-only: %v", err)
	}
	if err := s.DeleteStream(ctx, "s"); err != nil {
		t.Fatalf("DeleteStream under the reserve: %v", err)
	}
}
