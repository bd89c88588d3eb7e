package firehose

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/spatehq/spate/firehose/essink/estest"
	"github.com/spatehq/spate/kpl"
	"github.com/spatehq/spate/shard"
)

// kplRecords returns n user records {"<key>":i} with partition keys that
// repeat, so the aggregate's table is shared.
func kplRecords(key string, from, n int) []kpl.Record {
	recs := make([]kpl.Record, n)
	for i := range recs {
		recs[i] = kpl.Record{PartitionKey: fmt.Sprint((from + i) % 7), Data: fmt.Appendf(nil, `{"%s":%d}`, key, from+i)}
	}
	return recs
}

// TestKinesisSourceDeaggregatesKPL: a Kinesis stream source with a plain
// record, two KPL aggregates and a corrupt aggregate delivers every user
// record once, the corrupt one as it is, and counts both kinds; a DirectPut
// delivery stream delivers an aggregate as it was put.
func TestKinesisSourceDeaggregatesKPL(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, WithRegisterer(reg))
	ctx := context.Background()
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "kpl-src", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []CreateDeliveryStreamInput{
		{DeliveryStreamName: "kpl", DeliveryStreamType: TypeKinesisStreamAsSource,
			KinesisStreamSourceConfiguration: &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("kpl-src")}},
		{DeliveryStreamName: "direct"},
	} {
		c.ExtendedS3DestinationConfiguration = &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: c.DeliveryStreamName + "/", BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
		}
		if _, err := f.svc.CreateDeliveryStream(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := kpl.Aggregate(kplRecords("bad", 0, 3))
	corrupt[len(corrupt)-1] ^= 0xff // the MD5 no longer matches
	entries := []shard.Entry{
		{PartitionKey: "p", Data: []byte(`{"k":0}`)},
		{PartitionKey: "a", Data: kpl.Aggregate(kplRecords("k", 1, 99))},
		{PartitionKey: "b", Data: corrupt},
		{PartitionKey: "c", Data: kpl.Aggregate(kplRecords("k", 100, 50))},
	}
	if _, err := f.store.Append(ctx, "kpl-src", entries); err != nil {
		t.Fatal(err)
	}
	// Everything is one append, hence one batch: the corrupt aggregate
	// sits between two good ones in the same object.
	size := len(corrupt) + 1
	for i := range 150 {
		size += len(fmt.Sprintf(`{"k":%d}`, i)) + 1
	}
	body := f.waitBody("kpl/", size)
	if !bytes.Contains(body, append(append([]byte(nil), corrupt...), '\n')) {
		t.Fatalf("the corrupt aggregate is not delivered as it is:\n%q", body)
	}
	var lines []string
	for _, l := range strings.Split(string(bytes.Replace(body, corrupt, nil, 1)), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	wantLines(t, lines, 150, "k")
	if got := counterOf(t, f.svc.metrics.kplInvalid.WithLabelValues("kpl")); got != 1 {
		t.Errorf("spate_firehose_kpl_invalid_aggregates_total = %v, want 1", got)
	}
	if got := counterOf(t, f.svc.metrics.kplUserRecords.WithLabelValues("kpl")); got != 149 {
		t.Errorf("spate_firehose_kpl_user_records_total = %v, want 149", got)
	}
	if got := counterOf(t, f.svc.metrics.records.WithLabelValues("kpl", "s3")); got != 151 {
		t.Errorf("delivered records = %v, want 151 (150 user records and the corrupt one)", got)
	}

	agg := kpl.Aggregate(kplRecords("d", 0, 5))
	if _, err := f.svc.PutRecord(ctx, "direct", agg); err != nil {
		t.Fatal(err)
	}
	if got := f.waitBody("direct/", len(agg)+1); !bytes.Equal(got, append(agg, '\n')) {
		t.Fatalf("DirectPut delivered %q, want the aggregate as put", got)
	}
}

func counterOf(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// waitBody waits until the objects under prefix hold at least n bytes and
// returns them concatenated in key order.
func (f *fixture) waitBody(prefix string, n int) []byte {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		objs := f.objects(prefix)
		keys := make([]string, 0, len(objs))
		for k := range objs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var body []byte
		for _, k := range keys {
			body = append(body, objs[k]...)
		}
		if len(body) >= n || time.Now().After(deadline) {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKinesisSourceKPLToElasticsearch: the user records of one aggregate
// share a sequence number, so their document ids carry the sub-sequence
// number; otherwise they would overwrite each other.
func TestKinesisSourceKPLToElasticsearch(t *testing.T) {
	es := estest.New(t)
	f := newFixture(t)
	ctx := context.Background()
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "kpl-es", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "es", DeliveryStreamType: TypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("kpl-es")},
		ElasticsearchDestinationConfiguration: &ElasticsearchDestinationConfiguration{
			ClusterEndpoint: es.URL(), IndexName: "users", IndexRotationPeriod: "NoRotation",
			BufferingHints: intervalZero(), S3Configuration: &S3DestinationConfiguration{BucketARN: f.bucketARN()},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.store.Append(ctx, "kpl-es", []shard.Entry{{PartitionKey: "a", Data: kpl.Aggregate(kplRecords("v", 0, 20))}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for es.Count("users") < 20 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := es.Count("users"); n != 20 {
		t.Fatalf("index holds %d documents, want the 20 user records", n)
	}
	id := res[0].SequenceNumber + ":19"
	if src, ok := es.Source("users", id); !ok || string(src) != `{"v":19}` {
		t.Fatalf("document %s = %q (found %v), want the last user record", id, src, ok)
	}
}

// BenchmarkDeaggregateBatch measures what de-aggregation adds to a Kinesis
// source batch of 10,000 records of 100 bytes: plain records (a scan), and
// the same user records in 20 aggregates of 500.
func BenchmarkDeaggregateBatch(b *testing.B) {
	w := &worker{s: &Service{metrics: &metrics{
		kplUserRecords: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "u"}, []string{"delivery_stream"}),
		kplInvalid:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "i"}, []string{"delivery_stream"}),
	}}, meta: dsMeta{Name: "bench", Type: TypeKinesisStreamAsSource}}
	users := kplRecords(strings.Repeat("k", 80), 0, 10000)
	var plain, aggregated []shard.Record
	for i, u := range users {
		plain = append(plain, shard.Record{SequenceNumber: fmt.Sprint(i), Data: u.Data})
		if i%500 == 0 {
			aggregated = append(aggregated, shard.Record{SequenceNumber: fmt.Sprint(i), Data: kpl.Aggregate(users[i : i+500])})
		}
	}
	for _, c := range []struct {
		name string
		recs []shard.Record
	}{{"plain", plain}, {"aggregated", aggregated}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bt := &batch{records: c.recs}
				w.deaggregate(bt)
				if len(bt.records) != 10000 {
					b.Fatalf("%d records", len(bt.records))
				}
			}
		})
	}
}
