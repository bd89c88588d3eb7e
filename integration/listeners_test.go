package integration

// Tests of issue 11's defect 4: the server closes idle, silent and slow
// connections (the --*-timeout flags, shortened here) and caps how many it
// holds (--max-connections), while long streams (gRPC Subscribe, Analytics
// results) outlive every timeout. No test asserts on how long anything
// takes: each waits, with a generous bound, for the close to be observed.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spatehq/spate/api/grpcapi"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// closeBound is how long a test waits for the server to close a connection
// whose (shortened) timeout is a second or two. It only stops a test of a
// server that never closes; it is well under the 30 s header timeout of
// servers before the fix, so those fail.
const closeBound = 25 * time.Second

// shortTimeouts are flags that shorten every connection timeout to d.
func shortTimeouts(d time.Duration) serverOption {
	s := d.String()
	return withArgs("--idle-timeout", s, "--read-header-timeout", s, "--read-timeout", s, "--write-timeout", s)
}

// waitClosed reads conn until the server closes it, and fails the test if
// that has not happened within closeBound. Whatever the server sends first
// (a 408 or 400 reply) is returned.
func waitClosed(t *testing.T, conn net.Conn, what string) string {
	t.Helper()
	return waitClosedBuffered(t, conn, conn, what)
}

// waitClosedBuffered is waitClosed for a conn read through r (a
// bufio.Reader that may hold bytes already).
func waitClosedBuffered(t *testing.T, conn net.Conn, r io.Reader, what string) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(closeBound)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the server kept the connection open for %v (read %q)", what, closeBound, got)
	}
	return string(got) // io.EOF (nil here) or a reset: closed either way
}

// dialTCP connects to addr, closing the connection when the test ends.
func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// listStreamsRequest is a raw Kinesis ListStreams request over HTTP/1.1.
const listStreamsRequest = "POST / HTTP/1.1\r\nHost: spate\r\n" +
	"X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Type: application/x-amz-json-1.1\r\n" +
	"Content-Length: 2\r\n\r\n{}"

// roundTrip writes a raw request on conn and reads its response.
func roundTrip(t *testing.T, conn net.Conn, br *bufio.Reader, req string) *http.Response {
	t.Helper()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatalf("write request: %v", err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(closeBound)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("read response body: %v", err)
	}
	resp.Body.Close()
	return resp
}

// TestHTTPIdleConnectionClosed: a keep-alive connection left idle after a
// request is closed after --idle-timeout (before: kept for ever).
func TestHTTPIdleConnectionClosed(t *testing.T) {
	s := startServer(t, withArgs("--idle-timeout", "1s"))
	conn := dialTCP(t, s.HTTPAddr)
	br := bufio.NewReader(conn)
	if resp := roundTrip(t, conn, br, listStreamsRequest); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("ListStreams: %s (close %v), want 200 on a kept-alive connection", resp.Status, resp.Close)
	}
	if rest := waitClosedBuffered(t, conn, br, "idle keep-alive connection"); rest != "" {
		t.Errorf("the server sent %q before closing an idle connection", rest)
	}
}

// TestSilentConnectionsClosed: a client that connects and sends nothing is
// closed on the HTTP and gRPC ports after --read-header-timeout.
func TestSilentConnectionsClosed(t *testing.T) {
	s := startServer(t, withArgs("--read-header-timeout", "1s"))
	for _, port := range []struct{ name, addr string }{{"http", s.HTTPAddr}, {"grpc", s.GRPCAddr}} {
		t.Run(port.name, func(t *testing.T) {
			waitClosed(t, dialTCP(t, port.addr), "silent "+port.name+" connection")
		})
	}
}

// TestSlowBodyCut: a request body trickled a byte at a time is cut after
// --read-timeout, though bytes keep coming (before: read for ever).
func TestSlowBodyCut(t *testing.T) {
	s := startServer(t, withArgs("--read-timeout", "2s", "--write-timeout", "3s"))
	conn := dialTCP(t, s.HTTPAddr)
	const body = `{"StreamName":"x","ShardCount":1}`
	head := fmt.Sprintf("POST / HTTP/1.1\r\nHost: spate\r\nX-Amz-Target: Kinesis_20131202.CreateStream\r\n"+
		"Content-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n", len(body)*100)
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	// One byte every 100 ms, until the server closes or the test ends: the
	// body is never complete within closeBound.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte{body[i%len(body)]}); err != nil {
				return
			}
		}
	}()
	reply := waitClosed(t, conn, "connection trickling its body")
	stop()
	<-trickled
	// Whatever the server answered, it was not a created stream.
	if strings.HasPrefix(reply, "HTTP/1.1 200") {
		t.Errorf("a trickled body was answered 200:\n%s", reply)
	}
}

// TestMaxConnections: with --max-connections 3, a fourth connection is not
// served while three silent clients hold the slots, and is served once the
// header timeout has cut them; the server then serves as before.
func TestMaxConnections(t *testing.T) {
	k := newKin(t, withArgs("--max-connections", "3", "--read-header-timeout", "5s"))
	ctx := testCtx(t)
	silent := make([]net.Conn, 3)
	for i := range silent {
		silent[i] = dialTCP(t, k.srv.HTTPAddr)
	}
	// The kernel completes the fourth handshake (the backlog), but the
	// server does not accept it: its request gets no answer while the
	// slots are held.
	conn := dialTCP(t, k.srv.HTTPAddr)
	if _, err := io.WriteString(conn, listStreamsRequest); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	if err := conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := br.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a fourth connection was answered (err %v) while three held the cap of 3", err)
	}
	// The silent ones are cut by the header timeout, freeing the slots.
	for i, c := range silent {
		waitClosed(t, c, fmt.Sprintf("silent connection %d", i))
	}
	if err := conn.SetReadDeadline(time.Now().Add(closeBound)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the waiting connection was never served: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the waiting connection's ListStreams: %s", resp.Status)
	}
	conn.Close()
	// A good client is served as usual.
	if _, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
		t.Errorf("ListStreams after the slow clients were cut: %v", err)
	}
}

// dialGRPC makes a client of the gRPC API as the spate CLI does (plain
// text), closed when the test ends.
func dialGRPC(t *testing.T, addr string) (*grpc.ClientConn, spatev1.StreamServiceClient) {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///"+addr,
		append(grpcapi.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc, spatev1.NewStreamServiceClient(cc)
}

// waitNotReady waits until cc leaves READY: its connection was closed.
func waitNotReady(t *testing.T, cc *grpc.ClientConn, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), closeBound)
	defer cancel()
	for cc.GetState() == connectivity.Ready {
		if !cc.WaitForStateChange(ctx, connectivity.Ready) {
			t.Fatalf("%s: the server kept the connection for %v", what, closeBound)
		}
	}
}

// TestGRPCIdleAndLongStreams: a gRPC connection without calls is closed
// after --idle-timeout, while a Subscribe and an Analytics results stream
// opened with every timeout at 1 s outlive that close and still deliver.
func TestGRPCIdleAndLongStreams(t *testing.T) {
	k := newKin(t, shortTimeouts(time.Second))
	ctx := testCtx(t)
	stream := uniqueName(t)
	k.create(ctx, t, stream, 1)

	// The long streams, opened first.
	subCC, sub := dialGRPC(t, k.srv.GRPCAddr)
	subscription, err := sub.Subscribe(ctx, &spatev1.SubscribeRequest{
		StreamName: stream, ShardId: "shardId-000000000000",
		StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST},
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	results := openResults(ctx, t, k.srv, stream)

	// An idle connection is closed; the subscription's is not, though it
	// has been open longer.
	idleCC, idle := dialGRPC(t, k.srv.GRPCAddr)
	if _, err := idle.ListStreams(ctx, &spatev1.ListStreamsRequest{}); err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	waitNotReady(t, idleCC, "gRPC connection without calls")
	// And an idle keep-alive HTTP connection made after the results
	// stream started is closed too.
	conn := dialTCP(t, k.srv.HTTPAddr)
	br := bufio.NewReader(conn)
	roundTrip(t, conn, br, listStreamsRequest)
	waitClosedBuffered(t, conn, br, "idle keep-alive connection")

	if st := subCC.GetState(); st != connectivity.Ready {
		t.Errorf("the Subscribe connection is %v after the idle ones were closed, want READY", st)
	}
	const data = `{"v":42}`
	if _, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String(stream), PartitionKey: aws.String("pk"), Data: []byte(data),
	}); err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	ev, err := subscription.Recv()
	if err != nil {
		t.Fatalf("Subscribe after the idle timeouts: %v", err)
	}
	if len(ev.GetRecords()) != 1 || string(ev.GetRecords()[0].GetData()) != data {
		t.Errorf("Subscribe delivered %v, want the record %s", ev.GetRecords(), data)
	}
	if row := results.next(t, "row"); row != `{"v":42}` {
		t.Errorf("results row %s, want {\"v\":42}", row)
	}
}

// sseReader reads Server-Sent Events.
type sseReader struct{ br *bufio.Reader }

// next returns the data of the next event named want, skipping comments
// (keep-alives); another event fails the test.
func (r *sseReader) next(t *testing.T, want string) string {
	t.Helper()
	var event, data string
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			t.Fatalf("results stream ended waiting for %q: %v", want, err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && event != "":
			if event != want {
				t.Fatalf("results event %s %s, want %s", event, data, want)
			}
			return data
		}
	}
}

// openResults creates a temporary Analytics application selecting v from
// stream and opens its results stream, past the columns event.
func openResults(ctx context.Context, t *testing.T, s *server, stream string) *sseReader {
	t.Helper()
	name := "r" + stream[len(stream)-8:] // the random suffix
	body := fmt.Sprintf("{\"name\":%q,\"temporary\":true,\"sql\":\"SELECT v FROM `%s`\"}", name, stream)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint()+"/v1/applications", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create application: %s %s", resp.Status, b)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint()+"/v1/applications/"+name+"/results", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A transport of its own: the stream holds its connection.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err = (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("results: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("results: %s %s", resp.Status, b)
	}
	r := &sseReader{br: bufio.NewReader(resp.Body)}
	r.next(t, "columns")
	return r
}
