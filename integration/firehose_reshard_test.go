package integration

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/spatehq/spate/firehose/compress"
)

// TestFirehoseReshardCrash: a delivery stream reads a Kinesis stream that
// goes 2 → 4 → 3 → 2 → 1 shards while producers write keyed records; the
// server gets SIGKILL after the first reshard, with parents still being
// delivered, and restarts. Every acknowledged record is in S3 exactly once.
func TestFirehoseReshardCrash(t *testing.T) {
	f := newFH(t)
	ctx := testCtx(t)
	k := &kin{srv: f.srv, c: f.kin}
	stream := uniqueName(t)
	k.create(ctx, t, stream, 2)
	const name = "reshard"
	_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
			KinesisStreamARN: k.summary(ctx, t, stream).StreamARN, RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose")},
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: f.bucketARN(),
			Prefix: aws.String(name + "/"), CompressionFormat: fhtypes.CompressionFormatGzip,
			BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked = map[string]bool{}
	)
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	// produce runs producers until stop is closed or a put fails (the
	// kill): a failed call's records are not acknowledged.
	produce := func(round int, stop <-chan struct{}) *sync.WaitGroup {
		var wg sync.WaitGroup
		for p := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					var entries []ktypes.PutRecordsRequestEntry
					for j := range 3 {
						entries = append(entries, ktypes.PutRecordsRequestEntry{
							PartitionKey: aws.String(fmt.Sprintf("p%d-k%d", p, j)),
							Data:         fmt.Appendf(nil, `{"r":%d,"p":%d,"k":%d,"i":%d}`, round, p, j, i),
						})
					}
					out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
					if err != nil {
						return
					}
					mu.Lock()
					for j, r := range out.Records {
						if r.ErrorCode == nil {
							acked[string(entries[j].Data)] = true
						}
					}
					mu.Unlock()
				}
			}()
		}
		return &wg
	}
	progress := func(more int) {
		want := count() + more
		for count() < want {
			if ctx.Err() != nil {
				t.Fatalf("producers stalled at %d records", count())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	scale := func(n int32) {
		t.Helper()
		if _, err := k.c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(stream), TargetShardCount: aws.Int32(n), ScalingType: ktypes.ScalingTypeUniformScaling}); err != nil {
			t.Fatalf("UpdateShardCount %d: %v", n, err)
		}
		k.waitActive(ctx, t, stream)
	}

	stop := make(chan struct{})
	wg := produce(1, stop)
	progress(600)
	scale(4)
	progress(300)
	// Kill while the parents' last batches and the children's first are
	// being delivered.
	f.srv.Kill9(t)
	close(stop)
	wg.Wait()
	f.restart(t)
	k.c = f.kin

	stop = make(chan struct{})
	wg = produce(2, stop)
	progress(300)
	for _, n := range []int32{3, 2, 1} {
		scale(n)
		progress(300)
	}
	close(stop)
	wg.Wait()

	got := f.waitLines(ctx, t, name+"/", compress.Gzip, count())
	mu.Lock()
	defer mu.Unlock()
	wantEachOnce(t, got, acked, "record")
	if len(got) != len(acked) {
		// Puts the kill interrupted may have been stored unacknowledged;
		// anything beyond that is a duplicate wantEachOnce reported.
		t.Logf("%d records in S3, %d acknowledged", len(got), len(acked))
	}
}
