package integration

// The hostile-request table of issue 11: requests an attacker or a broken
// client sends to every face of the server (Kinesis JSON, Firehose JSON,
// the Analytics HTTP API and gRPC), each with the status (or gRPC code) and
// AWS error type it must get. After the table, a stream written before it
// must read back exactly, and the server must still be up with a bounded
// RSS. Rows live in one slice per face (hostile*Rows); another file adds
// rows with addHostile, e.g. signed requests once authentication exists.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/firehose/compress"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// hostileCase is one hostile request and the answer it must get.
type hostileCase struct {
	name string
	// HTTP: method (default POST), path (default "/"), the headers (nil:
	// hostileJSONHeaders of target, when target is set), the body.
	method, path string
	target       string // X-Amz-Target, e.g. "Kinesis_20131202.PutRecord"
	header       map[string]string
	body         func(e *hostileEnv) []byte
	// send, when set, sends the built request instead of e.http.Do (e.g.
	// signs it, then breaks the signature).
	send func(e *hostileEnv, r *http.Request, body []byte) (*http.Response, error)
	// gRPC: the call, returning its error.
	grpc func(ctx context.Context, e *hostileEnv) error

	status  int        // HTTP status (HTTP rows)
	code    codes.Code // gRPC code (gRPC rows)
	errType string     // AWS error type: __type, or the gRPC message's prefix
}

// hostileRows holds every face's rows; addHostile appends more.
var hostileRows [][]hostileCase

// addHostile adds rows to the table (from any file of the package, as
// `var _ = addHostile(...)`).
func addHostile(rows ...hostileCase) bool {
	hostileRows = append(hostileRows, rows)
	return true
}

// hostileEnv is what rows refer to: the server, its streams and clients.
type hostileEnv struct {
	srv      *server
	http     *http.Client
	conn     *grpc.ClientConn
	kin      spatev1.StreamServiceClient
	fh       spatev1.FirehoseServiceClient
	an       spatev1.AnalyticsServiceClient
	known    string // stream with knownRecords, read back after the table
	delivery string // a delivery stream
	other    string // another stream, for iterators that belong elsewhere
	t        *testing.T
	expired  string // an iterator past --iterator-ttl, made before the table
}

const (
	kinesisTarget  = "Kinesis_20131202."
	firehoseTarget = "Firehose_20150804."
	hostileTTL     = 5 * time.Second
)

// newHostileEnv is the env of srv, whose gRPC clients use conn.
func newHostileEnv(t *testing.T, srv *server, conn *grpc.ClientConn, known, other string) *hostileEnv {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	return &hostileEnv{
		srv: srv, http: &http.Client{Transport: transport, Timeout: 2 * time.Minute}, conn: conn,
		kin: spatev1.NewStreamServiceClient(conn), fh: spatev1.NewFirehoseServiceClient(conn), an: spatev1.NewAnalyticsServiceClient(conn),
		known: known, other: other, t: t,
	}
}

// knownRecords is what the known stream holds before the table runs.
var knownRecords = func() []string {
	var out []string
	for i := range 25 {
		out = append(out, fmt.Sprintf("known-record-%02d", i))
	}
	return out
}()

func hostileJSONHeaders(target string) map[string]string {
	return map[string]string{
		"Content-Type":  "application/x-amz-json-1.1",
		"X-Amz-Target":  target,
		"Authorization": "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00",
	}
}

// str and jsonOf make row bodies.
func str(s string) func(*hostileEnv) []byte { return func(*hostileEnv) []byte { return []byte(s) } }
func jsonOf(v any) func(*hostileEnv) []byte {
	return func(*hostileEnv) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
}

// iterator returns a fresh TRIM_HORIZON iterator of stream's first shard.
func (e *hostileEnv) iterator(stream string) string {
	e.t.Helper()
	out, err := e.kin.GetShardIterator(e.t.Context(), &spatev1.GetShardIteratorRequest{
		StreamName: stream, ShardId: "shardId-000000000000", ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON,
	})
	if err != nil {
		e.t.Fatalf("GetShardIterator %s: %v", stream, err)
	}
	return out.ShardIterator
}

func TestHostileRequests(t *testing.T) {
	f := newFH(t, withArgs("--iterator-ttl", hostileTTL.String()))
	conn, err := grpc.NewClient(f.srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	e := newHostileEnv(t, f.srv, conn, "hostile-known", "hostile-other")
	ctx := testCtx(t)
	for _, s := range []string{e.known, e.other} {
		if _, err := e.kin.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: s, ShardCount: 1}); err != nil {
			t.Fatalf("CreateStream %s: %v", s, err)
		}
	}
	waitActive(ctx, t, e, e.known, e.other)
	e.delivery = "hostile-delivery"
	f.createS3(ctx, t, e.delivery, compress.Uncompressed)
	var entries []*spatev1.PutRecordsRequestEntry
	for _, r := range knownRecords {
		entries = append(entries, &spatev1.PutRecordsRequestEntry{Data: []byte(r), PartitionKey: "k"})
	}
	if out, err := e.kin.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: e.known, Records: entries}); err != nil || out.FailedRecordCount != 0 {
		t.Fatalf("PutRecords: %v %v", out, err)
	}
	e.expired = e.iterator(e.other)
	expiredAt := time.Now().Add(hostileTTL)
	rssBefore := rssOf(t, f.srv)

	var rows []hostileCase
	for _, face := range [][]hostileCase{hostileKinesisRows(), hostileFirehoseRows(f), hostileAnalyticsRows(), hostileGRPCRows()} {
		rows = append(rows, face...)
	}
	for _, more := range hostileRows {
		rows = append(rows, more...)
	}
	if len(rows) < 150 {
		t.Errorf("the table has %d rows; issue 11 asks for at least 150", len(rows))
	}
	// The expired iterator must be older than the TTL; waiting for that is
	// a precondition of its rows, not an assertion on time.
	time.Sleep(time.Until(expiredAt))
	runHostile(t, e, rows)

	// The server is still up, answers, and did not balloon.
	rssAfter := rssOf(t, f.srv)
	t.Logf("%d rows; server RSS %d MiB before the table, %d MiB after", len(rows), rssBefore>>20, rssAfter>>20)
	if rssBefore > 0 && rssAfter > rssBefore+hostileRSSGrowth {
		t.Errorf("RSS grew from %d MiB to %d MiB during the table (bound: +%d MiB)", rssBefore>>20, rssAfter>>20, hostileRSSGrowth>>20)
	}
	e.readBack(ctx, t)
}

// runHostile runs rows against e, each as a subtest, and fails when the
// server exited meanwhile.
func runHostile(t *testing.T, e *hostileEnv, rows []hostileCase) {
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e.t = t
			defer func() { e.t = nil }()
			if row.grpc != nil {
				checkGRPCRow(t, e, row)
			} else {
				checkHTTPRow(t, e, row)
			}
		})
	}
	e.t = t
	if e.srv.proc.exited() {
		t.Fatalf("the server exited during the table: %v", e.srv.proc.waitErr)
	}
}

// readBack checks that the known stream reads back exactly knownRecords
// (through e.kin).
func (e *hostileEnv) readBack(ctx context.Context, t *testing.T) {
	t.Helper()
	e.t = t
	var got []string
	it := e.iterator(e.known)
	for len(got) < len(knownRecords) && it != "" {
		out, err := e.kin.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		for _, r := range out.Records {
			got = append(got, string(r.Data))
		}
		if len(out.Records) == 0 {
			break
		}
		it = out.NextShardIterator
	}
	if strings.Join(got, ",") != strings.Join(knownRecords, ",") {
		t.Fatalf("the known stream reads back %q, want %q", got, knownRecords)
	}
}

// hostileRSSGrowth bounds how much the server's RSS may grow over the
// table: the largest body it must buffer (12 MiB) many times over, far
// below the gigabytes of issue 11's defects.
const hostileRSSGrowth = 512 << 20

// rssOf returns the server's resident set size in bytes (0 where /proc is
// not there).
func rssOf(t *testing.T, s *server) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.proc.cmd.Process.Pid))
	if err != nil {
		t.Logf("no RSS: %v", err)
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func waitActive(ctx context.Context, t *testing.T, e *hostileEnv, streams ...string) {
	t.Helper()
	for _, s := range streams {
		for {
			out, err := e.kin.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: s})
			if err != nil {
				t.Fatalf("DescribeStreamSummary %s: %v", s, err)
			}
			if out.StreamDescriptionSummary.GetStreamStatus() == spatev1.StreamStatus_STREAM_STATUS_ACTIVE {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("stream %s not active: %v", s, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

func checkHTTPRow(t *testing.T, e *hostileEnv, row hostileCase) {
	method, path := row.method, row.path
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = "/"
	}
	var body []byte
	if row.body != nil {
		body = row.body(e)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.Endpoint()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	header := row.header
	if header == nil && row.target != "" {
		header = hostileJSONHeaders(row.target)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	send := row.send
	if send == nil {
		send = func(e *hostileEnv, r *http.Request, _ []byte) (*http.Response, error) { return e.http.Do(r) }
	}
	resp, err := send(e, req, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var reply struct {
		Type    string `json:"__type" cbor:"__type"`
		Message string `json:"message" cbor:"message"`
	}
	// A CBOR request is answered in CBOR, errors included.
	if req.Header.Get("Content-Type") == cborContentType {
		if ct := resp.Header.Get("Content-Type"); ct != cborContentType && resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("reply to a CBOR request has Content-Type %q", ct)
		}
		_ = cbor.Unmarshal(raw, &reply)
	} else {
		_ = json.Unmarshal(raw, &reply)
	}
	errType := reply.Type
	if errType == "" {
		errType = resp.Header.Get("X-Amzn-Errortype")
	}
	errType, _, _ = strings.Cut(errType, ":")
	if resp.StatusCode != row.status || errType != row.errType {
		t.Errorf("got %d %q, want %d %q; body: %.300s", resp.StatusCode, errType, row.status, row.errType, raw)
	}
	if row.errType != "" && reply.Message == "" {
		t.Errorf("error without a message: %.300s", raw)
	}
}

func checkGRPCRow(t *testing.T, e *hostileEnv, row hostileCase) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	err := row.grpc(ctx, e)
	st, _ := status.FromError(err)
	errType := "" // the AWS type is the ErrorInfo detail's reason; gRPC's own errors have none
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			errType = info.Reason
		}
	}
	if st.Code() != row.code || errType != row.errType {
		t.Errorf("got %s %q, want %s %q: %.300v", st.Code(), errType, row.code, row.errType, err)
	}
}

// b64 is base64 of s, as Blob members carry it.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
