package shard

import (
	"context"
	"fmt"
	"testing"

	"github.com/spatehq/spate/apierr"
)

// keyOfShard returns a partition key that a 2-shard stream routes to shard
// half (0 or 1), the n-th such key.
func keyOfShard(half, n int) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("k%d", i)
		if int(partitionHash(k).hi>>63) == half {
			if n == 0 {
				return k
			}
			n--
		}
	}
}

// TestStartAppendKeepsStartOrder: appends started one after the other
// commit in that order, though none was waited for before the next.
func TestStartAppendKeepsStartOrder(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 1)
	var pending []*PendingAppend
	for i := range 200 {
		p, err := s.StartAppend(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte{byte(i)}}})
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p)
	}
	prev := ""
	for i, p := range pending {
		res, err := p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if seq := res[0].SequenceNumber; seq <= prev {
			t.Fatalf("append %d got sequence number %s, not after %s", i, seq, prev)
		}
		prev = res[0].SequenceNumber
	}
	got := readAll(t, s, "s", "shardId-000000000000", Position{Type: TrimHorizon})
	for i, r := range got {
		if r.Data[0] != byte(i) {
			t.Fatalf("record %d holds %d", i, r.Data[0])
		}
	}
}

// TestStartAppendRefusesTheRestOfAShard: under StartAppend a refused
// record refuses every later one of its shard, and only of its shard;
// Append refuses records one by one.
func TestStartAppendRefusesTheRestOfAShard(t *testing.T) {
	ctx := context.Background()
	a0, a1, b0, b1 := keyOfShard(0, 0), keyOfShard(0, 1), keyOfShard(1, 0), keyOfShard(1, 1)
	tests := []struct {
		name    string
		keys    []string
		refuse  map[int]apierr.Code // injected faults by entry
		ordered bool
		want    []string // error code of each entry; "" stored
	}{
		{"no fault", []string{a0, b0, a1}, nil, true, []string{"", "", ""}},
		{"the rest of shard 0", []string{a0, b0, a1, b1, a0}, map[int]apierr.Code{0: apierr.InternalFailure}, true,
			[]string{"InternalFailure", "", "InternalFailure", "", "InternalFailure"}},
		{"a refusal in each shard", []string{a0, b0, a1, b1, a0, b0}, map[int]apierr.Code{2: apierr.ProvisionedThroughputExceeded, 3: apierr.InternalFailure}, true,
			[]string{"", "", "ProvisionedThroughputExceededException", "InternalFailure", "ProvisionedThroughputExceededException", "InternalFailure"}},
		{"Append refuses one by one", []string{a0, b0, a1, b1, a0}, map[int]apierr.Code{0: apierr.InternalFailure}, false,
			[]string{"InternalFailure", "", "", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, "", WithFaultInjection(true))
			mustCreate(t, s, "s", 2)
			entries := make([]Entry, len(tt.keys))
			for i, k := range tt.keys {
				entries[i] = Entry{PartitionKey: k, Data: []byte{byte(i)}}
			}
			fctx := WithFaults(ctx, Faults{Record: func(i int) apierr.Code { return tt.refuse[i] }})
			var res []AppendResult
			var err error
			if tt.ordered {
				var p *PendingAppend
				if p, err = s.StartAppend(fctx, "s", entries); err == nil {
					res, err = p.Wait()
				}
			} else {
				res, err = s.Append(fctx, "s", entries)
			}
			if err != nil {
				t.Fatal(err)
			}
			stored := 0
			for i, r := range res {
				if r.ErrorCode != tt.want[i] {
					t.Errorf("entry %d: code %q, want %q (%s)", i, r.ErrorCode, tt.want[i], r.ErrorMessage)
				}
				if (r.ErrorCode == "") != (r.SequenceNumber != "") {
					t.Errorf("entry %d: %+v", i, r)
				}
				if r.ErrorCode == "" {
					stored++
				}
			}
			n := len(readAll(t, s, "s", "shardId-000000000000", Position{Type: TrimHorizon})) +
				len(readAll(t, s, "s", "shardId-000000000001", Position{Type: TrimHorizon}))
			if n != stored {
				t.Fatalf("%d records stored, %d acknowledged", n, stored)
			}
		})
	}
}
