package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spatehq/spate/internal/reshardtest"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestParseFrom(t *testing.T) {
	tests := []struct {
		from     string
		wantType spatev1.ShardIteratorType
		wantTime time.Time
		wantErr  bool
	}{
		{"latest", spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST, time.Time{}, false},
		{"LATEST", spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST, time.Time{}, false},
		{"trim-horizon", spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON, time.Time{}, false},
		{"TRIM_HORIZON", spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON, time.Time{}, false},
		{"2026-01-02T15:04:05Z", spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP, time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), false},
		{"2026-01-02T15:04:05.250+01:00", spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP, time.Date(2026, 1, 2, 14, 4, 5, 250e6, time.UTC), false},
		{"yesterday", 0, time.Time{}, true},
		{"2026-01-02", 0, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			pos, err := parseFrom(tt.from)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "--from") {
					t.Fatalf("parseFrom = %v, %v; want an error about --from", pos, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pos.GetType() != tt.wantType {
				t.Errorf("type = %v, want %v", pos.GetType(), tt.wantType)
			}
			if !tt.wantTime.IsZero() && !pos.GetTimestamp().AsTime().Equal(tt.wantTime) {
				t.Errorf("time = %v, want %v", pos.GetTimestamp().AsTime(), tt.wantTime)
			}
		})
	}
}

func TestFormatRecord(t *testing.T) {
	arrival := timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC))
	rec := func(data string) *spatev1.Record {
		return &spatev1.Record{SequenceNumber: "49000", PartitionKey: "pk", Data: []byte(data), ApproximateArrivalTimestamp: arrival}
	}
	tests := []struct {
		name   string
		format string
		rec    *spatev1.Record
		want   string
	}{
		{"text", "text", rec("hello"), "hello\n"},
		{"text ending in newline", "text", rec("hello\n"), "hello\n"},
		{"text empty", "text", rec(""), "\n"},
		{"json", "json", rec("hi\x00"),
			`{"shard":"shardId-000000000001","sequence":"49000","partitionKey":"pk","arrival":"2026-01-02T03:04:05.678Z","data":"aGkA"}` + "\n"},
		{"json without arrival", "json", &spatev1.Record{SequenceNumber: "1", PartitionKey: "k"},
			`{"shard":"shardId-000000000001","sequence":"1","partitionKey":"k","arrival":"","data":null}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := formatRecord(&buf, tt.format, "shardId-000000000001", tt.rec); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

// shardOfKey routes a partition key as Kinesis does: MD5 as a big-endian
// 128-bit number, in n equal ranges.
func shardOfKey(key string, n int64) string {
	sum := md5.Sum([]byte(key))
	h := new(big.Int).SetBytes(sum[:])
	idx := h.Mul(h, big.NewInt(n)).Rsh(h, 128).Int64()
	return fmt.Sprintf("shardId-%012d", idx)
}

func TestTailCommand(t *testing.T) {
	s := startAPIServer(t)
	ctx := clientTestContext(t)
	if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	putLines := func(t *testing.T, from, to int) {
		t.Helper()
		var entries []*spatev1.PutRecordsRequestEntry
		for i := from; i <= to; i++ {
			entries = append(entries, &spatev1.PutRecordsRequestEntry{Data: fmt.Appendf(nil, "r%d", i), PartitionKey: fmt.Sprint(i)})
		}
		if _, err := s.api.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: "s", Records: entries}); err != nil {
			t.Fatal(err)
		}
	}
	putLines(t, 1, 20) // before tail starts: trim-horizon reads them

	tests := []struct {
		name      string
		args      []string
		wantShard string // "" for both shards
		consumer  string // --consumer, checked in the server's metrics
	}{
		{"all shards", []string{"tail", "s", "--from", "trim-horizon", "--format", "json"}, "", ""},
		{"one shard", []string{"tail", "s", "--from", "trim-horizon", "--format", "json", "--shard", "shardId-000000000001"}, "shardId-000000000001", ""},
		{"named consumer", []string{"tail", "s", "--from", "trim-horizon", "--format", "json", "--consumer", "audit"}, "", "audit"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tctx, cancel := context.WithCancel(ctx)
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				var stderr bytes.Buffer
				err := s.runTo(tctx, nil, pw, &stderr, tt.args...)
				pw.Close()
				done <- err
			}()

			// More records, put while tail starts (trim-horizon reads them
			// whether they come before or after it subscribes).
			putLines(t, 21+20*i, 40+20*i)
			want := map[string]bool{}
			for k := 1; k <= 40+20*i; k++ {
				if tt.wantShard == "" || shardOfKey(fmt.Sprint(k), 2) == tt.wantShard {
					want[fmt.Sprintf("r%d", k)] = true
				}
			}

			lastSeq := map[string]string{}
			got := map[string]bool{}
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				var r jsonRecord
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				if tt.wantShard != "" && r.Shard != tt.wantShard {
					t.Fatalf("record of %s with --shard %s", r.Shard, tt.wantShard)
				}
				if r.Sequence <= lastSeq[r.Shard] {
					t.Fatalf("%s: sequence %s after %s", r.Shard, r.Sequence, lastSeq[r.Shard])
				}
				lastSeq[r.Shard] = r.Sequence
				if got[string(r.Data)] {
					t.Fatalf("record %q printed twice", r.Data)
				}
				got[string(r.Data)] = true
				if len(got) == len(want) {
					break
				}
			}
			if tt.consumer != "" {
				// The server read every shard under the name before sending
				// its records; the subscriptions still run.
				m, err := s.api.GetStreamMetrics(ctx, &spatev1.GetStreamMetricsRequest{StreamName: "s"})
				if err != nil {
					t.Fatal(err)
				}
				for _, sh := range m.GetShards() {
					if _, ok := sh.GetConsumerIteratorAgeMilliseconds()[tt.consumer]; !ok {
						t.Errorf("%s: consumer ages %v, want one for %s", sh.GetShardId(), sh.GetConsumerIteratorAgeMilliseconds(), tt.consumer)
					}
				}
			}
			cancel()
			go io.Copy(io.Discard, pr) // let tail finish writing
			if err := <-done; err != nil {
				t.Errorf("tail after interrupt: %v", err)
			}
			for k := range want {
				if !got[k] {
					t.Errorf("record %s not printed", k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("unexpected record %s", k)
				}
			}
		})
	}
}

// An invalid --consumer reaches the server, which refuses it with a message
// naming the field.
func TestTailRejectsInvalidConsumer(t *testing.T) {
	s := startAPIServer(t)
	ctx := clientTestContext(t)
	if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := s.runTo(ctx, nil, &stdout, &stderr, "tail", "s", "--consumer", "firehose:s")
	if err == nil || !strings.Contains(err.Error(), "ValidationException") || !strings.Contains(err.Error(), `consumer_name "firehose:s"`) {
		t.Fatalf("tail --consumer firehose:s = %v, want a ValidationException about consumer_name", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("printed %q", stdout.String())
	}
}

// spate tail follows a stream through splits and merges while producers
// write: every record printed once, the records of each key in write order
// (a child's records after its parents'), shards created while it runs
// included.
func TestTailFollowsReshard(t *testing.T) {
	tests := []struct {
		name   string
		shards int
		steps  []reshardtest.Step
		before bool // reshard and write before tail starts: it meets parents and children in its first listing
	}{
		{"split", 1, []reshardtest.Step{reshardtest.Split(0), reshardtest.Split(1)}, false},
		{"merge", 2, []reshardtest.Step{reshardtest.Merge(0, 1)}, false},
		{"2 to 4 to 3 to 1", 2, reshardtest.TwoFourThreeOne(), false},
		{"2 to 4 to 3 to 1 before tail", 2, reshardtest.TwoFourThreeOne(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startAPIServer(t)
			ctx := clientTestContext(t)
			if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: int32(tt.shards)}); err != nil {
				t.Fatal(err)
			}
			const producers, keys, perKey = 4, 3, 40
			var prod *reshardtest.Producers
			if tt.before {
				prod = reshardtest.Produce(ctx, t, s.store, "s", producers, keys, perKey, 60, tt.steps, 0, time.Millisecond)
			}
			tctx, cancel := context.WithCancel(ctx)
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				var stderr bytes.Buffer
				err := s.runTo(tctx, nil, pw, &stderr, "tail", "s", "--from", "trim-horizon")
				pw.Close()
				done <- err
			}()
			lines := make(chan []byte, 64)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(pr)
				for sc.Scan() {
					lines <- append([]byte(nil), sc.Bytes()...)
				}
			}()
			if !tt.before {
				prod = reshardtest.Produce(ctx, t, s.store, "s", producers, keys, perKey, 60, tt.steps, 0, time.Millisecond)
			}
			check := reshardtest.NewChecker()
			for check.Count() < prod.Total() {
				line, ok := <-lines
				if !ok {
					t.Fatalf("tail stopped after %d of %d records: %v", check.Count(), prod.Total(), <-done)
				}
				r, err := reshardtest.Decode(line)
				if err != nil {
					t.Fatal(err)
				}
				if err := check.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := check.Complete(prod); err != nil {
				t.Fatal(err)
			}
			cancel()
			go io.Copy(io.Discard, pr)
			if err := <-done; err != nil {
				t.Errorf("tail after interrupt: %v", err)
			}
		})
	}
}
