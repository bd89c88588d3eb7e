package main

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestReadLine(t *testing.T) {
	tests := []struct {
		name  string
		input string
		size  int      // reader buffer; 0 means 64
		want  []string // "!" marks a line reported too long
	}{
		{"empty input", "", 0, nil},
		{"lines", "a\nbb\n", 0, []string{"a", "bb"}},
		{"no final newline", "a\nbb", 0, []string{"a", "bb"}},
		{"crlf", "a\r\nb\r\n", 0, []string{"a", "b"}},
		{"empty lines kept", "\n\nx\n", 0, []string{"", "", "x"}},
		{"too long in the middle", "a\n" + strings.Repeat("x", 40) + "\nb\n", 16, []string{"a", "!", "b"}},
		{"too long at the end", "a\n" + strings.Repeat("x", 40), 16, []string{"a", "!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.size
			if size == 0 {
				size = 64
			}
			br := bufio.NewReaderSize(strings.NewReader(tt.input), size)
			var got []string
			for {
				line, tooLong, err := readLine(br)
				if err != nil {
					break
				}
				if tooLong {
					got = append(got, "!")
					continue
				}
				got = append(got, string(line))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines = %q, want %q", got, tt.want)
			}
		})
	}
}

// fakePutClient answers PutRecords with respond and records every call.
type fakePutClient struct {
	spatev1.StreamServiceClient // other methods are not used

	mu      sync.Mutex
	calls   []*spatev1.PutRecordsRequest
	respond func(call int, req *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error)
}

func (f *fakePutClient) PutRecords(_ context.Context, req *spatev1.PutRecordsRequest, _ ...grpc.CallOption) (*spatev1.PutRecordsResponse, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	n := len(f.calls)
	f.mu.Unlock()
	return f.respond(n, req)
}

// succeed answers every entry with success.
func succeed(_ int, req *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
	resp := &spatev1.PutRecordsResponse{}
	for range req.GetRecords() {
		resp.Records = append(resp.Records, &spatev1.PutRecordsResultEntry{ShardId: "shardId-000000000000", SequenceNumber: "1"})
	}
	return resp, nil
}

// testPutter is a linePutter with a fake client, a stepping clock and no
// sleeping.
func testPutter(respond func(int, *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error)) (*linePutter, *fakePutClient, *strings.Builder) {
	fake := &fakePutClient{respond: respond}
	var stderr strings.Builder
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := &linePutter{
		command: "spate put", addr: "test", sink: &streamSink{api: fake, stream: "s"}, stderr: &stderr,
		progressEvery: time.Hour, attempts: 3,
		backoff: func(int) time.Duration { return time.Millisecond },
		sleep:   func(context.Context, time.Duration) error { return nil },
		now:     func() time.Time { clock = clock.Add(time.Second); return clock },
	}
	return p, fake, &stderr
}

func numberedLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestLinePutterBatches(t *testing.T) {
	big := strings.Repeat("x", shard.MaxRecordSize-10)
	tests := []struct {
		name      string
		input     string
		key       string
		wantSizes []int // entries per call
	}{
		{"by count", numberedLines(1203), "", []int{500, 500, 203}},
		{"by size", strings.Repeat(big+"\n", 21), "", []int{10, 10, 1}}, // 10 MiB a call
		{"fixed key", numberedLines(3), "k", []int{3}},
		{"empty input", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake, _ := testPutter(succeed)
			p.sink.(*streamSink).partitionKey = tt.key
			stats, err := p.run(context.Background(), strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			var sizes []int
			line := 0
			for _, c := range fake.calls {
				sizes = append(sizes, len(c.GetRecords()))
				bytes := 0
				for _, e := range c.GetRecords() {
					line++
					want := tt.key
					if want == "" {
						want = strconv.Itoa(line)
					}
					if e.GetPartitionKey() != want {
						t.Fatalf("line %d has partition key %q, want %q", line, e.GetPartitionKey(), want)
					}
					bytes += len(e.GetData()) + len(e.GetPartitionKey())
				}
				if bytes > shard.MaxPutRecordsSize {
					t.Errorf("a call holds %d bytes, over the %d limit", bytes, shard.MaxPutRecordsSize)
				}
			}
			if !slices.Equal(sizes, tt.wantSizes) {
				t.Errorf("calls of %v entries, want %v", sizes, tt.wantSizes)
			}
			if stats.put != int64(line) || stats.lines != int64(line) || stats.failed != 0 {
				t.Errorf("stats = %+v, want %d lines put", stats, line)
			}
		})
	}
}

func TestLinePutterFailures(t *testing.T) {
	entryError := func(code string, fail func(data string) bool) func(int, *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
		return func(_ int, req *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
			resp := &spatev1.PutRecordsResponse{}
			for _, e := range req.GetRecords() {
				r := &spatev1.PutRecordsResultEntry{ShardId: "shardId-000000000000", SequenceNumber: "1"}
				if fail(string(e.GetData())) {
					r = &spatev1.PutRecordsResultEntry{ErrorCode: code, ErrorMessage: "nope"}
					resp.FailedRecordCount++
				}
				resp.Records = append(resp.Records, r)
			}
			return resp, nil
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	failOnce := func(data string) bool { // every even line fails on its first try
		mu.Lock()
		defer mu.Unlock()
		seen[data]++
		n, _ := strconv.Atoi(strings.TrimPrefix(data, "line "))
		return n%2 == 0 && seen[data] == 1
	}

	tests := []struct {
		name       string
		input      string
		respond    func(int, *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error)
		wantPut    int64
		wantFailed int64
		wantCalls  int
		wantErr    string   // substring; "" for none
		wantStderr []string // substrings
		maxRecord  int      // the stream's maximum record size; 0: the default
		reached    bool     // the server answered before the run (spate put's DescribeStreamSummary)
	}{
		{
			name: "throttled entries are retried", input: numberedLines(4),
			respond: entryError("ProvisionedThroughputExceededException", failOnce),
			wantPut: 4, wantCalls: 2,
		},
		{
			name: "entries failing every time are reported", input: numberedLines(3),
			respond: entryError("InternalFailure", func(d string) bool { return d == "line 2" }),
			wantPut: 2, wantFailed: 1, wantCalls: 3,
			wantStderr: []string{"line 2: InternalFailure: nope"},
		},
		{
			name: "entries with a permanent error are not retried", input: numberedLines(3),
			respond: entryError("InvalidArgumentException", func(d string) bool { return d == "line 3" }),
			wantPut: 2, wantFailed: 1, wantCalls: 1,
			wantStderr: []string{"line 3: InvalidArgumentException: nope"},
		},
		{
			name: "unavailable server is retried", input: numberedLines(2), reached: true,
			respond: func(call int, req *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
				if call < 3 {
					return nil, status.Error(codes.Unavailable, "restarting")
				}
				return succeed(call, req)
			},
			wantPut: 2, wantCalls: 3,
		},
		{
			name: "unavailable for good", input: numberedLines(2), reached: true,
			respond: func(int, *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
				return nil, status.Error(codes.Unavailable, "gone")
			},
			wantCalls: 3, wantErr: "put lines 1 to 2: the Spate server at test is unavailable",
		},
		{
			name: "no server: unavailable before any answer fails at once", input: numberedLines(2),
			respond: func(int, *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
				return nil, status.Error(codes.Unavailable, "connection refused")
			},
			wantCalls: 1, wantErr: "put lines 1 to 2: the Spate server at test is unavailable (is 'spate serve' running there?",
		},
		{
			name: "unavailable after a first answer is retried", input: numberedLines(501),
			respond: func(call int, req *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
				if call == 2 {
					return nil, status.Error(codes.Unavailable, "restarting")
				}
				return succeed(call, req)
			},
			wantPut: 501, wantCalls: 3,
		},
		{
			name: "permanent call error stops at once", input: numberedLines(600),
			respond: func(int, *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
				return nil, status.Error(codes.NotFound, "ResourceNotFoundException: Stream s not found")
			},
			wantCalls: 1, wantErr: "put lines 1 to 500: ResourceNotFoundException: Stream s not found",
		},
		{
			name: "oversized line is reported, not sent", input: "a\n" + strings.Repeat("x", shard.MaxRecordSize) + "\nb\n",
			respond: succeed, wantPut: 2, wantFailed: 1, wantCalls: 1,
			wantStderr: []string{"line 2: data plus partition key exceed 1048576 bytes"},
		},
		{
			name: "the stream's larger limit", input: "a\n" + strings.Repeat("x", 2*shard.MaxRecordSize) + "\nb\n",
			maxRecord: 3 * shard.MaxRecordSize, respond: succeed, wantPut: 3, wantCalls: 1,
		},
		{
			name: "over the stream's larger limit", input: "a\n" + strings.Repeat("x", 2*shard.MaxRecordSize) + "\nb\n",
			maxRecord: 2 * shard.MaxRecordSize, respond: succeed, wantPut: 2, wantFailed: 1, wantCalls: 1,
			wantStderr: []string{"line 2: data plus partition key exceed 2097152 bytes (2048 KiB"},
		},
		{
			name: "line longer than the read buffer", input: "a\n" + strings.Repeat("x", 2*shard.MaxRecordSize) + "\nb\n",
			respond: succeed, wantPut: 2, wantFailed: 1, wantCalls: 1,
			wantStderr: []string{"line 2: data plus partition key exceed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clear(seen)
			p, fake, stderr := testPutter(tt.respond)
			p.sink.(*streamSink).maxRecord = tt.maxRecord
			p.reached = tt.reached
			stats, err := p.run(context.Background(), strings.NewReader(tt.input))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("run: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("run error = %v, want one containing %q", err, tt.wantErr)
			}
			if stats.put != tt.wantPut || stats.failed != tt.wantFailed {
				t.Errorf("put %d failed %d, want %d and %d", stats.put, stats.failed, tt.wantPut, tt.wantFailed)
			}
			if len(fake.calls) != tt.wantCalls {
				t.Errorf("%d calls, want %d", len(fake.calls), tt.wantCalls)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestLinePutterProgressAndSummary(t *testing.T) {
	p, _, stderr := testPutter(succeed)
	p.progress = true
	p.progressEvery = 3 * time.Second // the test clock steps 1 s per reading
	stats, err := p.run(context.Background(), strings.NewReader(numberedLines(3000)))
	if err != nil {
		t.Fatal(err)
	}
	p.printSummary(stats, err)
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	// 6 batches with a clock reading each: progress at the 3rd and 6th.
	want := []string{
		"spate put: 1500 records (",
		"spate put: 3000 records (",
		"spate put: put 3000 of 3000 records (",
	}
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(want), stderr.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[2], "into s in ") || !strings.HasSuffix(lines[2], "; 0 failed") {
		t.Errorf("summary = %q", lines[2])
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{5 << 20, "5.0 MiB"}, {3 << 30, "3.0 GiB"}, {5000 << 30, "5000.0 GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := formatBytes(tt.n); got != tt.want {
				t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestPutCommand(t *testing.T) {
	s := startAPIServer(t)
	ctx := clientTestContext(t)
	if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}

	out, _, err := s.run(ctx, nil, "put", "s", "hello", "--explicit-hash-key", "0")
	if err != nil {
		t.Fatalf("put DATA: %v", err)
	}
	if f := strings.Fields(out); len(f) != 2 || f[0] != "shardId-000000000000" || len(f[1]) != 56 {
		t.Errorf("put DATA printed %q, want the shard and a 56-digit sequence number", out)
	}

	const n = 1234
	out, errOut, err := s.run(ctx, strings.NewReader(numberedLines(n)), "put", "s")
	if err != nil {
		t.Fatalf("put from stdin: %v\n%s", err, errOut)
	}
	if out != "" || !strings.Contains(errOut, fmt.Sprintf("put %d of %d records", n, n)) {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}

	// Every line is stored once, and each shard holds its lines in order.
	var got []string
	for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
		it, err := s.api.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{
			StreamName: "s", ShardId: id, ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON,
		})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.api.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()})
		if err != nil {
			t.Fatal(err)
		}
		last := 0
		for _, r := range resp.GetRecords() {
			if string(r.GetData()) == "hello" {
				continue
			}
			k, _ := strconv.Atoi(r.GetPartitionKey())
			if k <= last || string(r.GetData()) != fmt.Sprintf("line %d", k) {
				t.Fatalf("%s: record %q with key %q after key %d", id, r.GetData(), r.GetPartitionKey(), last)
			}
			last = k
			got = append(got, string(r.GetData()))
		}
	}
	if len(got) != n {
		t.Errorf("read back %d lines, want %d", len(got), n)
	}

	_, errOut, err = s.run(ctx, strings.NewReader("x\n"), "put", "nope")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") || !strings.Contains(errOut, "1 not sent") {
		t.Errorf("put into a missing stream: err %v, stderr %q", err, errOut)
	}
}
