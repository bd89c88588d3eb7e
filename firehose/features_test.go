package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/essink/estest"
)

// waitObjects waits until at least n objects exist under prefix.
func (f *fixture) waitObjects(prefix string, n int) map[string][]byte {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		objs := f.objects(prefix)
		if len(objs) >= n || time.Now().After(deadline) {
			return objs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDynamicPartitioning(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "dyn",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), CompressionFormat: "GZIP",
			Prefix:                           "dyn/customer=!{partitionKeyFromQuery:customer}/!{timestamp:yyyy}/",
			ErrorOutputPrefix:                "dyn-errors/!{firehose:error-output-type}/",
			BufferingHints:                   intervalZero(),
			DynamicPartitioningConfiguration: &DynamicPartitioningConfiguration{Enabled: boolp(true)},
			ProcessingConfiguration: &ProcessingConfiguration{Enabled: boolp(true), Processors: []Processor{
				{Type: "MetadataExtraction", Parameters: []ProcessorParameter{
					{ParameterName: "MetadataExtractionQuery", ParameterValue: "{customer: .customer}"},
					{ParameterName: "JsonParsingEngine", ParameterValue: "JQ-1.6"},
				}},
				{Type: "AppendDelimiterToRecord"},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var batch [][]byte
	for i := 0; i < 30; i++ {
		batch = append(batch, []byte(fmt.Sprintf(`{"customer":"c%d","n":%d}`, i%3, i)))
	}
	batch = append(batch, []byte(`{"no_customer":true}`))
	if _, err := f.svc.PutRecordBatch(ctx, "dyn", batch); err != nil {
		t.Fatal(err)
	}
	year := time.Now().UTC().Format("2006")
	for c := 0; c < 3; c++ {
		p := fmt.Sprintf("dyn/customer=c%d/%s/", c, year)
		lines := f.waitLines(p, compress.Gzip, 10)
		if len(lines) != 10 {
			t.Fatalf("partition %s holds %d records, want 10", p, len(lines))
		}
		for _, l := range lines {
			if !strings.Contains(l, fmt.Sprintf(`"customer":"c%d"`, c)) {
				t.Fatalf("record %s is in partition c%d", l, c)
			}
		}
	}
	errLines := f.waitLines("dyn-errors/", compress.Gzip, 1)
	if len(errLines) != 1 {
		t.Fatalf("%d error records, want 1 (the record without a customer)", len(errLines))
	}
	for key := range f.objects("dyn-errors/") {
		if !strings.HasPrefix(key, "dyn-errors/processing-failed/") {
			t.Errorf("error object %s is not under the rendered error-output-type", key)
		}
	}
}

func TestParquetConversion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "pq",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "pq/", ErrorOutputPrefix: "pq-errors/", BufferingHints: intervalZero(),
			DataFormatConversionConfiguration: &DataFormatConversionConfiguration{
				Enabled:             boolp(true),
				SchemaConfiguration: &SchemaConfiguration{Columns: "ticker:string,price:double,qty:int"},
				OutputFormatConfiguration: &OutputFormatConfiguration{Serializer: &Serializer{
					ParquetSerDe: &ParquetSerDe{Compression: "GZIP"}}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var batch [][]byte
	for i := 0; i < 40; i++ {
		batch = append(batch, []byte(fmt.Sprintf(`{"ticker":"T%d","price":%d.5,"qty":%d}`, i, i, i*2)))
	}
	batch = append(batch, []byte(`{"ticker":"BAD","price":"not a number","qty":1}`))
	if _, err := f.svc.PutRecordBatch(ctx, "pq", batch); err != nil {
		t.Fatal(err)
	}
	objs := f.waitObjects("pq/", 1)
	if len(objs) != 1 {
		t.Fatalf("%d Parquet objects, want 1", len(objs))
	}
	for key, body := range objs {
		if !strings.HasSuffix(key, ".parquet") {
			t.Errorf("object %s lacks the .parquet extension", key)
		}
		file, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatalf("open %s: %v", key, err)
		}
		type row struct {
			Ticker string  `parquet:"ticker"`
			Price  float64 `parquet:"price"`
			Qty    int32   `parquet:"qty"`
		}
		r := parquet.NewGenericReader[row](file)
		rows := make([]row, 100)
		n, err := r.Read(rows)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("read %s: %v", key, err)
		}
		rows = rows[:n]
		sort.Slice(rows, func(i, j int) bool { return rows[i].Qty < rows[j].Qty })
		if len(rows) != 40 {
			t.Fatalf("%d rows, want 40", len(rows))
		}
		for i, got := range rows {
			want := row{fmt.Sprintf("T%d", i), float64(i) + 0.5, int32(i * 2)}
			if got != want {
				t.Fatalf("row %d = %+v, want %+v", i, got, want)
			}
		}
	}
	errLines := f.waitLines("pq-errors/", compress.Uncompressed, 1)
	if len(errLines) != 1 || !strings.Contains(errLines[0], "format-conversion") && !strings.Contains(errLines[0], "DataFormatConversion") {
		t.Fatalf("conversion error records: %v", errLines)
	}
}

func TestElasticsearchAllDocumentsAndRotation(t *testing.T) {
	es := estest.New(t)
	f := newFixture(t)
	ctx := context.Background()
	// The first bulk request fails as a whole; delivery retries it.
	es.FailRequests(1, 503)
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "es-all",
		ElasticsearchDestinationConfiguration: &ElasticsearchDestinationConfiguration{
			ClusterEndpoint: es.URL(), IndexName: "events", IndexRotationPeriod: "OneDay", S3BackupMode: "AllDocuments",
			BufferingHints: &BufferingHints{IntervalInSeconds: intp(0)}, RetryOptions: &RetryOptions{DurationInSeconds: intp(60)},
			S3Configuration: &S3DestinationConfiguration{BucketARN: f.bucketARN(), Prefix: "all/", CompressionFormat: "GZIP"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var batch [][]byte
	for i := 0; i < 25; i++ {
		batch = append(batch, []byte(fmt.Sprintf(`{"e":%d}`, i)))
	}
	if _, err := f.svc.PutRecordBatch(ctx, "es-all", batch); err != nil {
		t.Fatal(err)
	}
	index := "events-" + time.Now().UTC().Format("2006-01-02")
	deadline := time.Now().Add(60 * time.Second)
	for es.Count(index) < 25 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := es.Count(index); n != 25 {
		t.Fatalf("index %s holds %d documents, want 25 (indices: %v)", index, n, es.Indices())
	}
	objs := f.waitObjects("all/", 1)
	total := 0
	for key, body := range objs {
		raw, err := compress.Decompress(compress.Gzip, body)
		if err != nil {
			t.Fatalf("decompress %s: %v", key, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		for dec.More() {
			var v map[string]int
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("backup %s: %v", key, err)
			}
			total++
		}
	}
	if total != 25 {
		t.Fatalf("AllDocuments backup holds %d records, want 25", total)
	}
}

func TestCustomTimeZonePrefix(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "tz",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "tz/!{timestamp:yyyy-MM-dd-HH}/", CustomTimeZone: "Asia/Kolkata",
			ErrorOutputPrefix: "tz-errors/!{firehose:error-output-type}/",
			BufferingHints:    intervalZero(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := f.svc.PutRecord(ctx, "tz", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	objs := f.waitObjects("tz/", 1)
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	want1 := "tz/" + before.In(kolkata).Format("2006-01-02-15") + "/"
	want2 := "tz/" + time.Now().In(kolkata).Format("2006-01-02-15") + "/"
	for key := range objs {
		if !strings.HasPrefix(key, want1) && !strings.HasPrefix(key, want2) {
			t.Fatalf("object %s: the prefix is not in Asia/Kolkata time (want %s)", key, want1)
		}
	}
	_, err = f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName:                 "tz-bad",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{BucketARN: f.bucketARN(), CustomTimeZone: "Mars/Olympus"},
	})
	if err == nil || !strings.Contains(err.Error(), "CustomTimeZone") {
		t.Fatalf("unknown time zone: %v, want an error naming CustomTimeZone", err)
	}
}
