package firehose

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/s3store/s3test"
)

// switchProxy forwards TCP connections to target while up, and drops them
// at once while down (the endpoint is unreachable).
type switchProxy struct {
	ln     net.Listener
	target string
	up     atomic.Bool
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.up.Load() {
				_ = c.Close()
				continue
			}
			go p.forward(c)
		}
	}()
	return p
}

func (p *switchProxy) forward(c net.Conn) {
	defer c.Close()
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer u.Close()
	go func() { _, _ = io.Copy(u, c) }()
	_, _ = io.Copy(c, u)
}

// TestUnreachableS3RetriesThenResumes: while the S3 endpoint is unreachable
// delivery retries, nothing is lost and DataFreshness grows; once it is back
// every record is delivered.
func TestUnreachableS3RetriesThenResumes(t *testing.T) {
	real := s3test.Server(t)
	u, err := url.Parse(real.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newSwitchProxy(t, u.Host)
	viaProxy := real
	viaProxy.Endpoint = "http://" + proxy.ln.Addr().String()
	f := newFixture(t, WithS3(viaProxy)) // the bucket is made directly, the service goes through the proxy
	ctx := context.Background()
	_, err = f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "outage",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "outage/", BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.putN("outage", 40, "o")
	retries := f.svc.metrics.retries.WithLabelValues("outage", "s3")
	deadline := time.Now().Add(60 * time.Second)
	var fresh time.Duration
	for time.Now().Before(deadline) {
		fresh, _ = f.svc.DataFreshness("outage")
		if fresh > 300*time.Millisecond && counterValueT(t, retries) >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fresh <= 300*time.Millisecond || counterValueT(t, retries) < 2 {
		t.Fatalf("while S3 is unreachable: DataFreshness %v, %v retries; want it growing and retries counted",
			fresh, counterValueT(t, retries))
	}
	if objs := f.objects("outage/"); len(objs) != 0 {
		t.Fatalf("%d objects written while S3 was unreachable", len(objs))
	}
	proxy.up.Store(true)
	wantLines(t, f.waitLines("outage/", compress.Uncompressed, 40), 40, "o")
	deadline = time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if fresh, _ = f.svc.DataFreshness("outage"); fresh == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fresh != 0 {
		t.Fatalf("DataFreshness %v after delivery resumed, want 0", fresh)
	}
}
