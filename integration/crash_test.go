package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestCrashKill9 puts records from concurrent producers, kills the server
// with SIGKILL while puts are in flight, restarts it and reads every shard
// back.
//
// With --durability sync every acknowledged record must be there exactly
// once. With relaxed, acknowledged records may be lost (docs/durability.md),
// but only a tail of each shard: what survives is a prefix of what was
// acknowledged. In both modes no record appears twice, none appears that was
// never sent, data is intact and sequence numbers strictly increase per
// shard, also for records put after the restart.
func TestCrashKill9(t *testing.T) {
	eachDurability(t, testCrash)
}

const (
	crashProducers = 8
	crashShards    = 4
	// crashKillAfter is how many acknowledged records the producers reach
	// before the kill; they keep putting until the server dies under them.
	crashKillAfter = 3000
)

// sentRecord is what a producer sent, and where it landed if acknowledged.
type sentRecord struct {
	partitionKey string
	afterRestart bool // sent to the restarted server
	acked        bool
	shardID      string
	seq          string
}

// crashLedger is the producers' shared record of everything sent, keyed by
// data (every payload is unique).
type crashLedger struct {
	mu      sync.Mutex
	records map[string]*sentRecord
	acked   atomic.Int64
}

func (l *crashLedger) sent(data []byte, partitionKey string, afterRestart bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records[string(data)] = &sentRecord{partitionKey: partitionKey, afterRestart: afterRestart}
}

func (l *crashLedger) ack(data []byte, shardID, seq string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.records[string(data)]
	r.acked, r.shardID, r.seq = true, shardID, seq
	l.acked.Add(1)
}

func testCrash(t *testing.T, durability string) {
	k := newKin(t, withArgs("--durability", durability))
	// A longer bound than testTimeout: this test puts and reads back
	// thousands of records.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	stream := uniqueName(t)
	k.create(ctx, t, stream, crashShards)

	ledger := &crashLedger{records: make(map[string]*sentRecord)}
	var killed atomic.Bool
	enough := make(chan struct{})
	var enoughOnce sync.Once
	var wg sync.WaitGroup
	for p := range crashProducers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := produce(ctx, k.c, stream, p, ledger, func() {
				if ledger.acked.Load() >= crashKillAfter {
					enoughOnce.Do(func() { close(enough) })
				}
			})
			if !killed.Load() {
				t.Errorf("producer %d failed before the kill: %v", p, err)
			}
		}()
	}
	producersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(producersDone)
	}()

	select {
	case <-enough:
	case <-producersDone:
		t.Fatalf("every producer stopped before %d records were acknowledged", crashKillAfter)
	case <-ctx.Done():
		t.Fatalf("waiting for %d acknowledged records: %v", crashKillAfter, ctx.Err())
	}
	killed.Store(true) // before the signal: every error from now on may be the kill
	k.srv.Kill9(t)
	<-producersDone

	k.restart(t)
	checkCrashRecovery(t, durability, ledger, k.readAll(ctx, t, stream))

	// The store must go on numbering after the highest surviving record.
	more := make([]types.PutRecordsRequestEntry, 64)
	for i := range more {
		data := fmt.Appendf(nil, "after-restart-%d", i)
		key := fmt.Sprintf("after-%d", i)
		ledger.sent(data, key, true)
		more[i] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(key)}
	}
	for i, r := range k.putRecords(ctx, t, stream, more) {
		ledger.ack(more[i].Data, aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber))
	}
	checkCrashRecovery(t, durability, ledger, k.readAll(ctx, t, stream))
}

// produce puts records until a put fails (the kill) or ctx ends, alternating
// PutRecords batches of varying size and single PutRecord calls. Every record
// is in the ledger before it is sent and marked acknowledged once the server
// answers with its sequence number. afterAck runs after every answer.
func produce(ctx context.Context, c *kinesis.Client, stream string, producer int, l *crashLedger, afterAck func()) error {
	n := 0
	next := func() ([]byte, string) {
		n++
		// Unique, and not valid UTF-8, so a lossy text conversion anywhere
		// on the way would show.
		data := fmt.Appendf(nil, "producer-%02d-record-%07d-", producer, n)
		for i := range 48 {
			data = append(data, byte(producer*31+n*7+i*13))
		}
		key := fmt.Sprintf("key-%d-%d", producer, n%97)
		l.sent(data, key, false)
		return data, key
	}
	for call := 0; ; call++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if call%2 == 1 {
			data, key := next()
			out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{
				StreamName: aws.String(stream), Data: data, PartitionKey: aws.String(key),
			})
			if err != nil {
				return fmt.Errorf("PutRecord: %w", err)
			}
			l.ack(data, aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber))
			afterAck()
			continue
		}
		entries := make([]types.PutRecordsRequestEntry, 1+(call*7+producer)%40)
		for i := range entries {
			data, key := next()
			entries[i] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(key)}
		}
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		if err != nil {
			return fmt.Errorf("PutRecords: %w", err)
		}
		if len(out.Records) != len(entries) {
			return fmt.Errorf("PutRecords: %d results for %d entries", len(out.Records), len(entries))
		}
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				// Spate has no throttling: a per-entry failure is a bug.
				return fmt.Errorf("PutRecords entry %d: %s: %s", i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
			}
			l.ack(entries[i].Data, aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber))
		}
		afterAck()
	}
}

// checkCrashRecovery compares what was read back after the crash with the
// ledger.
func checkCrashRecovery(t *testing.T, durability string, l *crashLedger, got map[string][]types.Record) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()

	seen := make(map[string]bool)
	unacked := 0
	for shardID, recs := range got {
		checkIncreasing(t, shardID, recordSeqs(recs))
		for _, r := range recs {
			data := string(r.Data)
			sent, ok := l.records[data]
			switch {
			case !ok:
				t.Errorf("%s: record %s holds data that no producer sent: %q", shardID, aws.ToString(r.SequenceNumber), truncate(data))
				continue
			case seen[data]:
				t.Errorf("%s: record %q read twice (now at %s)", shardID, truncate(data), aws.ToString(r.SequenceNumber))
				continue
			}
			seen[data] = true
			if pk := aws.ToString(r.PartitionKey); pk != sent.partitionKey {
				t.Errorf("%s %s: partition key %q, sent %q", shardID, aws.ToString(r.SequenceNumber), pk, sent.partitionKey)
			}
			if !sent.acked {
				unacked++
				continue
			}
			if shardID != sent.shardID || aws.ToString(r.SequenceNumber) != sent.seq {
				t.Errorf("record %q acknowledged as %s %s, read at %s %s",
					truncate(data), sent.shardID, sent.seq, shardID, aws.ToString(r.SequenceNumber))
			}
		}
	}

	// Acknowledged records that did not come back. Relaxed durability loses
	// the tail of the WAL, and one writer commits in sequence order, so in
	// each shard the survivors of one server run must be a prefix of what that
	// run acknowledged.
	type ackedSeq struct {
		seq      string
		survived bool
	}
	byShard := make(map[string][]ackedSeq)
	lost := 0
	for data, sent := range l.records {
		if !sent.acked {
			continue
		}
		if !seen[data] {
			lost++
			if durability == "sync" {
				t.Errorf("acknowledged record %s %s lost: %q", sent.shardID, sent.seq, truncate(data))
			}
		}
		if !sent.afterRestart {
			byShard[sent.shardID] = append(byShard[sent.shardID], ackedSeq{sent.seq, seen[data]})
		}
	}
	for shardID, seqs := range byShard {
		slices.SortFunc(seqs, func(a, b ackedSeq) int { return strings.Compare(a.seq, b.seq) })
		for i := 1; i < len(seqs); i++ {
			if !seqs[i-1].survived && seqs[i].survived {
				t.Errorf("%s: acknowledged %s was lost but the later %s survived", shardID, seqs[i-1].seq, seqs[i].seq)
			}
		}
	}
	// A sequence number acknowledged before the crash, even for a record
	// the crash lost, must never be acknowledged again for another record.
	before := make(map[string]string)
	for data, sent := range l.records {
		if sent.acked && !sent.afterRestart {
			before[sent.shardID+"/"+sent.seq] = data
		}
	}
	for data, sent := range l.records {
		if sent.acked && sent.afterRestart {
			if old, reused := before[sent.shardID+"/"+sent.seq]; reused {
				t.Errorf("%s %s acknowledged for %q after the restart, and for %q before the crash",
					sent.shardID, sent.seq, truncate(data), truncate(old))
			}
		}
	}
	t.Logf("durability %s: %d records acknowledged, %d of them lost; %d unacknowledged in-flight records survived",
		durability, l.acked.Load(), lost, unacked)
}

// truncate shortens a record's data for a message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
