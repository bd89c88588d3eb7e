package s3store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

const mib = 1 << 20

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func newClient(t *testing.T, cfg s3store.Config, opts ...s3store.Option) *s3store.Client {
	t.Helper()
	c, err := s3store.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := s3store.Config{Endpoint: "http://127.0.0.1:9000", AccessKey: "a", SecretKey: "b"}
	withEndpoint := func(e string) s3store.Config { c := good; c.Endpoint = e; return c }
	tests := []struct {
		name string
		cfg  s3store.Config
		opts []s3store.Option
	}{
		{name: "empty endpoint", cfg: withEndpoint("")},
		{name: "no scheme", cfg: withEndpoint("127.0.0.1:9000")},
		{name: "ftp", cfg: withEndpoint("ftp://127.0.0.1:9000")},
		{name: "path", cfg: withEndpoint("http://127.0.0.1:9000/bucket")},
		{name: "query", cfg: withEndpoint("http://127.0.0.1:9000?x=1")},
		{name: "user info", cfg: withEndpoint("http://me:pw@127.0.0.1:9000")},
		{name: "part size below 5 MiB", cfg: good, opts: []s3store.Option{s3store.WithPartSize(5*mib - 1)}},
		{name: "part size above 5 GiB", cfg: good, opts: []s3store.Option{s3store.WithPartSize(5<<30 + 1)}},
		{name: "zero retries", cfg: good, opts: []s3store.Option{s3store.WithMaxRetries(0)}},
		{name: "nil transport", cfg: good, opts: []s3store.Option{s3store.WithHTTPTransport(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s3store.New(tt.cfg, tt.opts...); err == nil {
				t.Fatal("New accepted a bad configuration")
			}
		})
	}
	for _, e := range []string{"http://127.0.0.1:9000", "https://s3.example.com", "http://localhost:9000/"} {
		if _, err := s3store.New(withEndpoint(e)); err != nil {
			t.Errorf("New(%q): %v", e, err)
		}
	}
}

type countingTransport struct {
	base     http.RoundTripper
	requests chan struct{}
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests <- struct{}{}
	return c.base.RoundTrip(r)
}

func TestWithHTTPTransport(t *testing.T) {
	t.Parallel()
	cfg := s3test.Server(t)
	bucket := s3test.Bucket(t, cfg)
	rt := countingTransport{base: &http.Transport{DisableCompression: true}, requests: make(chan struct{}, 100)}
	c := newClient(t, cfg, s3store.WithHTTPTransport(rt))
	if err := c.Put(t.Context(), bucket, "k", []byte("v"), ""); err != nil {
		t.Fatal(err)
	}
	if len(rt.requests) == 0 {
		t.Fatal("Put did not go through the configured transport")
	}
}

func TestEnsureBucket(t *testing.T) {
	t.Parallel()
	cfg := s3test.Server(t)
	c := newClient(t, cfg)
	ctx := t.Context()
	bucket := "ensure-" + strconv.FormatUint(rand.Uint64(), 36)
	if _, err := c.List(ctx, bucket, ""); !s3store.IsNotFound(err) {
		t.Fatalf("List on a bucket not yet created = %v, want a not-found error", err)
	}
	for i := range 2 { // the second call finds it
		if err := c.EnsureBucket(ctx, bucket); err != nil {
			t.Fatalf("EnsureBucket #%d: %v", i+1, err)
		}
	}
	if err := c.Put(ctx, bucket, "k", []byte("v"), ""); err != nil {
		t.Fatalf("Put into the ensured bucket: %v", err)
	}
}

func TestPutGetList(t *testing.T) {
	t.Parallel()
	cfg := s3test.Server(t)
	c := newClient(t, cfg)
	ctx := t.Context()
	bucket := s3test.Bucket(t, cfg)

	objects := map[string][]byte{
		"2026/11/22/01/stream-1-2026-11-22-01-00-00-a": []byte("first\n"),
		"2026/11/22/01/stream-1-2026-11-22-01-05-00-b": randomBytes(1, 300<<10),
		"2026/11/22/02/stream-1-2026-11-22-02-00-00-c": {},
		"errors/processing-failed/x":                   []byte(`{"errorCode":"x"}`),
	}
	for key, body := range objects {
		if err := c.Put(ctx, bucket, key, body, "application/octet-stream"); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}
	for key, body := range objects {
		got, err := c.Get(ctx, bucket, key)
		if err != nil {
			t.Fatalf("Get %s: %v", key, err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("Get %s: %d bytes, want the %d put", key, len(got), len(body))
		}
	}

	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{
			"2026/11/22/01/stream-1-2026-11-22-01-00-00-a",
			"2026/11/22/01/stream-1-2026-11-22-01-05-00-b",
			"2026/11/22/02/stream-1-2026-11-22-02-00-00-c",
			"errors/processing-failed/x",
		}},
		{"2026/11/22/", []string{
			"2026/11/22/01/stream-1-2026-11-22-01-00-00-a",
			"2026/11/22/01/stream-1-2026-11-22-01-05-00-b",
			"2026/11/22/02/stream-1-2026-11-22-02-00-00-c",
		}},
		{"2026/11/22/01/stream-1-2026-11-22-01-05", []string{"2026/11/22/01/stream-1-2026-11-22-01-05-00-b"}},
		{"2027/", nil},
	}
	for _, tt := range tests {
		t.Run("list "+tt.prefix, func(t *testing.T) {
			got, err := c.List(ctx, bucket, tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range got {
				keys = append(keys, o.Key)
				if o.Size != int64(len(objects[o.Key])) {
					t.Errorf("%s: size %d, want %d", o.Key, o.Size, len(objects[o.Key]))
				}
			}
			if strings.Join(keys, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("List(%q) = %q, want %q", tt.prefix, keys, tt.want)
			}
		})
	}

	t.Run("overwrite with the same bytes", func(t *testing.T) {
		key := "2026/11/22/01/stream-1-2026-11-22-01-05-00-b"
		if err := c.Put(ctx, bucket, key, objects[key], ""); err != nil {
			t.Fatal(err)
		}
		got, err := c.List(ctx, bucket, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Size != int64(len(objects[key])) {
			t.Fatalf("after re-putting: %+v, want the one object", got)
		}
		sum := md5.Sum(objects[key])
		if got[0].ETag != hex.EncodeToString(sum[:]) {
			t.Errorf("ETag of a single PUT = %q, want the MD5 %x", got[0].ETag, sum)
		}
	})
}

// TestContentEncodingIsNotDecoded stores gzip bytes with Content-Encoding
// gzip: the store must record the header, and Get must return the stored
// bytes, not decode them.
func TestContentEncodingIsNotDecoded(t *testing.T) {
	t.Parallel()
	cfg := s3test.Server(t)
	c := newClient(t, cfg)
	ctx := t.Context()
	bucket := s3test.Bucket(t, cfg)

	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(bytes.Repeat([]byte(`{"a":1}`+"\n"), 1000))
	w.Close()
	if err := c.Put(ctx, bucket, "x.gz", gz.Bytes(), "", s3store.WithContentEncoding("gzip")); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, bucket, "x.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, gz.Bytes()) {
		t.Fatalf("Get returned %d bytes, want the %d gzip bytes stored", len(got), gz.Len())
	}

	// Read the headers back with a plain client.
	u := strings.TrimPrefix(cfg.Endpoint, "http://")
	mc, err := minio.New(u, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Region: s3store.DefaultRegion})
	if err != nil {
		t.Fatal(err)
	}
	info, err := mc.StatObject(ctx, bucket, "x.gz", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != "application/octet-stream" {
		t.Errorf("Content-Type = %q, want application/octet-stream", info.ContentType)
	}
	if enc := info.Metadata.Get("Content-Encoding"); enc != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip", enc)
	}
}

func TestMultipart(t *testing.T) {
	t.Parallel()
	cfg := s3test.Server(t)
	c := newClient(t, cfg, s3store.WithPartSize(5*mib))
	ctx := t.Context()
	bucket := s3test.Bucket(t, cfg)

	tests := []struct {
		name      string
		size      int
		wantParts int // 0: a single PUT
	}{
		{name: "at the threshold", size: 5 * mib},
		{name: "12 MiB in 5 MiB parts", size: 12 * mib, wantParts: 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := randomBytes(uint64(10+i), tt.size)
			key := "multipart/" + strconv.Itoa(tt.size)
			if err := c.Put(ctx, bucket, key, body, ""); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := c.Get(ctx, bucket, key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(body))
			}
			list, err := c.List(ctx, bucket, key)
			if err != nil || len(list) != 1 {
				t.Fatalf("List = %+v, %v", list, err)
			}
			// S3's ETag of a multipart object is "<md5 of part md5s>-<parts>".
			_, parts, multipart := strings.Cut(list[0].ETag, "-")
			switch {
			case tt.wantParts == 0 && multipart:
				t.Errorf("ETag %q is a multipart ETag; want a single PUT", list[0].ETag)
			case tt.wantParts > 0 && parts != strconv.Itoa(tt.wantParts):
				t.Errorf("ETag %q, want one of a %d-part upload", list[0].ETag, tt.wantParts)
			}
		})
	}
}

func TestMissingBucketIsPermanent(t *testing.T) {
	t.Parallel()
	cfg := s3test.Server(t)
	c := newClient(t, cfg)
	ctx := t.Context()
	missing := "missing-" + strconv.FormatUint(rand.Uint64(), 36)

	err := c.Put(ctx, missing, "k", []byte("v"), "")
	if err == nil {
		t.Fatal("Put into a missing bucket succeeded")
	}
	if s3store.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = true, want false", err)
	}
	if code := s3store.Code(err); code != "NoSuchBucket" {
		t.Errorf("Code = %q, want NoSuchBucket", code)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q does not name the bucket", err)
	}

	// A missing key in a bucket that exists.
	bucket := s3test.Bucket(t, cfg)
	_, err = c.Get(ctx, bucket, "no/such/key")
	if !s3store.IsNotFound(err) || s3store.IsRetryable(err) {
		t.Errorf("Get of a missing key: %v (not found %v, retryable %v)", err,
			s3store.IsNotFound(err), s3store.IsRetryable(err))
	}
}

func TestBadCredentialsArePermanent(t *testing.T) {
	t.Parallel()
	cfg := s3test.Server(t)
	bucket := s3test.Bucket(t, cfg)
	tests := []struct {
		name string
		mod  func(*s3store.Config)
	}{
		{"wrong secret", func(c *s3store.Config) { c.SecretKey += "x" }},
		{"unknown access key", func(c *s3store.Config) { c.AccessKey = "nobody" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := cfg
			tt.mod(&bad)
			err := newClient(t, bad).Put(t.Context(), bucket, "k", []byte("v"), "")
			if err == nil {
				t.Fatal("Put with bad credentials succeeded")
			}
			if s3store.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true, want false", err)
			}
		})
	}
}

func TestUnreachableIsRetryable(t *testing.T) {
	t.Parallel()
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newClient(t, s3store.Config{Endpoint: "http://" + addr, AccessKey: "a", SecretKey: "b"},
		s3store.WithMaxRetries(1))

	err = c.Put(t.Context(), "bucket", "k", []byte("v"), "")
	if err == nil {
		t.Fatal("Put to an unreachable endpoint succeeded")
	}
	if !s3store.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = false, want true", err)
	}
	if _, err := c.Get(t.Context(), "bucket", "k"); !s3store.IsRetryable(err) {
		t.Errorf("Get: IsRetryable(%v) = false, want true", err)
	}
	if _, err := c.List(t.Context(), "bucket", ""); !s3store.IsRetryable(err) {
		t.Errorf("List: IsRetryable(%v) = false, want true", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Put(ctx, "bucket", "k", []byte("v"), ""); err == nil || !s3store.IsRetryable(err) {
		t.Errorf("Put with a cancelled context: %v, want a retryable error", err)
	}
}
