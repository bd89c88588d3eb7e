package integration

// Helpers shared by the tests that drive the server with aws-sdk-go-v2 (the
// sdk_*_test.go compatibility tests, and the crash, restart and CLI tests):
// the kin fixture's stream helpers (set-up, puts, draining shards, waiting
// for a deletion), hash-key arithmetic, sequence-number checks, error
// assertions and raw JSON 1.1 requests for the inputs the SDK cannot express.

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
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// create creates a PROVISIONED stream with n shards and waits until it is
// ACTIVE.
func (k *kin) create(ctx context.Context, t *testing.T, name string, n int32) {
	t.Helper()
	k.createWith(ctx, t, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(n)})
}

// createOnDemand creates an ON_DEMAND stream and waits until it is ACTIVE.
func (k *kin) createOnDemand(ctx context.Context, t *testing.T, name string) *types.StreamDescriptionSummary {
	t.Helper()
	return k.createWith(ctx, t, &kinesis.CreateStreamInput{
		StreamName:        aws.String(name),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand},
	})
}

// createWith sends CreateStream with in, waits until the stream is ACTIVE
// and returns its summary then.
func (k *kin) createWith(ctx context.Context, t *testing.T, in *kinesis.CreateStreamInput) *types.StreamDescriptionSummary {
	t.Helper()
	name := aws.ToString(in.StreamName)
	if _, err := k.c.CreateStream(ctx, in); err != nil {
		mode := types.StreamModeProvisioned
		if in.StreamModeDetails != nil {
			mode = in.StreamModeDetails.StreamMode
		}
		t.Fatalf("CreateStream(%s, %s, %d shards, tags %v): %v", name, mode, aws.ToInt32(in.ShardCount), in.Tags, err)
	}
	return k.waitActive(ctx, t, name)
}

// waitActive polls DescribeStreamSummary until the stream is ACTIVE and
// returns that summary. A new stream is CREATING until then, an updated one
// (mode, warm throughput, encryption) UPDATING; any other status fails the test.
func (k *kin) waitActive(ctx context.Context, t *testing.T, name string) *types.StreamDescriptionSummary {
	t.Helper()
	for {
		sum := k.summary(ctx, t, name)
		switch sum.StreamStatus {
		case types.StreamStatusActive:
			return sum
		case types.StreamStatusCreating, types.StreamStatusUpdating:
		default:
			t.Fatalf("stream %s is %s, want CREATING or UPDATING, then ACTIVE", name, sum.StreamStatus)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s never became ACTIVE (last status %s): %v", name, sum.StreamStatus, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitGone waits until a deleted stream is gone: it polls
// DescribeStreamSummary until that answers ResourceNotFoundException naming
// the stream (the stream may pass through DELETING, nothing else), then
// asserts that ListStreams no longer lists it.
func (k *kin) waitGone(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	for {
		out, err := k.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			wantAPIError(t, err, "ResourceNotFoundException", name)
			break
		}
		if st := out.StreamDescriptionSummary.StreamStatus; st != types.StreamStatusDeleting {
			t.Fatalf("deleted stream %s is %s, want DELETING or gone", name, st)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s never went away: %v", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if slices.Contains(k.streamNames(ctx, t), name) {
		t.Errorf("ListStreams still lists %s, which DescribeStreamSummary no longer finds", name)
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

// streamNames returns the name of every stream, paging ListStreams.
func (k *kin) streamNames(ctx context.Context, t *testing.T) []string {
	t.Helper()
	var names []string
	p := kinesis.NewListStreamsPaginator(k.c, &kinesis.ListStreamsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListStreams: %v", err)
		}
		names = append(names, page.StreamNames...)
	}
	return names
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

// put puts one record and returns the answer.
func (k *kin) put(ctx context.Context, t *testing.T, name, partitionKey string, data []byte) *kinesis.PutRecordOutput {
	t.Helper()
	out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String(name), PartitionKey: aws.String(partitionKey), Data: data,
	})
	if err != nil {
		t.Fatalf("PutRecord(%s, %q): %v", name, partitionKey, err)
	}
	return out
}

// putRecords puts entries in one PutRecords call, asserts that every entry
// succeeded, and returns the results in entry order.
func (k *kin) putRecords(ctx context.Context, t *testing.T, name string, entries []types.PutRecordsRequestEntry) []types.PutRecordsResultEntry {
	t.Helper()
	out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
	if err != nil {
		t.Fatalf("PutRecords(%s, %d entries): %v", name, len(entries), err)
	}
	if len(out.Records) != len(entries) {
		t.Fatalf("PutRecords(%s): %d results for %d entries", name, len(out.Records), len(entries))
	}
	for i, r := range out.Records {
		// Spate has no throttling: a per-entry failure is a bug.
		if r.ErrorCode != nil {
			t.Fatalf("PutRecords(%s): entry %d: %s: %s", name, i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
		}
	}
	if n := aws.ToInt32(out.FailedRecordCount); n != 0 {
		t.Fatalf("PutRecords(%s): FailedRecordCount %d with no failed entry", name, n)
	}
	return out.Records
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

// drain reads from it until GetRecords returns no records and is not behind
// the tip (or the shard is closed and fully read), and returns every record
// read. Nobody may write the shard meanwhile.
func (k *kin) drain(ctx context.Context, t *testing.T, it string) []types.Record {
	t.Helper()
	var recs []types.Record
	for range 100000 {
		out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		if err != nil {
			t.Fatalf("GetRecords after %d records: %v", len(recs), err)
		}
		recs = append(recs, out.Records...)
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
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

// --- sequence numbers and records ----------------------------------------

// decimal matches a sequence number: digits without a leading zero.
var decimal = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// checkIncreasing asserts that seqs strictly increase as integers and all
// have one length, so that their string order is their numeric order too.
func checkIncreasing(t *testing.T, what string, seqs []string) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		prev, cur := seqs[i-1], seqs[i]
		if bigInt(t, prev).Cmp(bigInt(t, cur)) >= 0 {
			t.Errorf("%s: sequence number %s follows %s, not greater", what, cur, prev)
		}
		if prev >= cur {
			t.Errorf("%s: sequence numbers %s, %s: string order differs from numeric order", what, prev, cur)
		}
		if len(prev) != len(cur) {
			t.Errorf("%s: sequence numbers %s, %s differ in length", what, prev, cur)
		}
	}
}

// checkSameLength asserts that every sequence number is decimal and all have
// one length, so string order is numeric order.
func checkSameLength(t *testing.T, seqs []string) {
	t.Helper()
	for _, s := range seqs {
		if !decimal.MatchString(s) {
			t.Errorf("sequence number %q is not decimal", s)
		}
		if len(s) != len(seqs[0]) {
			t.Errorf("sequence numbers %s and %s differ in length", seqs[0], s)
			return
		}
	}
}

// checkUnique asserts that no sequence number appears twice.
func checkUnique(t *testing.T, seqs []string) {
	t.Helper()
	if d := duplicates(seqs); len(d) > 0 {
		t.Errorf("sequence numbers handed out twice: %v", d)
	}
}

// duplicates returns every string of s that an earlier one repeats.
func duplicates(s []string) []string {
	seen := map[string]bool{}
	var d []string
	for _, v := range s {
		if seen[v] {
			d = append(d, v)
		}
		seen[v] = true
	}
	return d
}

// recordSeqs returns the records' sequence numbers (nil for none).
func recordSeqs(recs []types.Record) []string {
	if len(recs) == 0 {
		return nil
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = aws.ToString(r.SequenceNumber)
	}
	return out
}

// resultSeqs returns the sequence numbers PutRecords answered.
func resultSeqs(res []types.PutRecordsResultEntry) []string {
	out := make([]string, len(res))
	for i, r := range res {
		out[i] = aws.ToString(r.SequenceNumber)
	}
	return out
}

// recordData returns the records' data as strings.
func recordData(recs []types.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Data)
	}
	return out
}

// tagMap turns ListTagsForStream's tags into a map.
func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, tg := range tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
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
	is, ok := map[string]func(error) bool{
		"InvalidArgumentException":  errorAs[*types.InvalidArgumentException],
		"ValidationException":       errorAs[*types.ValidationException],
		"ResourceNotFoundException": errorAs[*types.ResourceNotFoundException],
		"ResourceInUseException":    errorAs[*types.ResourceInUseException],
		"LimitExceededException":    errorAs[*types.LimitExceededException],
		"ExpiredIteratorException":  errorAs[*types.ExpiredIteratorException],
		"ExpiredNextTokenException": errorAs[*types.ExpiredNextTokenException],
		"KMSNotFoundException":      errorAs[*types.KMSNotFoundException],
		"KMSDisabledException":      errorAs[*types.KMSDisabledException],
		"KMSInvalidStateException":  errorAs[*types.KMSInvalidStateException],
		"KMSAccessDeniedException":  errorAs[*types.KMSAccessDeniedException],
	}[code]
	return !ok || is(err)
}

// errorAs reports whether err's chain holds an E.
func errorAs[E error](err error) bool {
	var e E
	return errors.As(err, &e)
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
