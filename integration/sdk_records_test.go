package integration

// Compatibility tests of the data plane with aws-sdk-go-v2: PutRecord,
// PutRecords, GetShardIterator of every type, GetRecords, routing by hash key
// and the order, length and uniqueness of sequence numbers.

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSDKRecords runs the data-plane subtests against one server.
func TestSDKRecords(t *testing.T) {
	t.Parallel()
	k := newKin(t)

	t.Run("PutRecordRoundTrip", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		data := make([]byte, 256)
		for i := range data {
			data[i] = byte(i)
		}
		const pk = "ключ-🔑 with spaces"
		out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(pk), Data: data})
		if err != nil {
			t.Fatalf("PutRecord: %v", err)
		}
		if got := aws.ToString(out.ShardId); got != shardID(0) {
			t.Errorf("ShardId = %q, want %q", got, shardID(0))
		}
		seq := aws.ToString(out.SequenceNumber)
		if !decimal.MatchString(seq) {
			t.Fatalf("SequenceNumber = %q, want a decimal number", seq)
		}
		if out.EncryptionType != "" && out.EncryptionType != types.EncryptionTypeNone {
			t.Errorf("EncryptionType = %q, want NONE", out.EncryptionType)
		}
		recs := k.readShard(ctx, t, name, shardID(0))
		if len(recs) != 1 {
			t.Fatalf("read %d records, want 1", len(recs))
		}
		r := recs[0]
		if !bytes.Equal(r.Data, data) || aws.ToString(r.PartitionKey) != pk || aws.ToString(r.SequenceNumber) != seq {
			t.Errorf("record = {Data %x, PartitionKey %q, SequenceNumber %s}, want {%x, %q, %s}", r.Data, aws.ToString(r.PartitionKey), aws.ToString(r.SequenceNumber), data, pk, seq)
		}
		if r.ApproximateArrivalTimestamp == nil || r.ApproximateArrivalTimestamp.IsZero() {
			t.Errorf("record has no ApproximateArrivalTimestamp")
		}

		// Empty data is a valid record (Data has no minimum length).
		empty, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("e"), Data: []byte{}})
		if err != nil {
			t.Fatalf("PutRecord with empty Data: %v", err)
		}
		recs = k.drain(ctx, t, k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeAfterSequenceNumber, seq, nil))
		if len(recs) != 1 || len(recs[0].Data) != 0 || aws.ToString(recs[0].SequenceNumber) != aws.ToString(empty.SequenceNumber) {
			t.Errorf("read %d records after %s, want the empty record %s", len(recs), seq, aws.ToString(empty.SequenceNumber))
		}
	})

	t.Run("SequenceNumberForOrdering", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		var seqs []string
		prev := ""
		for i := range 5 {
			in := &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("same"), Data: []byte(fmt.Sprint(i))}
			if prev != "" {
				in.SequenceNumberForOrdering = aws.String(prev)
			}
			out, err := k.c.PutRecord(ctx, in)
			if err != nil {
				t.Fatalf("PutRecord %d (SequenceNumberForOrdering %q): %v", i, prev, err)
			}
			prev = aws.ToString(out.SequenceNumber)
			seqs = append(seqs, prev)
		}
		checkIncreasing(t, "SequenceNumberForOrdering chain", seqs)
		recs := k.readShard(ctx, t, name, shardID(0))
		if got := recordSeqs(recs); !slices.Equal(got, seqs) {
			t.Errorf("read order %v, want %v", got, seqs)
		}
		if got := recordData(recs); !slices.Equal(got, []string{"0", "1", "2", "3", "4"}) {
			t.Errorf("read data %v, want 0..4", got)
		}
	})

	t.Run("PutRecords500InRequestOrder", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		const n = 3
		k.create(ctx, t, name, n)
		entries := make([]types.PutRecordsRequestEntry, 500)
		wantShard := make([]string, len(entries))
		for i := range entries {
			pk := fmt.Sprintf("pk-%d", i)
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(pk), Data: []byte(fmt.Sprintf("rec-%03d", i))}
			h := md5Key(pk)
			if i%5 == 0 { // every fifth entry routed explicitly, round robin
				h, _ = hashRange(i%n, n)
				entries[i].ExplicitHashKey = aws.String(h.String())
			}
			wantShard[i] = shardID(shardOf(h, n))
		}
		out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		if err != nil {
			t.Fatalf("PutRecords(500): %v", err)
		}
		if got := aws.ToInt32(out.FailedRecordCount); got != 0 {
			t.Errorf("FailedRecordCount = %d, want 0", got)
		}
		if len(out.Records) != len(entries) {
			t.Fatalf("%d results for %d entries", len(out.Records), len(entries))
		}
		for i, r := range out.Records {
			if r.ErrorCode != nil || r.ErrorMessage != nil {
				t.Errorf("entry %d failed: %s %s", i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
			}
			if got := aws.ToString(r.ShardId); got != wantShard[i] {
				t.Errorf("entry %d went to %s, want %s", i, got, wantShard[i])
			}
		}
		// Each result's sequence number is the record that entry wrote, and
		// within a shard the entries are stored in request order.
		bySeq := map[string]string{}
		shardOfSeq := map[string]string{}
		for id, recs := range k.readAll(ctx, t, name) {
			var idx []int
			for _, r := range recs {
				bySeq[aws.ToString(r.SequenceNumber)] = string(r.Data)
				shardOfSeq[aws.ToString(r.SequenceNumber)] = id
				var i int
				fmt.Sscanf(string(r.Data), "rec-%d", &i)
				idx = append(idx, i)
			}
			if !slices.IsSorted(idx) {
				t.Errorf("shard %s holds the entries in order %v, want request order", id, idx)
			}
		}
		if len(bySeq) != len(entries) {
			t.Errorf("stream holds %d records, want %d", len(bySeq), len(entries))
		}
		for i, r := range out.Records {
			seq := aws.ToString(r.SequenceNumber)
			if got, want := bySeq[seq], fmt.Sprintf("rec-%03d", i); got != want {
				t.Errorf("result %d's sequence number %s holds %q, want %q", i, seq, got, want)
			}
			if got := shardOfSeq[seq]; got != aws.ToString(r.ShardId) {
				t.Errorf("result %d says shard %s, record is in %s", i, aws.ToString(r.ShardId), got)
			}
		}
	})

	t.Run("PutRecordsExactly5MiB", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		entries := make([]types.PutRecordsRequestEntry, 5)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: bytes.Repeat([]byte{byte('a' + i)}, 1<<20-1)}
		}
		out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		if err != nil {
			t.Fatalf("PutRecords of exactly 5 MiB: %v", err)
		}
		if aws.ToInt32(out.FailedRecordCount) != 0 || len(out.Records) != 5 {
			t.Fatalf("PutRecords of exactly 5 MiB: %d results, %d failed", len(out.Records), aws.ToInt32(out.FailedRecordCount))
		}
		recs := k.readShard(ctx, t, name, shardID(0))
		if len(recs) != 5 {
			t.Fatalf("read %d records, want 5", len(recs))
		}
		for i, r := range recs {
			if !bytes.Equal(r.Data, entries[i].Data) {
				t.Errorf("record %d: %d bytes of %q, want %d bytes of %q", i, len(r.Data), r.Data[:1], len(entries[i].Data), entries[i].Data[:1])
			}
		}
	})

	t.Run("PutRecordExactly1MiB", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		data := bytes.Repeat([]byte("x"), 1<<20-2)
		if _, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("pk"), Data: data}); err != nil {
			t.Fatalf("PutRecord of data+key = 1 MiB: %v", err)
		}
		recs := k.readShard(ctx, t, name, shardID(0))
		if len(recs) != 1 || !bytes.Equal(recs[0].Data, data) {
			t.Fatalf("read %d records, want the 1 MiB record back", len(recs))
		}
	})

	t.Run("IteratorTypes", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 2)
		sh := shardID(0)
		// Three batches, a little apart so their arrival milliseconds differ.
		const batches, perBatch = 3, 4
		var seqs []string
		for b := range batches {
			if b > 0 {
				time.Sleep(20 * time.Millisecond)
			}
			entries := make([]types.PutRecordsRequestEntry, perBatch)
			for i := range entries {
				entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("p"), ExplicitHashKey: aws.String("0"), Data: []byte(fmt.Sprintf("b%d-%d", b, i))}
			}
			seqs = append(seqs, resultSeqs(k.putRecords(ctx, t, name, entries))...)
		}
		all := k.readShard(ctx, t, name, sh)
		if got := recordSeqs(all); !slices.Equal(got, seqs) {
			t.Fatalf("TRIM_HORIZON read %v, want %v", got, seqs)
		}

		seqCases := []struct {
			typ  types.ShardIteratorType
			at   int
			want []string
		}{
			{types.ShardIteratorTypeAtSequenceNumber, 0, seqs},
			{types.ShardIteratorTypeAtSequenceNumber, 5, seqs[5:]},
			{types.ShardIteratorTypeAtSequenceNumber, len(seqs) - 1, seqs[len(seqs)-1:]},
			{types.ShardIteratorTypeAfterSequenceNumber, 0, seqs[1:]},
			{types.ShardIteratorTypeAfterSequenceNumber, 5, seqs[6:]},
			{types.ShardIteratorTypeAfterSequenceNumber, len(seqs) - 1, nil},
		}
		for _, c := range seqCases {
			t.Run(fmt.Sprintf("%s_%d", c.typ, c.at), func(t *testing.T) {
				got := recordSeqs(k.drain(ctx, t, k.iterator(ctx, t, name, sh, c.typ, seqs[c.at], nil)))
				if !slices.Equal(got, c.want) {
					t.Errorf("%s %s read %v, want %v", c.typ, seqs[c.at], got, c.want)
				}
			})
		}

		t.Run("AT_TIMESTAMP", func(t *testing.T) {
			arrival := func(i int) time.Time { return aws.ToTime(all[i].ApproximateArrivalTimestamp) }
			for i := 1; i < len(all); i++ {
				if arrival(i).Before(arrival(i - 1)) {
					t.Fatalf("arrival timestamps go backwards: record %d at %v, record %d at %v", i-1, arrival(i-1), i, arrival(i))
				}
			}
			// Batches were put 20 ms apart; the SDK may read a timestamp 1 ms
			// low (float seconds), so a 3 ms gap keeps the answer unambiguous.
			for b := 1; b < batches; b++ {
				if gap := arrival(b * perBatch).Sub(arrival(b*perBatch - 1)); gap < 3*time.Millisecond {
					t.Fatalf("batches put 20 ms apart arrived %v apart; ApproximateArrivalTimestamp does not reflect arrival", gap)
				}
			}
			cases := []struct {
				name string
				ts   time.Time
				want []string
			}{
				{"BeforeAll", arrival(0).Add(-time.Hour), seqs},
				{"FirstRecord", arrival(0), seqs},
				{"SecondBatch", arrival(perBatch), seqs[perBatch:]},
				{"ThirdBatch", arrival(2 * perBatch), seqs[2*perBatch:]},
				{"AfterAll", arrival(len(all) - 1).Add(time.Hour), nil},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ts := c.ts
					got := recordSeqs(k.drain(ctx, t, k.iterator(ctx, t, name, sh, types.ShardIteratorTypeAtTimestamp, "", &ts)))
					if !slices.Equal(got, c.want) {
						t.Errorf("AT_TIMESTAMP %v read %v, want %v", ts, got, c.want)
					}
				})
			}
		})

		t.Run("TRIM_HORIZON_OtherShardEmpty", func(t *testing.T) {
			if got := k.readShard(ctx, t, name, shardID(1)); len(got) != 0 {
				t.Errorf("shard 1 holds %d records, all went to shard 0", len(got))
			}
		})

		t.Run("LATEST", func(t *testing.T) {
			latest := k.iterator(ctx, t, name, sh, types.ShardIteratorTypeLatest, "", nil)
			unread := k.iterator(ctx, t, name, sh, types.ShardIteratorTypeLatest, "", nil)
			out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(latest)})
			if err != nil {
				t.Fatalf("GetRecords(LATEST): %v", err)
			}
			if len(out.Records) != 0 {
				t.Errorf("LATEST returned %d old records", len(out.Records))
			}
			if out.NextShardIterator == nil {
				t.Fatalf("GetRecords(LATEST) on an open shard has no NextShardIterator")
			}
			put, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("p"), ExplicitHashKey: aws.String("0"), Data: []byte("new")})
			if err != nil {
				t.Fatalf("PutRecord: %v", err)
			}
			want := []string{aws.ToString(put.SequenceNumber)}
			if got := recordSeqs(k.drain(ctx, t, *out.NextShardIterator)); !slices.Equal(got, want) {
				t.Errorf("after LATEST and a put, read %v, want %v", got, want)
			}
			// An iterator taken at LATEST before the put, first used after it.
			if got := recordSeqs(k.drain(ctx, t, unread)); !slices.Equal(got, want) {
				t.Errorf("LATEST iterator taken before the put read %v, want %v", got, want)
			}
		})
	})

	t.Run("GetRecordsLimitAndPaging", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		var seqs []string
		for b := range 3 {
			entries := make([]types.PutRecordsRequestEntry, 4)
			for i := range entries {
				entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte(fmt.Sprintf("%d-%d", b, i))}
			}
			seqs = append(seqs, resultSeqs(k.putRecords(ctx, t, name, entries))...)
		}
		it := k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)
		var got []string
		for _, want := range []int{5, 5, 2} {
			out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(5)})
			if err != nil {
				t.Fatalf("GetRecords(Limit 5): %v", err)
			}
			if len(out.Records) != want {
				t.Errorf("GetRecords(Limit 5) returned %d records, want %d", len(out.Records), want)
			}
			if out.MillisBehindLatest == nil || *out.MillisBehindLatest < 0 {
				t.Errorf("MillisBehindLatest = %v, want a number >= 0", out.MillisBehindLatest)
			}
			got = append(got, recordSeqs(out.Records)...)
			if out.NextShardIterator == nil {
				t.Fatalf("open shard: no NextShardIterator")
			}
			it = *out.NextShardIterator
		}
		if !slices.Equal(got, seqs) {
			t.Errorf("paged read %v, want %v", got, seqs)
		}
		out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(5)})
		if err != nil {
			t.Fatalf("GetRecords at the tip: %v", err)
		}
		if len(out.Records) != 0 || aws.ToInt64(out.MillisBehindLatest) != 0 || out.NextShardIterator == nil {
			t.Errorf("at the tip: %d records, MillisBehindLatest %v, NextShardIterator %v; want 0, 0, set", len(out.Records), out.MillisBehindLatest, out.NextShardIterator)
		}
		// Limit 1 returns exactly one record.
		one, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)), Limit: aws.Int32(1)})
		if err != nil {
			t.Fatalf("GetRecords(Limit 1): %v", err)
		}
		if got := recordSeqs(one.Records); !slices.Equal(got, seqs[:1]) {
			t.Errorf("GetRecords(Limit 1) = %v, want %v", got, seqs[:1])
		}
	})

	t.Run("GetRecords10MiBCap", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		const n, size = 11, 1<<20 - 1
		var seqs []string
		for first := 0; first < n; first += 4 {
			var entries []types.PutRecordsRequestEntry
			for i := first; i < min(first+4, n); i++ {
				entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: bytes.Repeat([]byte{byte('a' + i)}, size)})
			}
			seqs = append(seqs, resultSeqs(k.putRecords(ctx, t, name, entries))...)
		}
		it := k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)
		out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		total := 0
		for _, r := range out.Records {
			total += len(r.Data)
		}
		if total > 10<<20 || len(out.Records) == 0 || len(out.Records) >= n {
			t.Errorf("one GetRecords returned %d records of %d bytes in all; want at least one, fewer than %d, and at most 10 MiB", len(out.Records), total, n)
		}
		if aws.ToInt64(out.MillisBehindLatest) < 0 || out.NextShardIterator == nil {
			t.Fatalf("MillisBehindLatest %v, NextShardIterator %v", out.MillisBehindLatest, out.NextShardIterator)
		}
		got := append(recordSeqs(out.Records), recordSeqs(k.drain(ctx, t, *out.NextShardIterator))...)
		if !slices.Equal(got, seqs) {
			t.Errorf("read %d records in two steps, want the %d put, in order", len(got), len(seqs))
		}
	})

	t.Run("ThreeBatchesAcrossIterators", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		it := k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)
		empty, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			t.Fatalf("GetRecords on an empty shard: %v", err)
		}
		if len(empty.Records) != 0 || aws.ToInt64(empty.MillisBehindLatest) != 0 || empty.NextShardIterator == nil {
			t.Fatalf("empty shard: %d records, MillisBehindLatest %v, NextShardIterator %v; want 0, 0, set", len(empty.Records), empty.MillisBehindLatest, empty.NextShardIterator)
		}
		it = *empty.NextShardIterator
		for b := range 3 {
			var want []string
			for i := range 3 {
				out := k.put(ctx, t, name, "p", []byte(fmt.Sprintf("%d.%d", b, i)))
				want = append(want, aws.ToString(out.SequenceNumber))
			}
			out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
			if err != nil {
				t.Fatalf("GetRecords batch %d: %v", b, err)
			}
			if got := recordSeqs(out.Records); !slices.Equal(got, want) {
				t.Errorf("batch %d read %v, want %v", b, got, want)
			}
			if got := aws.ToInt64(out.MillisBehindLatest); got != 0 {
				t.Errorf("batch %d read to the tip, MillisBehindLatest = %d, want 0", b, got)
			}
			if out.NextShardIterator == nil {
				t.Fatalf("batch %d: no NextShardIterator", b)
			}
			it = *out.NextShardIterator
		}
		if got := k.drain(ctx, t, it); len(got) != 0 {
			t.Errorf("read %d records past the last batch", len(got))
		}
	})

	t.Run("RoutingExplicitHashKey", func(t *testing.T) {
		for _, n := range []int{3, 7} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				ctx := testCtx(t)
				name := uniqueName(t)
				k.create(ctx, t, name, int32(n))
				type probe struct {
					key  *big.Int
					want int
				}
				probes := []probe{{big.NewInt(0), 0}, {new(big.Int).Sub(two128, big.NewInt(1)), n - 1}}
				for i := range n {
					start, end := hashRange(i, n)
					mid := new(big.Int).Rsh(new(big.Int).Add(start, end), 1)
					probes = append(probes, probe{start, i}, probe{mid, i}, probe{end, i})
					if i < n-1 {
						probes = append(probes, probe{new(big.Int).Add(end, big.NewInt(1)), i + 1})
					}
				}
				entries := make([]types.PutRecordsRequestEntry, len(probes))
				for j, p := range probes {
					out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{
						StreamName: aws.String(name), PartitionKey: aws.String("ignored"), ExplicitHashKey: aws.String(p.key.String()),
						Data: []byte(fmt.Sprintf("single %s", p.key)),
					})
					if err != nil {
						t.Fatalf("PutRecord(ExplicitHashKey %s): %v", p.key, err)
					}
					if got := aws.ToString(out.ShardId); got != shardID(p.want) {
						t.Errorf("PutRecord ExplicitHashKey %s went to %s, want %s", p.key, got, shardID(p.want))
					}
					entries[j] = types.PutRecordsRequestEntry{PartitionKey: aws.String("ignored"), ExplicitHashKey: aws.String(p.key.String()), Data: []byte(fmt.Sprintf("batch %s", p.key))}
				}
				out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
				if err != nil {
					t.Fatalf("PutRecords: %v", err)
				}
				for j, r := range out.Records {
					if got := aws.ToString(r.ShardId); got != shardID(probes[j].want) {
						t.Errorf("PutRecords ExplicitHashKey %s went to %s, want %s", probes[j].key, got, shardID(probes[j].want))
					}
				}
				// The records are stored where the answers said.
				wantData := map[string][]string{}
				for _, p := range probes {
					wantData[shardID(p.want)] = append(wantData[shardID(p.want)], "single "+p.key.String())
				}
				for _, p := range probes {
					wantData[shardID(p.want)] = append(wantData[shardID(p.want)], "batch "+p.key.String())
				}
				for id, recs := range k.readAll(ctx, t, name) {
					if got := recordData(recs); !slices.Equal(got, wantData[id]) {
						t.Errorf("shard %s holds %v, want %v", id, got, wantData[id])
					}
				}
			})
		}
	})

	t.Run("RoutingMD5", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		const n = 7
		k.create(ctx, t, name, n)
		var keys []string
		for i := range 300 {
			keys = append(keys, fmt.Sprintf("user-%d", i))
		}
		keys = append(keys, "ключ", "🔑", "a", strings.Repeat("z", 256), " ")
		entries := make([]types.PutRecordsRequestEntry, len(keys))
		hit := map[int]bool{}
		for i, pk := range keys {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(pk), Data: []byte(pk)}
			hit[shardOf(md5Key(pk), n)] = true
		}
		if len(hit) != n {
			t.Fatalf("test keys reach only %d of %d shards", len(hit), n)
		}
		out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		if err != nil {
			t.Fatalf("PutRecords: %v", err)
		}
		for i, r := range out.Records {
			if got, want := aws.ToString(r.ShardId), shardID(shardOf(md5Key(keys[i]), n)); got != want {
				t.Errorf("partition key %q (md5 %s) went to %s, want %s", keys[i], md5Key(keys[i]), got, want)
			}
		}
		for _, pk := range keys[len(keys)-5:] {
			r, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(pk), Data: []byte(pk)})
			if err != nil {
				t.Fatalf("PutRecord(%q): %v", pk, err)
			}
			if got, want := aws.ToString(r.ShardId), shardID(shardOf(md5Key(pk), n)); got != want {
				t.Errorf("PutRecord partition key %q went to %s, want %s", pk, got, want)
			}
		}
	})

	t.Run("SequenceNumbersSingleProducer", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 2)
		acked := map[string][]string{} // shard -> sequence numbers in ack order
		var all []string
		for round := range 10 {
			for sh := range 2 {
				start, _ := hashRange(sh, 2)
				out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("p"), ExplicitHashKey: aws.String(start.String()), Data: []byte(fmt.Sprint(round))})
				if err != nil {
					t.Fatalf("PutRecord: %v", err)
				}
				acked[aws.ToString(out.ShardId)] = append(acked[aws.ToString(out.ShardId)], aws.ToString(out.SequenceNumber))
				all = append(all, aws.ToString(out.SequenceNumber))
			}
			entries := make([]types.PutRecordsRequestEntry, 6)
			for i := range entries {
				start, _ := hashRange(i%2, 2)
				entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("p"), ExplicitHashKey: aws.String(start.String()), Data: []byte(fmt.Sprint(round))}
			}
			for _, r := range k.putRecords(ctx, t, name, entries) {
				acked[aws.ToString(r.ShardId)] = append(acked[aws.ToString(r.ShardId)], aws.ToString(r.SequenceNumber))
				all = append(all, aws.ToString(r.SequenceNumber))
			}
		}
		checkSameLength(t, all)
		checkUnique(t, all)
		for id, seqs := range acked {
			checkIncreasing(t, "acknowledged in shard "+id, seqs)
			if got := recordSeqs(k.readShard(ctx, t, name, id)); !slices.Equal(got, seqs) {
				t.Errorf("shard %s reads %v, acknowledged %v", id, got, seqs)
			}
		}
	})

	t.Run("SequenceNumbersConcurrentProducers", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 3)
		const producers, rounds = 8, 10
		type ack struct{ shard, seq, data string }
		acks := make([][]ack, producers)
		errs := make([]error, producers)
		var wg sync.WaitGroup
		for p := range producers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(p), 42))
				for r := range rounds {
					data := fmt.Sprintf("p%d-r%d-single", p, r)
					out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(fmt.Sprint(rng.Int())), Data: []byte(data)})
					if err != nil {
						errs[p] = fmt.Errorf("producer %d PutRecord: %w", p, err)
						return
					}
					acks[p] = append(acks[p], ack{aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber), data})
					entries := make([]types.PutRecordsRequestEntry, 10)
					for i := range entries {
						entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(rng.Int())), Data: []byte(fmt.Sprintf("p%d-r%d-%d", p, r, i))}
					}
					outs, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
					if err != nil {
						errs[p] = fmt.Errorf("producer %d PutRecords: %w", p, err)
						return
					}
					if aws.ToInt32(outs.FailedRecordCount) != 0 {
						errs[p] = fmt.Errorf("producer %d PutRecords: %d failed", p, aws.ToInt32(outs.FailedRecordCount))
						return
					}
					for i, res := range outs.Records {
						acks[p] = append(acks[p], ack{aws.ToString(res.ShardId), aws.ToString(res.SequenceNumber), string(entries[i].Data)})
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// Each producer's own writes to a shard got increasing numbers.
		want := map[string]ack{}
		var all []string
		for p, list := range acks {
			perShard := map[string][]string{}
			for _, a := range list {
				perShard[a.shard] = append(perShard[a.shard], a.seq)
				if prev, dup := want[a.seq]; dup {
					t.Errorf("sequence number %s acknowledged twice: %+v and %+v", a.seq, prev, a)
				}
				want[a.seq] = a
				all = append(all, a.seq)
			}
			for id, seqs := range perShard {
				checkIncreasing(t, fmt.Sprintf("producer %d in shard %s", p, id), seqs)
			}
		}
		checkSameLength(t, all)
		// Every acknowledged record is read back once, in its shard, in
		// strictly increasing order.
		read := 0
		for id, recs := range k.readAll(ctx, t, name) {
			seqs := recordSeqs(recs)
			checkIncreasing(t, "read from shard "+id, seqs)
			checkSameLength(t, append(seqs, all[0]))
			for _, r := range recs {
				seq := aws.ToString(r.SequenceNumber)
				a, ok := want[seq]
				if !ok {
					t.Errorf("shard %s holds unacknowledged record %s %q", id, seq, r.Data)
					continue
				}
				if a.shard != id || a.data != string(r.Data) {
					t.Errorf("record %s: in %s with %q, acknowledged in %s with %q", seq, id, r.Data, a.shard, a.data)
				}
				read++
			}
		}
		if read != len(want) {
			t.Errorf("read %d records, acknowledged %d", read, len(want))
		}
	})
}
