package firehoseapi

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
	"github.com/spatehq/spate/shard"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

func newTestServer(t *testing.T, h http.Handler) *awsprototest.Client {
	t.Helper()
	return awsprototest.NewServer(t, h, TargetPrefix)
}

// fixture is a real store, a real S3 server with a bucket, and a
// firehose.Service over them, served by the handler.
type fixture struct {
	*awsprototest.Client
	store  *shard.Store
	svc    *firehose.Service
	s3     *s3store.Client
	bucket string
}

var bucketChars = regexp.MustCompile(`[^a-z0-9-]+`)

func newFixture(t *testing.T, opts ...firehose.Option) *fixture {
	t.Helper()
	cfg := s3test.Server(t)
	s3c, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bucket := strings.Trim(bucketChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	bucket = fmt.Sprintf("%.40s-%d", bucket, time.Now().UnixNano()%1000000)
	if err := s3c.EnsureBucket(context.Background(), bucket); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	st, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	svc, err := firehose.New(st, append([]firehose.Option{firehose.WithS3(cfg), firehose.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatalf("firehose.New: %v", err)
	}
	t.Cleanup(func() {
		svc.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &fixture{Client: newTestServer(t, NewHandler(svc)), store: st, svc: svc, s3: s3c, bucket: bucket}
}

func (f *fixture) bucketARN() string { return "arn:aws:s3:::" + f.bucket }

// s3Config is an ExtendedS3DestinationConfiguration for the fixture's
// bucket, with members overridden by set.
func (f *fixture) s3Config(set map[string]any) map[string]any {
	c := map[string]any{"RoleARN": testRole, "BucketARN": f.bucketARN()}
	for k, v := range set {
		c[k] = v
	}
	return c
}

const testRole = "arn:aws:iam::123456789012:role/firehose"
