package firehose

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spatehq/spate/firehose/compress"
)

// TestHostilePartitionValuesStayUnderPrefix: a partition key value taken
// from a record cannot place an object outside the destination's prefix
// (defect 7 of issue 11). Values that are not one safe key segment send
// their record to ErrorOutputPrefix, as Firehose does with a record whose
// prefix cannot be evaluated; every object in the bucket stays under one of
// the two prefixes, and no key has a "." or ".." segment.
func TestHostilePartitionValuesStayUnderPrefix(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "hostile",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN:                        f.bucketARN(),
			Prefix:                           "tenant/!{partitionKeyFromQuery:who}/",
			ErrorOutputPrefix:                "tenant-errors/!{firehose:error-output-type}/",
			BufferingHints:                   intervalZero(),
			DynamicPartitioningConfiguration: &DynamicPartitioningConfiguration{Enabled: boolp(true)},
			ProcessingConfiguration: &ProcessingConfiguration{Enabled: boolp(true), Processors: []Processor{
				{Type: "MetadataExtraction", Parameters: []ProcessorParameter{
					{ParameterName: "MetadataExtractionQuery", ParameterValue: "{who: .who}"},
					{ParameterName: "JsonParsingEngine", ParameterValue: "JQ-1.6"},
				}},
				{Type: "AppendDelimiterToRecord"},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{"../../escape", "..", ".", "", "a/../../b", "/abs", "x\x00y", "x\ny", "\u0085"}
	var batch [][]byte
	for _, v := range append([]string{"ok"}, hostile...) {
		b, err := json.Marshal(map[string]string{"who": v})
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, b)
	}
	if _, err := f.svc.PutRecordBatch(ctx, "hostile", batch); err != nil {
		t.Fatal(err)
	}
	if lines := f.waitLines("tenant/ok/", compress.Uncompressed, 1); len(lines) != 1 {
		t.Fatalf("partition ok holds %q, want its one record", lines)
	}
	if lines := f.waitLines("tenant-errors/processing-failed/", compress.Uncompressed, len(hostile)); len(lines) != len(hostile) {
		t.Fatalf("error output holds %d records, want the %d with hostile values: %q", len(lines), len(hostile), lines)
	}
	for key := range f.objects("") {
		if !strings.HasPrefix(key, "tenant/ok/") && !strings.HasPrefix(key, "tenant-errors/processing-failed/") {
			t.Errorf("object %q is outside the prefixes", key)
		}
		for seg := range strings.SplitSeq(key, "/") {
			if seg == "." || seg == ".." {
				t.Errorf("object key %q has the segment %q", key, seg)
			}
		}
	}
}
