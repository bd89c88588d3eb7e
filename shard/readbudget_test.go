package shard

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

// budgetStore opens a store with a read budget of budget bytes and one
// shard holding four records of 512 KiB (2 MiB of data), and returns it with
// an iterator at the first record.
func budgetStore(t *testing.T, budget int64, wait time.Duration) (*Store, string) {
	t.Helper()
	s := openTest(t, "", WithReadBudget(budget, wait))
	mustCreate(t, s, "s", 1)
	entries := make([]Entry, 4)
	for i := range entries {
		entries[i] = Entry{PartitionKey: "k", Data: make([]byte, 512<<10)}
	}
	if _, err := s.Append(context.Background(), "s", entries); err != nil {
		t.Fatal(err)
	}
	it, err := s.ShardIterator(context.Background(), "s", "shardId-000000000000", Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	return s, it
}

func TestReadBudget(t *testing.T) {
	const data = 4 * 512 << 10
	// What one GetRecords of the four records holds once it has read them:
	// the records and their base64 reply.
	heldMin := int64(data + data/3*4)
	tests := []struct {
		name   string
		budget int64
		run    func(t *testing.T, s *Store, it string)
	}{
		{"reply holds its cost until Release, the rest is returned", 18 << 20, func(t *testing.T, s *Store, it string) {
			ctx := context.Background()
			a := mustGetRecords(t, s, it)
			if got := a.hold.Bytes(); got < heldMin || got > heldMin+heldMin/4 {
				t.Errorf("a reply of %d bytes holds %d of the budget, want about %d", data, got, heldMin)
			}
			// The bound of a read (about 13 MiB here) was only held while
			// reading: a second read fits beside the first reply.
			b := mustGetRecords(t, s, it)
			_, err := s.GetRecords(ctx, it, 0)
			wantCode(t, err, apierr.ProvisionedThroughputExceeded)
			a.Release()
			a.Release() // twice is harmless
			c := mustGetRecords(t, s, it)
			b.Release()
			c.Release()
		}},
		{"refusal names the shard and says retry", 4 << 20, func(t *testing.T, s *Store, it string) {
			a := mustGetRecords(t, s, it)
			defer a.Release()
			_, err := s.GetRecords(context.Background(), it, 1)
			wantCode(t, err, apierr.ProvisionedThroughputExceeded)
			m, merr := s.StreamMetrics(context.Background(), "s")
			if merr != nil || m.Shards[0].ReadThrottled != 1 {
				t.Errorf("ReadThrottled = %+v, %v; want 1", m.Shards, merr)
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) || !contains(ae.Message, "shardId-000000000000", "read memory is busy", "retry with backoff") {
				t.Errorf("message %q", apierr.MessageOf(err))
			}
		}},
		{"a read at the tip needs no budget", 4 << 20, func(t *testing.T, s *Store, it string) {
			a := mustGetRecords(t, s, it)
			defer a.Release()
			tip := mustGetRecords(t, s, a.NextIterator)
			if len(tip.Records) != 0 {
				t.Fatalf("read at the tip returned %d records", len(tip.Records))
			}
		}},
		{"Read waits for the budget instead of failing", 4 << 20, func(t *testing.T, s *Store, it string) {
			a := mustGetRecords(t, s, it)
			c, err := s.Seek(context.Background(), "s", "shardId-000000000000", Position{Type: TrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				res, err := s.Read(context.Background(), c, MaxGetRecordsLimit, MaxGetRecordsBytes)
				if err == nil && len(res.Records) != 4 {
					err = errors.New("wrong record count")
				}
				done <- err
			}()
			a.Release()
			if err := <-done; err != nil {
				t.Fatalf("Read: %v", err)
			}
		}},
		{"Read gives up when its context ends", 4 << 20, func(t *testing.T, s *Store, it string) {
			a := mustGetRecords(t, s, it)
			defer a.Release()
			c, _ := s.Seek(context.Background(), "s", "shardId-000000000000", Position{Type: TrimHorizon})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := s.Read(ctx, c, MaxGetRecordsLimit, MaxGetRecordsBytes); !errors.Is(err, context.Canceled) {
				t.Fatalf("Read: err = %v, want context.Canceled", err)
			}
		}},
		{"Subscribe holds a batch until its callback returns", 12 << 20, func(t *testing.T, s *Store, it string) {
			errStop := errors.New("stop")
			err := s.Subscribe(context.Background(), "s", "shardId-000000000000", Position{Type: TrimHorizon}, func(r ReadResult) error {
				_, err := s.GetRecords(context.Background(), it, 0)
				wantCode(t, err, apierr.ProvisionedThroughputExceeded)
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Fatalf("Subscribe: %v", err)
			}
			mustGetRecords(t, s, it).Release()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, it := budgetStore(t, tt.budget, time.Millisecond)
			tt.run(t, s, it)
		})
	}
}

func TestNoReadBudget(t *testing.T) {
	s, it := budgetStore(t, 0, 0)
	for range 3 {
		out := mustGetRecords(t, s, it)
		if out.hold != nil {
			t.Fatal("a store without a budget holds one")
		}
		defer out.Release()
	}
}

func mustGetRecords(t *testing.T, s *Store, it string) GetRecordsOutput {
	t.Helper()
	out, err := s.GetRecords(context.Background(), it, 0)
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	return out
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestReadBoundLargeRecords checks that a read's bound covers one record
// of the largest size the stream ever took (UpdateMaxRecordSize), the
// record and its base64 reply.
func TestReadBoundLargeRecords(t *testing.T) {
	for _, largest := range []int{MaxRecordSize, 4 << 20, MaxRecordSizeLimit} {
		got := readBound(1, MaxGetRecordsBytes, largest, admitGetRecords)
		if want := int64(largest + largest/3*4); got < want {
			t.Errorf("bound of one record of %d bytes = %d, want at least %d", largest, got, want)
		}
		if limit := readBound(MaxGetRecordsLimit, MaxGetRecordsBytes, largest, admitGetRecords); limit < got {
			t.Errorf("bound of a full read %d < bound of one record %d", limit, got)
		}
	}
}
