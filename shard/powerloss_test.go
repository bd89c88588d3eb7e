package shard

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestAckedRecordsSurvivePowerLoss: in sync mode every record acknowledged
// before a power loss is there after it. A crashable in-memory file system
// stands in for the disk; CrashClone keeps exactly what was fsynced, which a
// kill -9 test cannot check (the page cache survives a killed process). Eight
// producers of single records keep groups committing while earlier ones
// wait for their fsync, the case where acknowledging too early would show.
func TestAckedRecordsSurvivePowerLoss(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	s, err := Open("db", withFS(fs))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked = map[string]string{} // sequence number -> data
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for p := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				data := fmt.Sprintf("p%d-%d", p, i)
				res, err := s.Append(ctx, "s", []Entry{{PartitionKey: data, Data: []byte(data)}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[res[0].SequenceNumber] = data
				mu.Unlock()
			}
		}()
	}

	// Several power losses at different moments of the same run.
	for cut := range 5 {
		// Wait for some more acknowledgements first.
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= (cut+1)*300 {
				break
			}
		}
		mu.Lock()
		want := make(map[string]string, len(acked))
		for k, v := range acked {
			want[k] = v
		}
		mu.Unlock()
		// Everything in want was acknowledged before the clone starts.
		crashed := fs.CrashClone(vfs.CrashCloneCfg{})
		got := readAllOn(t, crashed)
		for seq, data := range want {
			if got[seq] != data {
				t.Fatalf("power loss %d: acknowledged record %s (%q) is %q after it; %d of %d acknowledged records survived",
					cut, seq, data, got[seq], countPresent(got, want), len(want))
			}
		}
	}
	close(stop)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAllOn opens the store on fs, as after a restart, and returns every
// record of stream "s" by sequence number.
func readAllOn(t *testing.T, fs vfs.FS) map[string]string {
	t.Helper()
	s, err := Open("db", withFS(fs))
	if err != nil {
		t.Fatalf("reopen after power loss: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	out := map[string]string{}
	for i := range 2 {
		for _, r := range readAll(t, s, "s", ShardID(uint32(i)), Position{Type: TrimHorizon}) {
			out[r.SequenceNumber] = string(r.Data)
		}
	}
	return out
}

func countPresent(got, want map[string]string) int {
	n := 0
	for seq := range want {
		if _, ok := got[seq]; ok {
			n++
		}
	}
	return n
}
