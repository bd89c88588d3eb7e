package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Config says where the store is and how to sign requests to it.
type Config struct {
	// Endpoint is the store's URL, "http://host:port" or "https://host",
	// with no path.
	Endpoint string
	// AccessKey and SecretKey sign requests (AWS Signature V4). Both empty
	// means anonymous requests.
	AccessKey, SecretKey string
	// Region is the region requests are signed for; empty means
	// DefaultRegion.
	Region string
}

// Defaults, in one place.
const (
	// DefaultRegion is used when Config.Region is empty.
	DefaultRegion = "us-east-1"
	// DefaultPartSize is the default multipart part size and threshold.
	DefaultPartSize = 16 << 20
	// MinPartSize is the smallest part S3 accepts (except the last).
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts.
	MaxPartSize = 5 << 30
	// DefaultMaxRetries is the default number of attempts per request.
	DefaultMaxRetries = 3
)

// Option configures a Client.
type Option func(*options) error

type options struct {
	partSize   uint64
	maxRetries int
	transport  http.RoundTripper
}

// WithPartSize sets the multipart part size, which is also the threshold:
// Put sends an object of at most n bytes in one PUT and a larger one as a
// multipart upload of n-byte parts. n must be between MinPartSize and
// MaxPartSize. Default DefaultPartSize.
func WithPartSize(n uint64) Option {
	return func(o *options) error {
		if n < MinPartSize || n > MaxPartSize {
			return fmt.Errorf("part size %d: must be between %d (5 MiB) and %d (5 GiB)", n, MinPartSize, MaxPartSize)
		}
		o.partSize = n
		return nil
	}
}

// WithMaxRetries sets how many times one call tries a request that failed
// in a retryable way before it returns the error, with a short backoff
// (about 0.2 s, doubling, at most 1 s) between tries. 1 means no retry.
// Default DefaultMaxRetries: long outages are the caller's to handle (see
// IsRetryable).
func WithMaxRetries(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("max retries %d: must be at least 1", n)
		}
		o.maxRetries = n
		return nil
	}
}

// WithHTTPTransport sets the HTTP transport. It must not decompress
// responses on its own (an *http.Transport needs DisableCompression), or
// Get returns the decoded content of objects stored with Content-Encoding
// gzip. Default: minio-go's transport, which does not.
func WithHTTPTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return errors.New("nil HTTP transport")
		}
		o.transport = rt
		return nil
	}
}

// Client talks to one S3-compatible store. It is safe for concurrent use.
type Client struct {
	mc       *minio.Client
	region   string
	partSize uint64
}

// New returns a client for the store cfg describes. It does not contact the
// store.
func New(cfg Config, opts ...Option) (*Client, error) {
	o := options{partSize: DefaultPartSize, maxRetries: DefaultMaxRetries}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("s3 client: %w", err)
		}
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %q: %w", cfg.Endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("s3 endpoint %q: want http://host[:port] or https://host[:port], with no path", cfg.Endpoint)
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     u.Scheme == "https",
		Region:     region,
		Transport:  o.transport,
		MaxRetries: o.maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", cfg.Endpoint, err)
	}
	return &Client{mc: mc, region: region, partSize: o.partSize}, nil
}

// PutOption sets a property of one object.
type PutOption func(*minio.PutObjectOptions)

// WithContentEncoding sets the object's Content-Encoding (for Firehose
// objects, compress.Format.ContentEncoding).
func WithContentEncoding(enc string) PutOption {
	return func(o *minio.PutObjectOptions) { o.ContentEncoding = enc }
}

// Put stores body as the object key in bucket, replacing any object there.
// A body larger than the part size goes up as a multipart upload. An empty
// contentType means "application/octet-stream", what Firehose sets.
//
// Put does not keep body; the caller may reuse it after Put returns.
func (c *Client) Put(ctx context.Context, bucket, key string, body []byte, contentType string, opts ...PutOption) error {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	po := minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    c.partSize,
		// Over plain HTTP minio-go would otherwise sign the payload in
		// aws-chunked framing, which adds "aws-chunked" to the
		// Content-Encoding and some stores (versitygw) keep it. Instead the
		// payload goes unsigned and the store checks each PUT or part
		// against its Content-MD5.
		DisableContentSha256: true,
		SendContentMd5:       true,
	}
	for _, opt := range opts {
		opt(&po)
	}
	_, err := c.mc.PutObject(ctx, bucket, key, bytes.NewReader(body), int64(len(body)), po)
	if err != nil {
		return fmt.Errorf("s3 put s3://%s/%s (%d bytes): %w", bucket, key, len(body), err)
	}
	return nil
}

// Get returns the content of the object key in bucket.
func (c *Client) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	obj, err := c.mc.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3 get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, fmt.Errorf("s3 get s3://%s/%s: %w", bucket, key, err)
	}
	return data, nil
}

// ObjectInfo describes one listed object.
type ObjectInfo struct {
	Key  string
	Size int64
	// ETag as the store reports it, without quotes. For a multipart upload
	// it usually ends in "-<number of parts>".
	ETag string
}

// List returns every object in bucket whose key starts with prefix, at any
// depth ("/" is not a delimiter), in key order.
func (c *Client) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	// Cancelling stops minio-go's listing goroutine if we return early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []ObjectInfo
	for obj := range c.mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("s3 list s3://%s/%s: %w", bucket, prefix, obj.Err)
		}
		out = append(out, ObjectInfo{Key: obj.Key, Size: obj.Size, ETag: trimQuotes(obj.ETag)})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3 list s3://%s/%s: %w", bucket, prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// EnsureBucket creates bucket in the client's region unless it exists and
// is the caller's. The firehose core never calls it: a missing bucket is a
// delivery failure there. Tests and tools do.
func (c *Client) EnsureBucket(ctx context.Context, bucket string) error {
	exists, err := c.mc.BucketExists(ctx, bucket)
	if err != nil {
		return fmt.Errorf("s3 ensure bucket %s: %w", bucket, err)
	}
	if exists {
		return nil
	}
	err = c.mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: c.region})
	if err != nil && Code(err) != "BucketAlreadyOwnedByYou" {
		return fmt.Errorf("s3 ensure bucket %s: %w", bucket, err)
	}
	return nil
}
