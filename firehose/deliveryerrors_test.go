package firehose

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/essink/estest"
)

func TestErrorLog(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	type entry struct {
		dest, code, msg string
		count           int
	}
	tests := []struct {
		name string
		run  func(l *errorLog)
		want []entry // newest first
	}{
		{name: "empty", run: func(*errorLog) {}},
		{name: "alike in a row are one entry", run: func(l *errorLog) {
			l.add(at(0), "S3", "S3.NoSuchBucket", "no bucket")
			l.add(at(1), "S3", "S3.NoSuchBucket", "no bucket")
			l.add(at(2), "S3", "S3.NoSuchBucket", "no bucket")
		}, want: []entry{{"S3", "S3.NoSuchBucket", "no bucket", 3}}},
		{name: "different ones are kept apart, newest first", run: func(l *errorLog) {
			l.add(at(0), "Lambda", "Lambda.FunctionError", "boom")
			l.add(at(1), "S3", "S3.NoSuchBucket", "no bucket")
			l.add(at(2), "Lambda", "Lambda.FunctionError", "boom")
		}, want: []entry{{"Lambda", "Lambda.FunctionError", "boom", 1}, {"S3", "S3.NoSuchBucket", "no bucket", 1}, {"Lambda", "Lambda.FunctionError", "boom", 1}}},
		{name: "bounded: the oldest go", run: func(l *errorLog) {
			for i := range MaxDeliveryErrors + 5 {
				l.add(at(i), "S3", "S3.InternalError", fmt.Sprint(i))
			}
		}, want: func() []entry {
			var out []entry
			for i := MaxDeliveryErrors + 4; i >= 5; i-- {
				out = append(out, entry{"S3", "S3.InternalError", fmt.Sprint(i), 1})
			}
			return out
		}()},
		{name: "a success clears its destination only", run: func(l *errorLog) {
			l.add(at(0), "S3", "S3.NoSuchBucket", "no bucket")
			l.add(at(1), "Lambda", "Lambda.FunctionError", "boom")
			l.add(at(2), "S3", "S3.AccessDenied", "denied")
			l.clear("S3")
		}, want: []entry{{"Lambda", "Lambda.FunctionError", "boom", 1}}},
		{name: "credentials in URLs are masked", run: func(l *errorLog) {
			l.add(at(0), "Elasticsearch", "ES.ServiceUnavailable", `bulk request: Post "http://admin:s3cret@es:9200/_bulk": refused`)
		}, want: []entry{{"Elasticsearch", "ES.ServiceUnavailable", `bulk request: Post "http://xxxxx@es:9200/_bulk": refused`, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &errorLog{}
			tt.run(l)
			got := l.list()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Destination != w.dest || g.ErrorCode != w.code || g.ErrorMessage != w.msg || g.Count != w.count {
					t.Errorf("error %d = %+v, want %+v", i, g, w)
				}
				if g.FirstTimestamp.After(g.Timestamp) || g.Timestamp.IsZero() {
					t.Errorf("error %d: first %v, last %v", i, g.FirstTimestamp, g.Timestamp)
				}
			}
		})
	}
}

func TestErrorLogMessageBounded(t *testing.T) {
	l := &errorLog{}
	l.add(time.Now(), "S3", "S3.X", strings.Repeat("é", 1000))
	msg := l.list()[0].ErrorMessage
	if len(msg) > maxDeliveryErrorMessage || !strings.HasSuffix(msg, "…") || !strings.HasPrefix(msg, "éé") {
		t.Fatalf("message of %d bytes, want at most %d ending in an ellipsis: %q", len(msg), maxDeliveryErrorMessage, msg)
	}
	var nilLog *errorLog // a deliverer that only validates has none
	nilLog.add(time.Now(), "S3", "S3.X", "ignored")
	nilLog.clear("S3")
	if nilLog.list() != nil {
		t.Fatal("a nil log listed errors")
	}
}

// TestErrorLogTextCleaned: an error's code and message come from outside
// (an Elasticsearch cluster at a ClusterEndpoint the caller chose, a
// function's error, an S3 store), and `spate firehose describe` prints
// them to a terminal: control characters (escape sequences, newlines) are
// replaced by spaces, and the code is bounded as the message is.
func TestErrorLogTextCleaned(t *testing.T) {
	l := &errorLog{}
	l.add(time.Now(), "Elasticsearch", "ES.bad\x1b]0;owned\x07type", "line one\nline two\x1b[2J\r\x00end\u0085")
	e := l.list()[0]
	if want := "ES.bad ]0;owned type"; e.ErrorCode != want {
		t.Errorf("code %q, want %q", e.ErrorCode, want)
	}
	if want := "line one line two [2J  end "; e.ErrorMessage != want {
		t.Errorf("message %q, want %q", e.ErrorMessage, want)
	}
	l.add(time.Now(), "Elasticsearch", "ES."+strings.Repeat("x", 10_000), "m")
	if code := l.list()[0].ErrorCode; len(code) > maxDeliveryErrorCode || !strings.HasSuffix(code, "…") {
		t.Errorf("code of %d bytes, want at most %d ending in an ellipsis", len(code), maxDeliveryErrorCode)
	}
}

// TestDeliveryErrorsMissingBucket: a delivery to a missing bucket is
// reported by DescribeDeliveryStream (the delivery stream stays ACTIVE, as
// in Firehose) with S3's error code, once however often it is retried; once
// the bucket exists the records are delivered and the error is gone.
func TestDeliveryErrorsMissingBucket(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	missing := f.bucket + "-missing"
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "nobucket",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: "arn:aws:s3:::" + missing, Prefix: "p/", BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.putN("nobucket", 5, "secret-data")
	describe := func() DeliveryStreamDescription {
		t.Helper()
		d, err := f.svc.DescribeDeliveryStream(ctx, "nobucket")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var d DeliveryStreamDescription
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		// Two attempts at least, to see that retries do not add entries.
		if d = describe(); len(d.DeliveryErrors) > 0 && d.DeliveryErrors[0].Count >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(d.DeliveryErrors) != 1 {
		t.Fatalf("delivery errors %+v, want one entry for the missing bucket", d.DeliveryErrors)
	}
	e := d.DeliveryErrors[0]
	if e.Destination != ErrorDestinationS3 || e.ErrorCode != "S3.NoSuchBucket" || !strings.Contains(e.ErrorMessage, missing) || e.Count < 2 {
		t.Errorf("delivery error %+v, want S3 / S3.NoSuchBucket naming %s, counted at least twice", e, missing)
	}
	if strings.Contains(e.ErrorMessage, "secret-data") {
		t.Errorf("the error message holds record data: %q", e.ErrorMessage)
	}
	if d.DeliveryStreamStatus != StatusActive {
		t.Errorf("status %s, want ACTIVE (Firehose's status does not reflect delivery errors)", d.DeliveryStreamStatus)
	}

	if err := f.s3.EnsureBucket(ctx, missing); err != nil {
		t.Fatal(err)
	}
	f.bucket = missing // for waitLines
	wantLines(t, f.waitLines("p/", compress.Uncompressed, 5), 5, "secret-data")
	deadline = time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if d = describe(); len(d.DeliveryErrors) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(d.DeliveryErrors) != 0 {
		t.Fatalf("delivery errors %+v after delivery succeeded, want none", d.DeliveryErrors)
	}
}

// TestDeliveryErrorsElasticsearchRetrying: while Elasticsearch refuses
// documents and the retry duration has not run out, the delivery error is
// already reported (not only once the documents are backed up), and it
// clears once the documents are indexed.
func TestDeliveryErrorsElasticsearchRetrying(t *testing.T) {
	es := estest.New(t)
	f := newFixture(t)
	ctx := context.Background()
	es.RejectDocs(func(string, string, []byte) (int, string, string, bool) {
		return 429, "es_rejected_execution_exception", "rejected execution of coordinating operation", true
	})
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "busy",
		ElasticsearchDestinationConfiguration: &ElasticsearchDestinationConfiguration{
			ClusterEndpoint: es.URL(), IndexName: "busy", IndexRotationPeriod: "NoRotation",
			BufferingHints: &BufferingHints{IntervalInSeconds: intp(0)}, RetryOptions: &RetryOptions{DurationInSeconds: intp(7200)},
			S3Configuration: &S3DestinationConfiguration{BucketARN: f.bucketARN()},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.putN("busy", 3, "b")
	waitErrors := func(done func([]DeliveryError) bool) []DeliveryError {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			errs, err := f.svc.DeliveryErrors("busy")
			if err != nil {
				t.Fatal(err)
			}
			if done(errs) || time.Now().After(deadline) {
				return errs
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	errs := waitErrors(func(e []DeliveryError) bool { return len(e) > 0 })
	if len(errs) != 1 || errs[0].Destination != ErrorDestinationElasticsearch || errs[0].ErrorCode != "ES.es_rejected_execution_exception" ||
		!strings.Contains(errs[0].ErrorMessage, "retrying") {
		t.Fatalf("delivery errors %+v while Elasticsearch rejects, want one ES.es_rejected_execution_exception, retrying", errs)
	}
	es.RejectDocs(nil)
	if errs = waitErrors(func(e []DeliveryError) bool { return len(e) == 0 }); len(errs) != 0 {
		t.Fatalf("delivery errors %+v after Elasticsearch took the documents, want none", errs)
	}
	if n := es.Count("busy"); n != 3 {
		t.Fatalf("index holds %d documents, want 3", n)
	}
}
