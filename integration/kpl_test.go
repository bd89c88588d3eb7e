package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/kpl"
)

// jsRecord is a record in the files integration/js/kpl.js reads and writes.
type jsRecord struct {
	PartitionKey      string `json:"partitionKey"`
	ExplicitHashKey   string `json:"explicitHashKey,omitempty"`
	SubSequenceNumber *int   `json:"subSequenceNumber,omitempty"`
	Data              []byte `json:"data"` // base64
}

// kplJS runs `node kpl.js mode` on in and returns what it wrote.
func kplJS(ctx context.Context, t *testing.T, n nodeClients, mode string, in []jsRecord) []jsRecord {
	t.Helper()
	dir := t.TempDir()
	inPath, outPath := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	b, _ := json.Marshal(in)
	if err := os.WriteFile(inPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	n.run(ctx, t, "kpl.js", mode, inPath, outPath)
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []jsRecord
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("kpl.js %s wrote %.200q: %v", mode, b, err)
	}
	return out
}

// createKinesisSourceS3 creates a delivery stream reading stream into
// <name>/ of the test's bucket, one record per line, GZIP, delivering each
// batch as soon as it is read (or at 1 MiB).
func (f *fh) createKinesisSourceS3(ctx context.Context, t *testing.T, name, stream string) {
	t.Helper()
	arn := (&kin{srv: f.srv, c: f.kin}).summary(ctx, t, stream).StreamARN
	_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
			KinesisStreamARN: arn, RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose")},
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: f.bucketARN(),
			Prefix: aws.String(name + "/"), CompressionFormat: fhtypes.CompressionFormatGzip,
			BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0), SizeInMBs: aws.Int32(1)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		},
	})
	if err != nil {
		t.Fatalf("CreateDeliveryStream %s: %v", name, err)
	}
}

// TestKPLFromNodeThroughFirehose is the proof of KPL support with a client
// no one here wrote: aws-kinesis-agg (awslabs' aggregation module for
// Node.js) aggregates 1,000 user records, aws-sdk-go-v2 puts the
// aggregates into a Spate stream, and a Firehose delivery stream reading it
// delivers exactly those 1,000 lines to S3.
func TestKPLFromNodeThroughFirehose(t *testing.T) {
	n := findNodeClients(t, "aws-kinesis-agg")
	f := newFH(t)
	ctx := testCtx(t)
	k := &kin{srv: f.srv, c: f.kin}
	stream := uniqueName(t)
	k.create(ctx, t, stream, 2)
	f.createKinesisSourceS3(ctx, t, "kpl", stream)

	// About 2 KiB a record: the module's 1 MiB limit cuts the 1,000 into
	// several aggregates, which the 1 MiB buffer delivers in several
	// batches.
	const users = 1000
	pad := strings.Repeat("x", 2000)
	in := make([]jsRecord, users)
	want := make([]string, users)
	for i := range in {
		want[i] = fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, pad)
		in[i] = jsRecord{PartitionKey: fmt.Sprintf("user-%d", i%37), Data: []byte(want[i])}
	}
	sort.Strings(want)
	aggs := kplJS(ctx, t, n, "aggregate", in)
	if len(aggs) < 2 {
		t.Fatalf("aws-kinesis-agg made %d aggregates of 2 MB of records, want several", len(aggs))
	}
	// Spate's reader decodes what the module wrote, record for record.
	var decoded []kpl.Record
	for i, a := range aggs {
		recs, err := kpl.Deaggregate(a.Data)
		if err != nil {
			t.Fatalf("aggregate %d of aws-kinesis-agg: %v", i, err)
		}
		decoded = append(decoded, recs...)
	}
	if len(decoded) != users {
		t.Fatalf("the aggregates hold %d user records, want %d", len(decoded), users)
	}
	for i, r := range decoded {
		if r.PartitionKey != in[i].PartitionKey || !bytes.Equal(r.Data, in[i].Data) {
			t.Fatalf("user record %d decodes as %q/%.40q, want %q/%.40q", i, r.PartitionKey, r.Data, in[i].PartitionKey, in[i].Data)
		}
	}

	for _, a := range aggs {
		e := ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(a.PartitionKey), Data: a.Data}
		if a.ExplicitHashKey != "" {
			e.ExplicitHashKey = aws.String(a.ExplicitHashKey)
		}
		k.putRecords(ctx, t, stream, []ktypes.PutRecordsRequestEntry{e})
	}
	// GetRecords returns the aggregates byte for byte, as Kinesis does.
	put := map[string]bool{}
	for _, a := range aggs {
		put[string(a.Data)] = true
	}
	got := 0
	for _, recs := range k.readAll(ctx, t, stream) {
		for _, r := range recs {
			if !put[string(r.Data)] {
				t.Fatalf("GetRecords returned a record that is not one of the aggregates put: %.60q", r.Data)
			}
			got++
		}
	}
	if got != len(aggs) {
		t.Fatalf("GetRecords returned %d records, want the %d aggregates", got, len(aggs))
	}

	lines := f.waitLines(ctx, t, "kpl/", compress.Gzip, users)
	if len(lines) != users || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Firehose delivered %d lines, want exactly the %d user records", len(lines), users)
	}
	t.Logf("aws-kinesis-agg made %d aggregates of %d user records; Firehose delivered %d lines", len(aggs), users, len(lines))
}

// TestKPLGoAggregateReadByNode: what package kpl writes, aws-kinesis-agg
// reads, and for the same records both write the same bytes.
func TestKPLGoAggregateReadByNode(t *testing.T) {
	n := findNodeClients(t, "aws-kinesis-agg")
	ctx := testCtx(t)
	var recs []kpl.Record
	var in []jsRecord
	for i := range 50 {
		r := kpl.Record{PartitionKey: fmt.Sprintf("pk-%d", i%4), Data: fmt.Appendf(nil, "record %d \x00\xff", i)}
		if i%5 == 0 {
			r.ExplicitHashKey = fmt.Sprint(uint64(i) * 1234567890123)
		}
		recs = append(recs, r)
		in = append(in, jsRecord{PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data})
	}
	agg := kpl.Aggregate(recs)
	out := kplJS(ctx, t, n, "deaggregate", []jsRecord{{PartitionKey: recs[0].PartitionKey, Data: agg}})
	if len(out) != len(recs) {
		t.Fatalf("aws-kinesis-agg read %d user records, want %d", len(out), len(recs))
	}
	for i, u := range out {
		// The module reports a record without an explicit hash key with
		// the table's first one (protobufjs's default index 0): compare
		// hash keys only where one was set.
		if u.PartitionKey != recs[i].PartitionKey || !bytes.Equal(u.Data, recs[i].Data) ||
			u.SubSequenceNumber == nil || *u.SubSequenceNumber != i ||
			(recs[i].ExplicitHashKey != "" && u.ExplicitHashKey != recs[i].ExplicitHashKey) {
			t.Fatalf("aws-kinesis-agg read user record %d as %+v, want %+v", i, u, recs[i])
		}
	}
	back := kplJS(ctx, t, n, "aggregate", in)
	if len(back) != 1 || !bytes.Equal(back[0].Data, agg) {
		t.Fatalf("aws-kinesis-agg aggregated the same records differently:\n node %x\n go   %x", back[0].Data, agg)
	}
}

// TestFirehoseKPLCrash: producers put KPL aggregates into a Kinesis stream
// while a delivery stream de-aggregates it to S3; the server gets SIGKILL
// mid-delivery, restarts, and every acknowledged user record is in S3
// exactly once.
func TestFirehoseKPLCrash(t *testing.T) {
	f := newFH(t)
	ctx := testCtx(t)
	k := &kin{srv: f.srv, c: f.kin}
	stream := uniqueName(t)
	k.create(ctx, t, stream, 2)
	f.createKinesisSourceS3(ctx, t, "kplcrash", stream)

	var mu sync.Mutex
	acked := map[string]bool{}
	var n atomic.Int64
	putCtx, stopPuts := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for p := range 3 {
		wg.Go(func() {
			for i := 0; putCtx.Err() == nil; i++ {
				// One PutRecords call of 4 aggregates of 100 user records.
				var entries []ktypes.PutRecordsRequestEntry
				var data []string
				a := kpl.NewAggregator()
				for j := range 400 {
					d := fmt.Sprintf(`{"p":%d,"i":%d,"j":%d}`, p, i, j)
					data = append(data, d)
					if err := a.Add(kpl.Record{PartitionKey: fmt.Sprint(j % 13), Data: []byte(d)}); err != nil {
						t.Error(err)
						return
					}
					if a.Len() == 100 {
						agg, _ := a.Drain()
						entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(agg.PartitionKey), Data: agg.Data})
					}
				}
				out, err := f.kin.PutRecords(putCtx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
				if err != nil {
					return // the server died under us: not acknowledged
				}
				if aws.ToInt32(out.FailedRecordCount) != 0 {
					t.Errorf("PutRecords failed %d records", aws.ToInt32(out.FailedRecordCount))
					return
				}
				mu.Lock()
				for _, d := range data {
					acked[d] = true
				}
				mu.Unlock()
				n.Add(int64(len(data)))
			}
		})
	}
	// Kill once some user records are acknowledged and some delivered, so
	// the kill lands while delivery runs.
	for n.Load() < 20000 || len(f.lines(ctx, t, "kplcrash/", compress.Gzip)) == 0 {
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.srv.Kill9(t)
	stopPuts()
	wg.Wait()
	f.restart(t)

	mu.Lock()
	want := len(acked)
	mu.Unlock()
	got := f.waitLines(ctx, t, "kplcrash/", compress.Gzip, want)
	wantEachOnce(t, got, acked, "user record")
	t.Logf("%d user records acknowledged before the kill; %d lines in S3 after the restart", want, len(got))
}
