package firehose

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/s3store/s3test"
	"github.com/spatehq/spate/shard"
)

// TestRefusedRecordsAreNotIncoming: records the store refuses (an injected
// fault, spate serve --fault-rate) fail on their own in PutRecordBatch and
// are not counted as accepted.
func TestRefusedRecordsAreNotIncoming(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := &fixture{t: t, dir: t.TempDir(), s3cfg: s3test.Server(t), storeOpts: []shard.Option{shard.WithFaultInjection(true)}}
	f.opts = []Option{WithRegisterer(reg), WithS3(f.s3cfg)}
	f.open()
	t.Cleanup(f.close)
	ctx := context.Background()
	if _, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "d",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: "arn:aws:s3:::nowhere", BufferingHints: intervalZero(),
		},
	}); err != nil {
		t.Fatal(err)
	}
	first := shard.WithFaults(ctx, shard.Faults{Record: func(i int) apierr.Code {
		if i == 0 {
			return apierr.ServiceUnavailableException
		}
		return ""
	}})
	out, err := f.svc.PutRecordBatch(first, "d", [][]byte{[]byte("refused"), []byte("stored!")})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedPutCount != 1 || out.RequestResponses[0].ErrorCode != string(apierr.ServiceUnavailableException) ||
		out.RequestResponses[1].RecordId == "" {
		t.Fatalf("PutRecordBatch: %+v", out)
	}
	got := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			got[fam.GetName()] += m.GetCounter().GetValue()
		}
	}
	if got["spate_firehose_incoming_records_total"] != 1 || got["spate_firehose_incoming_bytes_total"] != 7 {
		t.Errorf("incoming records %v and bytes %v, want the stored record's 1 and 7",
			got["spate_firehose_incoming_records_total"], got["spate_firehose_incoming_bytes_total"])
	}
}
