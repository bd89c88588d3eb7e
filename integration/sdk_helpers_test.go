package integration

// Helpers shared by the aws-sdk-go-v2 compatibility tests (sdk_*_test.go):
// stream set-up, draining shards, hash-key arithmetic, error assertions and
// raw JSON 1.1 requests for the inputs the SDK cannot express.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// sdkTimeout bounds every SDK test's context. It only stops a hung test; no
// test asserts on how long anything takes.
const sdkTimeout = 3 * time.Minute

// testCtx returns a context that ends with the test or after sdkTimeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), sdkTimeout)
	t.Cleanup(cancel)
	return ctx
}

// kin is a running server and an SDK client for it.
type kin struct {
	srv *server
	c   *kinesis.Client
}

func newKin(t *testing.T, opts ...serverOption) *kin {
	t.Helper()
	s := startServer(t, opts...)
	c := kinesis.New(s.Kinesis(t).Options(), func(o *kinesis.Options) {
		o.HTTPClient = &http.Client{Transport: hideWriterTo{awshttp.NewBuildableClient().GetTransport()}}
	})
	return &kin{srv: s, c: c}
}

// hideWriterTo works around a client-side race between smithy-go (v1.28.8)
// and net/http that a fast server on loopback exposes: smithy-go closes the
// request body as soon as client.Do returns, and its body's WriteTo answers
// io.EOF once closed. net/http's writeLoop, after sending ContentLength
// bytes, drains the body with io.Copy (which prefers WriteTo) to check for
// extra bytes; when the reply has already arrived it gets that io.EOF, takes
// it for a failed write and closes the connection under the reply being
// read, so a reply larger than the 4 KiB read buffer fails with "use of
// closed network connection". Hiding WriteTo makes io.Copy use Read, whose
// io.EOF is a clean end. The server is not involved: the same happens with
// a plain http.Client and such a body.
type hideWriterTo struct{ rt http.RoundTripper }

func (h hideWriterTo) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return h.rt.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.Body = readOnlyBody{r.Body}
	return h.rt.RoundTrip(r2)
}

// readOnlyBody exposes only Read and Close of the body it wraps.
type readOnlyBody struct{ io.ReadCloser }

// create creates a PROVISIONED stream with n shards and waits until it is
// ACTIVE.
func (k *kin) create(ctx context.Context, t *testing.T, name string, n int32) {
	t.Helper()
	if _, err := k.c.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(name),
		ShardCount: aws.Int32(n),
	}); err != nil {
		t.Fatalf("CreateStream(%s, %d shards): %v", name, n, err)
	}
	k.waitActive(ctx, t, name)
}

// waitActive polls DescribeStreamSummary until the stream is ACTIVE.
func (k *kin) waitActive(ctx context.Context, t *testing.T, name string) *types.StreamDescriptionSummary {
	t.Helper()
	for {
		out, err := k.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary(%s): %v", name, err)
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return out.StreamDescriptionSummary
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s never became ACTIVE (last status %s): %v", name, out.StreamDescriptionSummary.StreamStatus, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// summary returns DescribeStreamSummary's answer.
func (k *kin) summary(ctx context.Context, t *testing.T, name string) *types.StreamDescriptionSummary {
	t.Helper()
	out, err := k.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeStreamSummary(%s): %v", name, err)
	}
	return out.StreamDescriptionSummary
}

// shards returns every shard of the stream, paging ListShards.
func (k *kin) shards(ctx context.Context, t *testing.T, name string) []types.Shard {
	t.Helper()
	var all []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(name)}
	for range 1000 {
		out, err := k.c.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("ListShards(%s): %v", name, err)
		}
		all = append(all, out.Shards...)
		if out.NextToken == nil {
			return all
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	t.Fatalf("ListShards(%s) never ended", name)
	return nil
}

// iterator returns a shard iterator.
func (k *kin) iterator(ctx context.Context, t *testing.T, name, shardID string, typ types.ShardIteratorType, seq string, ts *time.Time) string {
	t.Helper()
	in := &kinesis.GetShardIteratorInput{
		StreamName:        aws.String(name),
		ShardId:           aws.String(shardID),
		ShardIteratorType: typ,
		Timestamp:         ts,
	}
	if seq != "" {
		in.StartingSequenceNumber = aws.String(seq)
	}
	out, err := k.c.GetShardIterator(ctx, in)
	if err != nil {
		t.Fatalf("GetShardIterator(%s, %s, %s, %q, %v): %v", name, shardID, typ, seq, ts, err)
	}
	if aws.ToString(out.ShardIterator) == "" {
		t.Fatalf("GetShardIterator(%s, %s, %s): empty iterator", name, shardID, typ)
	}
	return *out.ShardIterator
}

// drain reads from it until GetRecords returns no records (the tip: the
// server keeps every record of a shard contiguous, so an empty page only
// happens there) and returns every record read.
func (k *kin) drain(ctx context.Context, t *testing.T, it string) []types.Record {
	t.Helper()
	var recs []types.Record
	for range 100000 {
		out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			t.Fatalf("GetRecords after %d records: %v", len(recs), err)
		}
		recs = append(recs, out.Records...)
		if len(out.Records) == 0 {
			return recs
		}
		if out.NextShardIterator == nil {
			return recs // closed shard, fully read
		}
		it = *out.NextShardIterator
	}
	t.Fatalf("GetRecords never reached the tip")
	return nil
}

// readShard returns every record of one shard, from TRIM_HORIZON.
func (k *kin) readShard(ctx context.Context, t *testing.T, name, shardID string) []types.Record {
	t.Helper()
	return k.drain(ctx, t, k.iterator(ctx, t, name, shardID, types.ShardIteratorTypeTrimHorizon, "", nil))
}

// readAll returns every record of the stream by shard id.
func (k *kin) readAll(ctx context.Context, t *testing.T, name string) map[string][]types.Record {
	t.Helper()
	all := map[string][]types.Record{}
	for _, sh := range k.shards(ctx, t, name) {
		all[*sh.ShardId] = k.readShard(ctx, t, name, *sh.ShardId)
	}
	return all
}

// countRecords is the number of records in the whole stream.
func (k *kin) countRecords(ctx context.Context, t *testing.T, name string) int {
	t.Helper()
	n := 0
	for _, recs := range k.readAll(ctx, t, name) {
		n += len(recs)
	}
	return n
}

// --- hash keys ---------------------------------------------------------------

// two128 is 2^128, one past the largest hash key.
var two128 = new(big.Int).Lsh(big.NewInt(1), 128)

// hashRange is shard i of n's inclusive hash-key range as AWS splits it:
// floor(i*2^128/n) .. floor((i+1)*2^128/n)-1.
func hashRange(i, n int) (start, end *big.Int) {
	start = new(big.Int).Div(new(big.Int).Mul(big.NewInt(int64(i)), two128), big.NewInt(int64(n)))
	end = new(big.Int).Div(new(big.Int).Mul(big.NewInt(int64(i+1)), two128), big.NewInt(int64(n)))
	end.Sub(end, big.NewInt(1))
	return start, end
}

// shardOf is the index of the shard of n whose range holds h.
func shardOf(h *big.Int, n int) int {
	for i := range n {
		start, end := hashRange(i, n)
		if h.Cmp(start) >= 0 && h.Cmp(end) <= 0 {
			return i
		}
	}
	panic(fmt.Sprintf("hash key %s outside [0, 2^128)", h))
}

// md5Key is MD5(partitionKey) read as a big-endian uint128.
func md5Key(partitionKey string) *big.Int {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:])
}

// shardID is the id of shard i.
func shardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// bigInt parses a decimal string or fails the test.
func bigInt(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("%q is not a decimal integer", s)
	}
	return v
}

// --- errors ------------------------------------------------------------------

// wantAPIError asserts that err is the API error code (as the SDK decoded
// it: the typed error where the SDK has one, and smithy.APIError's
// ErrorCode), that its message is not empty and that the message mentions
// every string in mentions (case-insensitively).
func wantAPIError(t *testing.T, err error, code string, mentions ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %T %v, want API error %s", err, err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("got %s (%q), want %s", apiErr.ErrorCode(), apiErr.ErrorMessage(), code)
	}
	if !typedAs(err, code) {
		t.Errorf("error %T does not decode to the SDK's typed %s", err, code)
	}
	checkMessage(t, code, apiErr.ErrorMessage(), mentions...)
}

// wantAnyAPIError is wantAPIError for inputs where Kinesis' documented
// answer is one of several codes.
func wantAnyAPIError(t *testing.T, err error, codes []string, mentions ...string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %T %v, want one of %v", err, err, codes)
	}
	for _, c := range codes {
		if apiErr.ErrorCode() == c {
			t.Logf("answered %s: %s", c, apiErr.ErrorMessage())
			wantAPIError(t, err, c, mentions...)
			return
		}
	}
	t.Fatalf("got %s (%q), want one of %v", apiErr.ErrorCode(), apiErr.ErrorMessage(), codes)
}

func checkMessage(t *testing.T, code, msg string, mentions ...string) {
	t.Helper()
	if strings.TrimSpace(msg) == "" {
		t.Errorf("%s has an empty message", code)
	}
	for _, m := range mentions {
		if !strings.Contains(strings.ToLower(msg), strings.ToLower(m)) {
			t.Errorf("%s message %q does not mention %q", code, msg, m)
		}
	}
}

// typedAs reports whether err decodes to the SDK's typed error for code
// (true for codes the SDK has no type for).
func typedAs(err error, code string) bool {
	switch code {
	case "InvalidArgumentException":
		var e *types.InvalidArgumentException
		return errors.As(err, &e)
	case "ValidationException":
		var e *types.ValidationException
		return errors.As(err, &e)
	case "ResourceNotFoundException":
		var e *types.ResourceNotFoundException
		return errors.As(err, &e)
	case "ResourceInUseException":
		var e *types.ResourceInUseException
		return errors.As(err, &e)
	case "LimitExceededException":
		var e *types.LimitExceededException
		return errors.As(err, &e)
	case "ExpiredIteratorException":
		var e *types.ExpiredIteratorException
		return errors.As(err, &e)
	case "ExpiredNextTokenException":
		var e *types.ExpiredNextTokenException
		return errors.As(err, &e)
	}
	return true
}

// --- raw JSON 1.1 ------------------------------------------------------------

// rawReply is the server's answer to a hand-made request.
type rawReply struct {
	Status      int
	RequestID   string
	ContentType string
	Body        []byte
}

// rawCall POSTs body to the server as the Kinesis action target (the part
// after "Kinesis_20131202.", or a full X-Amz-Target when it holds a dot).
func rawCall(ctx context.Context, t *testing.T, s *server, target, body string) rawReply {
	t.Helper()
	if !strings.Contains(target, ".") {
		target = "Kinesis_20131202." + target
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read reply to %s: %v", target, err)
	}
	return rawReply{
		Status:      resp.StatusCode,
		RequestID:   resp.Header.Get("x-amzn-RequestId"),
		ContentType: resp.Header.Get("Content-Type"),
		Body:        b,
	}
}

// wantOK asserts a 200 reply and decodes its body into v (when not nil).
func (r rawReply) wantOK(t *testing.T, v any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.Status, r.Body)
	}
	if r.RequestID == "" {
		t.Errorf("reply has no x-amzn-RequestId")
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("decode reply %s: %v", r.Body, err)
		}
	}
}

// wantError asserts an HTTP 400 reply whose __type is code (a
// "namespace#" prefix is accepted, as AWS SDKs accept it) and whose message
// is non-empty and mentions every string in mentions.
func (r rawReply) wantError(t *testing.T, code string, mentions ...string) {
	t.Helper()
	if r.Status != http.StatusBadRequest {
		t.Errorf("status %d, want 400; body %s", r.Status, r.Body)
	}
	if r.RequestID == "" {
		t.Errorf("error reply has no x-amzn-RequestId")
	}
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", r.Body, err)
	}
	typ := e.Type
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		typ = typ[i+1:]
	}
	if typ != code {
		t.Fatalf("__type %q, want %s; body %s", e.Type, code, r.Body)
	}
	msg := e.Message
	if msg == "" {
		msg = e.MessageU
	}
	checkMessage(t, code, msg, mentions...)
}

// mustJSON encodes v or fails the test.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	return b.String()
}
