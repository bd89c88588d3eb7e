package firehose

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestPipelineIntentsSurviveRestart: with S3 unreachable, batches pile up
// as intents (one shipping, others prepared); the service stops with them
// in flight; after a restart with S3 back every record is in S3 exactly
// once and no intent is left.
func TestPipelineIntentsSurviveRestart(t *testing.T) {
	real := s3test.Server(t)
	u, err := url.Parse(real.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newSwitchProxy(t, u.Host)
	viaProxy := real
	viaProxy.Endpoint = "http://" + proxy.ln.Addr().String()
	f := newFixture(t, WithS3(viaProxy))
	ctx := context.Background()
	_, err = f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "piled",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "piled/", CompressionFormat: "GZIP",
			BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each PutRecordBatch becomes its own batch once the worker has taken
	// the previous one: wait for the intents to pile up between puts.
	intents := func() []intent {
		var ck checkpoint
		_ = f.store.ScanValues(valuesNS, "ck/piled/", func(_ string, v []byte) error { return json.Unmarshal(v, &ck) })
		return ck.Intents
	}
	total := 0
	for round := 0; round < 4; round++ {
		f.putN("piled", 30, fmt.Sprintf("r%d", round))
		total += 30
		deadline := time.Now().Add(30 * time.Second)
		for len(intents()) < min(round+1, 3) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if n := len(intents()); n < 2 {
		t.Fatalf("%d intents in flight while S3 is unreachable, want several", n)
	}
	f.close() // "crash" with intents in flight; nothing was uploaded
	proxy.up.Store(true)
	f.open()
	lines := f.waitLines("piled/", compress.Gzip, total)
	seen := map[string]int{}
	for _, l := range lines {
		seen[l]++
	}
	for round := 0; round < 4; round++ {
		for i := 0; i < 30; i++ {
			if c := seen[fmt.Sprintf(`{"r%d":%d}`, round, i)]; c != 1 {
				t.Errorf("record r%d/%d delivered %d times, want once", round, i, c)
			}
		}
	}
	if len(lines) != total {
		t.Errorf("%d records in S3, want %d", len(lines), total)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(intents()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(intents()); n != 0 {
		t.Errorf("%d intents left after everything was delivered", n)
	}
}
