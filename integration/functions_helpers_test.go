package integration

// Helpers of the functions tests (functions_*_test.go): building an
// example handler into a Lambda zip, creating functions and event source
// mappings with the AWS CLI, the keyed records the proofs write and the
// rules their output is checked against.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// fnLab is a server, an SDK client and the AWS CLI pointed at it: the
// fixture of the functions tests.
type fnLab struct {
	*kin
	cli *awsCLI
}

func newFnLab(t *testing.T, opts ...serverOption) *fnLab {
	t.Helper()
	cli := newAWSCLI(t)
	k := newKin(t, opts...)
	cli.endpoint = k.srv.Endpoint()
	return &fnLab{kin: k, cli: cli}
}

// kill9Restart kills the server with SIGKILL and starts it again on its
// data directory; the clients follow it to its new ports.
func (l *fnLab) kill9Restart(t *testing.T) {
	t.Helper()
	l.srv.Kill9(t)
	l.restart(t)
	l.cli.endpoint = l.srv.Endpoint()
}

// buildHandler builds examples/<example> as a provided.al2023 handler, a
// static linux binary named bootstrap (as aws-lambda-go's documentation
// builds one, for the machine's architecture since Spate runs it as a local
// process), and zips it with mode 0755 (bootstrapZip). It returns the
// zip's path.
func buildHandler(t *testing.T, example string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "function.zip")
	if err := os.WriteFile(path, exampleZip(t, example), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// exampleZip builds examples/<example> as buildHandler does and returns
// the zip's bytes.
func exampleZip(t *testing.T, example string) []byte {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./examples/"+example)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build examples/%s: %v\n%s", example, err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return bootstrapZip(t, code, nil)
}

// createFunction creates a provided.al2023 function from zipPath with the
// AWS CLI and waits until it is Active. It returns the function's ARN.
func (l *fnLab) createFunction(ctx context.Context, t *testing.T, name, zipPath string, env map[string]string) string {
	t.Helper()
	args := []string{"lambda", "create-function", "--function-name", name,
		"--runtime", "provided.al2023", "--handler", "bootstrap",
		"--role", lambdaRole, "--zip-file", "fileb://" + zipPath}
	if len(env) > 0 {
		args = append(args, "--environment", mustJSON(t, map[string]any{"Variables": env}))
	}
	var fn struct{ FunctionArn, State string }
	l.cli.run(ctx, t, &fn, args...)
	if !strings.HasSuffix(fn.FunctionArn, ":function:"+name) {
		t.Fatalf("create-function %s answered FunctionArn %q", name, fn.FunctionArn)
	}
	for fn.State != "Active" {
		var got struct {
			Configuration struct{ FunctionArn, State string }
		}
		l.cli.run(ctx, t, &got, "lambda", "get-function", "--function-name", name)
		fn.State = got.Configuration.State
		if fn.State == "Failed" {
			t.Fatalf("function %s is Failed", name)
		}
		pause(ctx, t, "function "+name+" to be Active")
	}
	return fn.FunctionArn
}

// esMapping is the part of an EventSourceMappingConfiguration the tests
// read.
type esMapping struct {
	UUID                    string
	State                   string
	EventSourceArn          string
	FunctionArn             string
	BatchSize               int
	TumblingWindowInSeconds int
	FunctionResponseTypes   []string
}

// createMapping creates an event source mapping with the AWS CLI (args
// follow "lambda create-event-source-mapping") and waits until it is
// Enabled.
func (l *fnLab) createMapping(ctx context.Context, t *testing.T, args ...string) esMapping {
	t.Helper()
	var m esMapping
	l.cli.run(ctx, t, &m, append([]string{"lambda", "create-event-source-mapping"}, args...)...)
	if m.UUID == "" {
		t.Fatalf("create-event-source-mapping answered no UUID")
	}
	for m.State != "Enabled" {
		uuid := m.UUID
		l.cli.run(ctx, t, &m, "lambda", "get-event-source-mapping", "--uuid", uuid)
		if m.UUID != uuid {
			t.Fatalf("get-event-source-mapping %s answered UUID %q", uuid, m.UUID)
		}
		pause(ctx, t, "mapping "+uuid+" to be Enabled")
	}
	return m
}

// newStream creates a stream of a fresh name with shards shards, waits
// until it is ACTIVE, and returns its name and ARN.
func (l *fnLab) newStream(ctx context.Context, t *testing.T, shards int32) (name, arn string) {
	t.Helper()
	name = uniqueName(t)
	l.create(ctx, t, name, shards)
	return name, l.streamARN(ctx, t, name)
}

// streamARN is a stream's ARN as DescribeStreamSummary reports it.
func (l *fnLab) streamARN(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	return aws.ToString(l.summary(ctx, t, name).StreamARN)
}

// pause waits a moment between two polls, or fails the test when ctx ends
// first (what is awaited never came).
func pause(ctx context.Context, t *testing.T, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
	case <-time.After(50 * time.Millisecond):
	}
}

// --- keyed records ------------------------------------------------------------

// keyed is a record the proofs write: the i-th record of partition key
// Key. Its data is its JSON, so the output says which record it was.
type keyed struct {
	Key string `json:"key"`
	I   int    `json:"i"`
}

func (r keyed) data() []byte { return fmt.Appendf(nil, `{"key":%q,"i":%d}`, r.Key, r.I) }

// parseKeyed decodes a keyed record's data; ok is false for other data.
func parseKeyed(data []byte) (keyed, bool) {
	var r keyed
	if json.Unmarshal(data, &r) != nil || r.Key == "" {
		return keyed{}, false
	}
	return r, true
}

// source is what a test wrote to a source stream: every record by sequence
// number, and the records of each shard in sequence order.
type source struct {
	bySeq   map[string]sourceRecord
	byShard map[string][]string // sequence numbers in write order
	perKey  map[string]int      // how many records each key has
}

type sourceRecord struct {
	keyed
	shardID string
}

// writeKeyed writes n keyed records over keys partition keys, round robin,
// 500 per PutRecords call. Before the record at position poisonAt (when
// poisonAt >= 0) it writes one record of data poison under key poisonKey;
// its sequence number and shard are returned.
func (l *fnLab) writeKeyed(ctx context.Context, t *testing.T, stream string, n, keys int, poisonAt int, poison []byte, poisonKey string) (src source, poisonSeq, poisonShard string) {
	t.Helper()
	src = source{bySeq: map[string]sourceRecord{}, byShard: map[string][]string{}, perKey: map[string]int{}}
	var batch []types.PutRecordsRequestEntry
	var recs []keyed // nil entry (Key "") for the poison
	flush := func() {
		for i, r := range l.putRecords(ctx, t, stream, batch) {
			seq, shardID := aws.ToString(r.SequenceNumber), aws.ToString(r.ShardId)
			src.byShard[shardID] = append(src.byShard[shardID], seq)
			if recs[i].Key == "" {
				poisonSeq, poisonShard = seq, shardID
				continue
			}
			src.bySeq[seq] = sourceRecord{keyed: recs[i], shardID: shardID}
		}
		batch, recs = batch[:0], recs[:0]
	}
	add := func(e types.PutRecordsRequestEntry, r keyed) {
		batch = append(batch, e)
		recs = append(recs, r)
		if len(batch) == 500 {
			flush()
		}
	}
	for pos := range n {
		if pos == poisonAt {
			add(types.PutRecordsRequestEntry{Data: poison, PartitionKey: aws.String(poisonKey)}, keyed{})
		}
		key := fmt.Sprintf("k%02d", pos%keys)
		r := keyed{Key: key, I: src.perKey[key]}
		src.perKey[key]++
		add(types.PutRecordsRequestEntry{Data: r.data(), PartitionKey: aws.String(key)}, r)
	}
	if len(batch) > 0 {
		flush()
	}
	return src, poisonSeq, poisonShard
}

// --- output -------------------------------------------------------------------

// delivered is what a handler wrote, in the order it wrote it: the indices
// of each key's records.
type delivered struct {
	perKey map[string][]int
	total  int
	others []string // data that is not a keyed record
}

// distinct counts the keyed records delivered at least once.
func (d delivered) distinct() int {
	n := 0
	for _, idx := range d.perKey {
		seen := map[int]bool{}
		for _, i := range idx {
			seen[i] = true
		}
		n += len(seen)
	}
	return n
}

// outputOfStream reads every record of stream (the handler's output, in
// stream order per shard: a key's records land on one shard, in the order
// they were put).
func (l *fnLab) outputOfStream(ctx context.Context, t *testing.T, stream string) delivered {
	t.Helper()
	d := delivered{perKey: map[string][]int{}}
	for _, recs := range l.readAll(ctx, t, stream) {
		for _, r := range recs {
			d.add(r.Data)
		}
	}
	return d
}

func (d *delivered) add(data []byte) {
	d.total++
	r, ok := parseKeyed(data)
	if !ok {
		d.others = append(d.others, string(data))
		return
	}
	d.perKey[r.Key] = append(d.perKey[r.Key], r.I)
}

// fileLine is one line examples/function appends to its OUTPUT_FILE.
type fileLine struct {
	PartitionKey   string `json:"partitionKey"`
	SequenceNumber string `json:"sequenceNumber"`
	Data           string `json:"data"`
}

// readOutputFile reads the lines of an OUTPUT_FILE. A last line without
// its newline is being written (or its writer was killed mid-write) and is
// left out.
func readOutputFile(t *testing.T, path string) []fileLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil
	}
	var out []fileLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l fileLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: line %d: %v: %q", path, len(out)+1, err, sc.Text())
		}
		out = append(out, l)
	}
	return out
}

// fileDelivered groups an OUTPUT_FILE's lines like outputOfStream.
func fileDelivered(lines []fileLine) delivered {
	d := delivered{perKey: map[string][]int{}}
	for _, l := range lines {
		d.add([]byte(l.Data))
	}
	return d
}

// checkKeyOrder checks one partition key's delivered indices (0, 1, ... in
// source order) against the order an at-least-once, in-order consumer
// keeps: the output is the source order with replays. Precisely, for every
// position j, with max the highest index before j:
//
//   - got[j] <= max+1: nothing is delivered before every record ahead of
//     it was (the first deliveries are 0, 1, 2, ... in order, none skipped);
//   - if got[j] <= max (a replayed record), got[j+1] is got[j]+1 or at
//     most got[j]: a replay goes on in source order (or starts over), it
//     never jumps ahead, so no older record follows a newer one except
//     inside a replayed run.
//
// It returns nil or what broke the order.
func checkKeyOrder(got []int) error {
	maxSeen := -1
	for j, i := range got {
		if i > maxSeen+1 {
			return fmt.Errorf("position %d: record %d delivered while the highest before it was %d (%d skipped)", j, i, maxSeen, maxSeen+1)
		}
		if i <= maxSeen && j+1 < len(got) {
			if next := got[j+1]; next != i+1 && next > i {
				return fmt.Errorf("position %d: a replay delivers %d, then %d: it jumped ahead", j, i, next)
			}
		}
		maxSeen = max(maxSeen, i)
	}
	return nil
}

// invocationRecord is the record Lambda sends to an on-failure destination
// when it gives up on a Kinesis batch.
type invocationRecord struct {
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionArn            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	Version          string `json:"version"`
	Timestamp        string `json:"timestamp"`
	KinesisBatchInfo *struct {
		ShardID                         string `json:"shardId"`
		StartSequenceNumber             string `json:"startSequenceNumber"`
		EndSequenceNumber               string `json:"endSequenceNumber"`
		ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
		ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
		BatchSize                       int    `json:"batchSize"`
		StreamArn                       string `json:"streamArn"`
	} `json:"KinesisBatchInfo"`
}

// invocationRecords reads and decodes every record of an on-failure
// destination stream.
func (l *fnLab) invocationRecords(ctx context.Context, t *testing.T, stream string) []invocationRecord {
	t.Helper()
	var out []invocationRecord
	for _, recs := range l.readAll(ctx, t, stream) {
		for _, r := range recs {
			var ir invocationRecord
			if err := json.Unmarshal(r.Data, &ir); err != nil {
				t.Fatalf("%s holds a record that is not an invocation record: %v: %s", stream, err, r.Data)
			}
			out = append(out, ir)
		}
	}
	return out
}

// checkBatchInfo checks that ir reports exactly the one record seq of
// shardID in the stream streamARN, after the retries ran out: invokes
// invocations of it.
func checkBatchInfo(t *testing.T, ir invocationRecord, functionARN, streamARN, shardID, seq string, invokes int) {
	t.Helper()
	rc := ir.RequestContext
	if rc.Condition != "RetryAttemptsExhausted" || rc.FunctionArn != functionARN || rc.RequestID == "" || rc.ApproximateInvokeCount != invokes {
		t.Errorf("requestContext = %+v; want condition RetryAttemptsExhausted, functionArn %s, a request id and approximateInvokeCount %d",
			rc, functionARN, invokes)
	}
	if ir.ResponseContext.FunctionError == "" {
		t.Errorf("responseContext = %+v; want the function's error", ir.ResponseContext)
	}
	if ir.Version != "1.0" {
		t.Errorf("version = %q, want 1.0", ir.Version)
	}
	if _, err := time.Parse(time.RFC3339Nano, ir.Timestamp); err != nil {
		t.Errorf("timestamp %q: %v", ir.Timestamp, err)
	}
	bi := ir.KinesisBatchInfo
	if bi == nil {
		t.Fatalf("invocation record without KinesisBatchInfo: %+v", ir)
	}
	if bi.ShardID != shardID || bi.StartSequenceNumber != seq || bi.EndSequenceNumber != seq || bi.BatchSize != 1 || bi.StreamArn != streamARN {
		t.Errorf("KinesisBatchInfo = %+v; want shard %s, start = end = %s, batchSize 1, stream %s", *bi, shardID, seq, streamARN)
	}
	for _, ts := range []string{bi.ApproximateArrivalOfFirstRecord, bi.ApproximateArrivalOfLastRecord} {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("KinesisBatchInfo arrival time %q: %v", ts, err)
		}
	}
}

// seqLess orders two sequence numbers of one shard.
func seqLess(t *testing.T, a, b string) bool {
	t.Helper()
	return bigInt(t, a).Cmp(bigInt(t, b)) < 0
}

// itoa is strconv.Itoa, short for CLI arguments.
func itoa(n int) string { return strconv.Itoa(n) }
