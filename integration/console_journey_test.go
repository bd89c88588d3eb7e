package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
)

// TestConsoleJourney is the console's proof as a new user would go: on a
// server with --credentials, sign in, create a stream, start the demo, run
// a tumbling query and see rows, deploy it into the stream, watch its rows
// arrive there, and create a delivery stream from that stream to S3; the
// test then finds the tumbling rows in objects on the real S3 server.
func TestConsoleJourney(t *testing.T) {
	b := findConsoleBrowser(t)
	cfg := s3test.Server(t)
	store, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bucket := "journey-" + strings.ToLower(strings.Trim(strings.NewReplacer("_", "-", "/", "-").Replace(uniqueName(t)), "-"))
	if len(bucket) > 60 {
		bucket = bucket[:60]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := store.EnsureBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	s := startAuthServerWith(t, authCredentials, authPolicies, withArgs(s3Args(cfg)...))
	lines := b.run(t, s.server, "journey.spec.js", "SPEC_KEY_ID=AKIDADMIN", "SPEC_SECRET=admin-secret", "SPEC_BUCKET="+bucket)
	if len(lines) != 3 {
		t.Fatalf("the spec logged %d lines, want 3 (first row, output row, delivery stream): %v", len(lines), lines)
	}

	// The deployed application's rows reach S3 through the delivery stream.
	for {
		infos, err := store.List(ctx, bucket, "journey/")
		if err != nil {
			t.Fatalf("list s3://%s/journey/: %v", bucket, err)
		}
		for _, o := range infos {
			body, err := store.Get(ctx, bucket, o.Key)
			if err != nil {
				t.Fatalf("get %s: %v", o.Key, err)
			}
			// Firehose concatenates records as they are; each is one JSON row.
			dec := json.NewDecoder(bytes.NewReader(body))
			for dec.More() {
				var row map[string]any
				if err := dec.Decode(&row); err != nil {
					t.Fatalf("object %s is not a sequence of JSON rows: %v\n%s", o.Key, err, body)
				}
				if _, ok := row["ticker_symbol"]; !ok {
					t.Fatalf("object %s holds %v, not a tumbling row", o.Key, row)
				}
				return // a tumbling row, delivered
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no tumbling row delivered to s3://%s/journey/ (objects: %d)", bucket, len(infos))
		case <-time.After(500 * time.Millisecond):
		}
	}
}
