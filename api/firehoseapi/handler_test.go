package firehoseapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/shard"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDeliveryStreamLifecycle(t *testing.T) {
	f := newFixture(t)
	before := float64(time.Now().Add(-time.Second).UnixMilli()) / 1000

	created := f.OK("CreateDeliveryStream", map[string]any{
		"DeliveryStreamName": "orders",
		"DeliveryStreamType": "DirectPut",
		"ExtendedS3DestinationConfiguration": f.s3Config(map[string]any{
			"Prefix": "orders/", "CompressionFormat": "GZIP",
			"BufferingHints": map[string]any{"SizeInMBs": 1, "IntervalInSeconds": 60},
		}),
		"Tags":                         []map[string]string{{"Key": "team", "Value": "a"}},
		"DirectPutSourceConfiguration": map[string]any{"ThroughputHintInMBs": 1},
	})
	const arn = "arn:aws:firehose:us-east-1:000000000000:deliverystream/orders"
	if created["DeliveryStreamARN"] != arn {
		t.Errorf("CreateDeliveryStream = %v", created)
	}
	f.FailsWith("CreateDeliveryStream", map[string]any{"DeliveryStreamName": "orders",
		"ExtendedS3DestinationConfiguration": f.s3Config(nil)}, 400, "ResourceInUseException", "already exists")

	var version string
	t.Run("DescribeDeliveryStream", func(t *testing.T) {
		d := f.OK("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "orders"})["DeliveryStreamDescription"].(map[string]any)
		if d["DeliveryStreamName"] != "orders" || d["DeliveryStreamARN"] != arn || d["DeliveryStreamStatus"] != "ACTIVE" ||
			d["DeliveryStreamType"] != "DirectPut" || d["HasMoreDestinations"] != false {
			t.Errorf("description = %v", d)
		}
		version, _ = d["VersionId"].(string)
		if version == "" {
			t.Errorf("VersionId = %v", d["VersionId"])
		}
		for _, k := range []string{"CreateTimestamp", "LastUpdateTimestamp"} {
			if ts, ok := d[k].(float64); !ok || ts < before || ts > float64(time.Now().Add(time.Second).UnixMilli())/1000 {
				t.Errorf("%s = %v, want epoch seconds near now", k, d[k])
			}
		}
		if _, ok := d["Source"]; ok {
			t.Errorf("a DirectPut stream has a Source: %v", d["Source"])
		}
		dests := d["Destinations"].([]any)
		if len(dests) != 1 {
			t.Fatalf("Destinations = %v", dests)
		}
		dest := dests[0].(map[string]any)
		ext, _ := dest["ExtendedS3DestinationDescription"].(map[string]any)
		if dest["DestinationId"] == "" || ext["BucketARN"] != f.bucketARN() || ext["Prefix"] != "orders/" || ext["CompressionFormat"] != "GZIP" {
			t.Errorf("destination = %v", dest)
		}
		if hints := ext["BufferingHints"].(map[string]any); hints["SizeInMBs"] != 1.0 || hints["IntervalInSeconds"] != 60.0 {
			t.Errorf("BufferingHints = %v", hints)
		}
		if _, ok := dest["S3DestinationDescription"].(map[string]any); !ok {
			t.Errorf("an ExtendedS3 destination should also be described as S3DestinationDescription: %v", dest)
		}
		past := f.OK("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "orders", "ExclusiveStartDestinationId": dest["DestinationId"]})
		if dests := past["DeliveryStreamDescription"].(map[string]any)["Destinations"].([]any); len(dests) != 0 {
			t.Errorf("destinations after the only one = %v", dests)
		}
	})

	t.Run("ListDeliveryStreams", func(t *testing.T) {
		f.OK("CreateDeliveryStream", map[string]any{"DeliveryStreamName": "payments", "S3DestinationConfiguration": f.s3Config(nil)})
		page := f.OK("ListDeliveryStreams", map[string]any{"Limit": 1})
		if names := page["DeliveryStreamNames"].([]any); len(names) != 1 || names[0] != "orders" || page["HasMoreDeliveryStreams"] != true {
			t.Errorf("first page = %v", page)
		}
		next := f.OK("ListDeliveryStreams", map[string]any{"ExclusiveStartDeliveryStreamName": "orders", "DeliveryStreamType": "DirectPut"})
		if names := next["DeliveryStreamNames"].([]any); len(names) != 1 || names[0] != "payments" || next["HasMoreDeliveryStreams"] != false {
			t.Errorf("second page = %v", next)
		}
		none := f.OK("ListDeliveryStreams", map[string]any{"DeliveryStreamType": "KinesisStreamAsSource"})
		if names, ok := none["DeliveryStreamNames"].([]any); !ok || len(names) != 0 {
			t.Errorf("no KinesisStreamAsSource streams should list as [] = %s", none)
		}
	})

	t.Run("tags", func(t *testing.T) {
		f.OK("TagDeliveryStream", map[string]any{"DeliveryStreamName": "orders", "Tags": []map[string]string{{"Key": "env", "Value": "prod"}, {"Key": "owner"}}})
		got := f.OK("ListTagsForDeliveryStream", map[string]any{"DeliveryStreamName": "orders", "Limit": 2})
		tags := got["Tags"].([]any)
		if len(tags) != 2 || got["HasMoreTags"] != true || tags[0].(map[string]any)["Key"] != "env" || tags[0].(map[string]any)["Value"] != "prod" {
			t.Errorf("ListTagsForDeliveryStream = %v", got)
		}
		rest := f.OK("ListTagsForDeliveryStream", map[string]any{"DeliveryStreamName": "orders", "ExclusiveStartTagKey": "owner"})
		if tags := rest["Tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["Key"] != "team" || rest["HasMoreTags"] != false {
			t.Errorf("after owner = %v", rest)
		}
		f.OK("UntagDeliveryStream", map[string]any{"DeliveryStreamName": "orders", "TagKeys": []string{"env", "owner", "team"}})
		if tags := f.OK("ListTagsForDeliveryStream", map[string]any{"DeliveryStreamName": "orders"})["Tags"].([]any); len(tags) != 0 {
			t.Errorf("tags after removal = %v", tags)
		}
		f.FailsWith("TagDeliveryStream", map[string]any{"DeliveryStreamName": "orders", "Tags": []map[string]string{{"Key": "aws:x"}}}, 400,
			"InvalidArgumentException", "Member must satisfy regular expression pattern: ^(?!aws:)")
		f.FailsWith("ListTagsForDeliveryStream", map[string]any{"DeliveryStreamName": "nope"}, 400, "ResourceNotFoundException", "nope")
	})

	t.Run("UpdateDestination", func(t *testing.T) {
		// BucketARN is repeated because firehose's merge of an update
		// takes an absent BucketARN for "" (reported to the lead).
		upd := map[string]any{
			"DeliveryStreamName": "orders", "CurrentDeliveryStreamVersionId": version,
			"DestinationId": "destinationId-000000000001",
			"ExtendedS3DestinationUpdate": map[string]any{"BucketARN": f.bucketARN(), "CompressionFormat": "ZSTD",
				"BufferingHints": map[string]any{"IntervalInSeconds": 0}},
		}
		f.OK("UpdateDestination", upd)
		d := f.OK("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "orders"})["DeliveryStreamDescription"].(map[string]any)
		ext := d["Destinations"].([]any)[0].(map[string]any)["ExtendedS3DestinationDescription"].(map[string]any)
		if ext["CompressionFormat"] != "ZSTD" || ext["Prefix"] != "orders/" || d["VersionId"] == version {
			t.Errorf("after the update: version %v, destination %v", d["VersionId"], ext)
		}
		f.FailsWith("UpdateDestination", upd, 400, "ConcurrentModificationException", "CurrentDeliveryStreamVersionId")
		upd["CurrentDeliveryStreamVersionId"] = d["VersionId"]
		upd["ExtendedS3DestinationUpdate"] = map[string]any{"S3BackupUpdate": map[string]any{"BucketARN": f.bucketARN()}}
		f.FailsWith("UpdateDestination", upd, 400, "InvalidArgumentException", "ExtendedS3DestinationUpdate.S3BackupUpdate is not supported by Spate")
	})

	t.Run("DeleteDeliveryStream", func(t *testing.T) {
		if got := f.OK("DeleteDeliveryStream", map[string]any{"DeliveryStreamName": "payments", "AllowForceDelete": true}); len(got) != 0 {
			t.Errorf("DeleteDeliveryStream = %v, want {}", got)
		}
		f.FailsWith("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "payments"}, 400, "ResourceNotFoundException", "payments")
		f.FailsWith("DeleteDeliveryStream", map[string]any{"DeliveryStreamName": "payments"}, 400, "ResourceNotFoundException", "payments")
	})
}

func TestPutRecordsAreDelivered(t *testing.T) {
	f := newFixture(t)
	f.OK("CreateDeliveryStream", map[string]any{
		"DeliveryStreamName": "events",
		"ExtendedS3DestinationConfiguration": f.s3Config(map[string]any{
			"Prefix": "events/", "BufferingHints": map[string]any{"IntervalInSeconds": 0},
			"ProcessingConfiguration": map[string]any{"Enabled": true, "Processors": []map[string]any{{"Type": "AppendDelimiterToRecord"}}},
		}),
	})
	put := f.OK("PutRecord", map[string]any{"DeliveryStreamName": "events", "Record": map[string]any{"Data": b64("one")}})
	if id, _ := put["RecordId"].(string); id == "" || put["Encrypted"] != false {
		t.Errorf("PutRecord = %v", put)
	}
	batch := f.OK("PutRecordBatch", map[string]any{"DeliveryStreamName": "events", "Records": []map[string]any{
		{"Data": b64("two")}, {"Data": b64("three")},
	}})
	resps := batch["RequestResponses"].([]any)
	if batch["FailedPutCount"] != 0.0 || batch["Encrypted"] != false || len(resps) != 2 {
		t.Fatalf("PutRecordBatch = %v", batch)
	}
	ids := map[string]bool{put["RecordId"].(string): true}
	for _, r := range resps {
		id, _ := r.(map[string]any)["RecordId"].(string)
		if id == "" || ids[id] {
			t.Errorf("RecordIds are not distinct: %v", resps)
		}
		ids[id] = true
	}

	// The records reach S3, one per line (in several objects, whose keys
	// need not sort in delivery order).
	deadline := time.Now().Add(60 * time.Second)
	var got []byte
	for time.Now().Before(deadline) {
		got = got[:0]
		objs, err := f.s3.List(context.Background(), f.bucket, "events/")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			b, err := f.s3.Get(context.Background(), f.bucket, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b...)
		}
		if bytes.Count(got, []byte("\n")) >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	lines := strings.Fields(string(got))
	slices.Sort(lines)
	if strings.Join(lines, ",") != "one,three,two" || !bytes.HasSuffix(got, []byte("\n")) {
		t.Errorf("S3 holds %q, want the three records, each with a newline", got)
	}

	f.FailsWith("PutRecord", map[string]any{"DeliveryStreamName": "nope", "Record": map[string]any{"Data": ""}}, 400, "ResourceNotFoundException", "nope")
	f.FailsWith("PutRecordBatch", map[string]any{"DeliveryStreamName": "events", "Records": []map[string]any{}}, 400,
		"InvalidArgumentException", "Value '[]' at 'Records' failed to satisfy constraint: Member must have length greater than or equal to 1")
	big := b64(strings.Repeat("x", 1024000+1))
	f.FailsWith("PutRecord", map[string]any{"DeliveryStreamName": "events", "Record": map[string]any{"Data": big}}, 400,
		"InvalidArgumentException", "at 'Record.Data' failed to satisfy constraint: Member must have length less than or equal to 1024000")
	// 5 records of 1,000 KiB are within every per-record limit but over 4 MiB.
	var five []map[string]any
	for range 5 {
		five = append(five, map[string]any{"Data": b64(strings.Repeat("x", 1024000))})
	}
	f.FailsWith("PutRecordBatch", map[string]any{"DeliveryStreamName": "events", "Records": five}, 400, "InvalidArgumentException", "4 MiB")
}

func TestKinesisStreamAsSource(t *testing.T) {
	f := newFixture(t)
	if err := f.store.CreateStream(context.Background(), shard.CreateStreamInput{Name: "clicks", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	streamARN := f.store.StreamARN("clicks")
	f.OK("CreateDeliveryStream", map[string]any{
		"DeliveryStreamName":                 "from-clicks",
		"DeliveryStreamType":                 "KinesisStreamAsSource",
		"KinesisStreamSourceConfiguration":   map[string]any{"KinesisStreamARN": streamARN, "RoleARN": testRole},
		"ExtendedS3DestinationConfiguration": f.s3Config(nil),
	})
	d := f.OK("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "from-clicks"})["DeliveryStreamDescription"].(map[string]any)
	src, _ := d["Source"].(map[string]any)["KinesisStreamSourceDescription"].(map[string]any)
	if d["DeliveryStreamType"] != "KinesisStreamAsSource" || src["KinesisStreamARN"] != streamARN {
		t.Errorf("description = %v", d)
	}
	if ts, ok := src["DeliveryStartTimestamp"].(float64); !ok || ts < 1e9 {
		t.Errorf("DeliveryStartTimestamp = %v", src["DeliveryStartTimestamp"])
	}
	f.FailsWith("PutRecord", map[string]any{"DeliveryStreamName": "from-clicks", "Record": map[string]any{"Data": ""}}, 400,
		"InvalidArgumentException", "KinesisStreamAsSource")
	f.FailsWith("CreateDeliveryStream", map[string]any{
		"DeliveryStreamName": "bad-source", "DeliveryStreamType": "KinesisStreamAsSource",
		"KinesisStreamSourceConfiguration":   map[string]any{"KinesisStreamARN": strings.Replace(streamARN, "clicks", "nope", 1), "RoleARN": testRole},
		"ExtendedS3DestinationConfiguration": f.s3Config(nil),
	}, 400, "InvalidArgumentException", "nope")
}

// TestBadConfigurations checks that a bad configuration answers
// InvalidArgumentException with a message naming what is wrong, whether
// the model's constraints catch it or the service does.
func TestBadConfigurations(t *testing.T) {
	f := newFixture(t)
	const v1 = "1 validation error detected: "
	tests := []struct {
		name string
		set  map[string]any // ExtendedS3DestinationConfiguration members
		want string
	}{
		{"bucket ARN not an S3 ARN", map[string]any{"BucketARN": "my-bucket"},
			v1 + `Value 'my-bucket' at 'ExtendedS3DestinationConfiguration.BucketARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:s3:::[\w\.\-]{1,255}`},
		{"bucket name S3 refuses", map[string]any{"BucketARN": "arn:aws:s3:::a"}, "ExtendedS3DestinationConfiguration.BucketARN"},
		{"size hint too small", map[string]any{"BufferingHints": map[string]any{"SizeInMBs": 0}},
			v1 + "Value '0' at 'ExtendedS3DestinationConfiguration.BufferingHints.SizeInMBs' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"size hint too large", map[string]any{"BufferingHints": map[string]any{"SizeInMBs": 129}},
			v1 + "Value '129' at 'ExtendedS3DestinationConfiguration.BufferingHints.SizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128"},
		{"interval hint too large", map[string]any{"BufferingHints": map[string]any{"IntervalInSeconds": 901}},
			v1 + "Value '901' at 'ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{"unknown compression", map[string]any{"CompressionFormat": "LZ4"},
			v1 + "Value 'LZ4' at 'ExtendedS3DestinationConfiguration.CompressionFormat' failed to satisfy constraint: Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY, ZSTD]"},
		{"no role", map[string]any{"RoleARN": nil},
			v1 + "Value null at 'ExtendedS3DestinationConfiguration.RoleARN' failed to satisfy constraint: Member must not be null"},
		{"bad prefix expression", map[string]any{"Prefix": "!{nope}"}, "ExtendedS3DestinationConfiguration.Prefix"},
		// Defect 7 of issue 11: keys that climb out of the prefix.
		{"prefix with a parent segment", map[string]any{"Prefix": "../other/"},
			`ExtendedS3DestinationConfiguration.Prefix: invalid prefix at offset 0: the prefix evaluates to "../other/2006/05/02/15/", which has the path segment ".."`},
		{"error output prefix with a parent segment", map[string]any{"ErrorOutputPrefix": "errors/../../x/"},
			`ExtendedS3DestinationConfiguration.ErrorOutputPrefix: invalid prefix at offset 7`},
		{"prefix with a control character", map[string]any{"Prefix": "a\tb/"}, "control character U+0009"},
		{"unsupported processor", map[string]any{"ProcessingConfiguration": map[string]any{"Enabled": true,
			"Processors": []map[string]any{{"Type": "Decompression"}}}}, "processor type Decompression is not supported by Spate"},
		{"Lambda processor on a server without functions", map[string]any{"ProcessingConfiguration": map[string]any{"Enabled": true,
			"Processors": []map[string]any{{"Type": "Lambda", "Parameters": []map[string]any{{"ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:us-east-1:000000000000:function:f"}}}}}},
			"a Lambda processor needs functions, which are not enabled on this server"},
		{"blank processor parameter", map[string]any{"ProcessingConfiguration": map[string]any{"Enabled": true,
			"Processors": []map[string]any{{"Type": "AppendDelimiterToRecord", "Parameters": []map[string]any{{"ParameterName": "Delimiter", "ParameterValue": " "}}}}}},
			"Member must satisfy regular expression pattern: ^(?!\\s*$).+"},
		{"Parquet without columns", map[string]any{"DataFormatConversionConfiguration": map[string]any{"Enabled": true}},
			"SchemaConfiguration.Columns is required"},
		{"Parquet tuning Spate ignores", map[string]any{"DataFormatConversionConfiguration": map[string]any{"Enabled": true,
			"SchemaConfiguration":       map[string]any{"Columns": "a:string"},
			"OutputFormatConfiguration": map[string]any{"Serializer": map[string]any{"ParquetSerDe": map[string]any{"BlockSizeBytes": 67108864}}}}},
			"ExtendedS3DestinationConfiguration.DataFormatConversionConfiguration.OutputFormatConfiguration.Serializer.ParquetSerDe.BlockSizeBytes is not supported by Spate"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := f.s3Config(tt.set)
			for k, v := range tt.set {
				if v == nil {
					delete(cfg, k)
				}
			}
			r := f.FailsWith("CreateDeliveryStream", map[string]any{"DeliveryStreamName": fmt.Sprintf("bad-%d", i), "ExtendedS3DestinationConfiguration": cfg}, 400,
				"InvalidArgumentException", tt.want)
			if strings.HasPrefix(tt.want, v1) && r.Message() != tt.want {
				t.Errorf("message\n got: %s\nwant: %s", r.Message(), tt.want)
			}
		})
	}

	t.Run("Spate extensions are accepted", func(t *testing.T) {
		f.OK("CreateDeliveryStream", map[string]any{"DeliveryStreamName": "zstd", "ExtendedS3DestinationConfiguration": f.s3Config(map[string]any{"CompressionFormat": "ZSTD"})})
		f.OK("CreateDeliveryStream", map[string]any{"DeliveryStreamName": "parquet", "ExtendedS3DestinationConfiguration": f.s3Config(map[string]any{
			"DataFormatConversionConfiguration": map[string]any{"Enabled": true, "SchemaConfiguration": map[string]any{"Columns": "id:int,name:string"},
				"OutputFormatConfiguration": map[string]any{"Serializer": map[string]any{"ParquetSerDe": map[string]any{"Compression": "GZIP"}}}},
		})})
	})
	t.Run("other problems", func(t *testing.T) {
		f.FailsWith("CreateDeliveryStream", map[string]any{"DeliveryStreamName": "none"}, 400, "InvalidArgumentException", "give exactly one destination")
		f.FailsWith("CreateDeliveryStream", map[string]any{"DeliveryStreamName": "redshift", "RedshiftDestinationConfiguration": map[string]any{
			"RoleARN": testRole, "ClusterJDBCURL": "jdbc:redshift://x", "CopyCommand": map[string]any{"DataTableName": "t"},
			"Username": "u", "S3Configuration": f.s3Config(nil),
		}}, 400, "InvalidArgumentException", "RedshiftDestinationConfiguration is not supported by Spate")
		f.FailsWith("CreateDeliveryStream", map[string]any{"DeliveryStreamName": "a b", "S3DestinationConfiguration": f.s3Config(nil)}, 400,
			"InvalidArgumentException", "Value 'a b' at 'DeliveryStreamName' failed to satisfy constraint")
		f.FailsWith("CreateDeliveryStream", `{"DeliveryStreamName":`, 400, "SerializationException", "not valid JSON")
		f.FailsWith("CreateDeliveryStream", map[string]any{"DeliveryStreamName": 7}, 400, "SerializationException", "'DeliveryStreamName' must be a string")
	})
}

func TestUnsupportedActions(t *testing.T) {
	c := newTestServer(t, NewHandler(nil))
	c.FailsWith("Frobnicate", map[string]any{}, 400, "UnknownOperationException", `unknown operation "Frobnicate"`)
	r := c.Do(http.MethodPost, "/", map[string]string{"X-Amz-Target": "Kinesis_20131202.ListStreams"}, "{}")
	if r.ErrType() != "UnknownOperationException" || !strings.Contains(r.Message(), "expected X-Amz-Target Firehose_20150804.<Action>") {
		t.Errorf("a Kinesis request to the Firehose handler: %s", r.Raw)
	}
}
