package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Issue 11, defect 3: memory had no bound. 1,000 concurrent GetRecords of
// 2.5 MB each took the server to 13.2 GB of RSS. TestMemoryBound starts the
// server with --memory-limit 1GiB (so a read budget of 256 MiB), fills a
// shard so that one GetRecords returns 10 MiB (ten records of 1 MiB less
// 16 bytes), fires 1,000 of them at once over the Kinesis JSON API, and
// requires that:
//   - every call either returns all ten records, byte for byte, or is
//     refused with ProvisionedThroughputExceededException (HTTP 400), and
//     nothing else (no other error, no reset connection);
//   - the server's peak RSS (VmHWM) stays under memoryBoundRSS.
//
// The server is built without the race detector for this test, whatever the
// tests run with: -race multiplies a program's memory (shadow memory, about
// 5 to 10 times), which would make a bound on RSS meaningless. The
// environment can change the run, for measurements: SPATE_MEMORY_BIN tests
// another binary (given GOMEMLIMIT=1GiB instead of the flag, which an older
// binary lacks), SPATE_MEMORY_CONCURRENCY another number of readers.
const (
	memoryLimitFlag = "1GiB"
	// memoryBoundRSS is the stated bound: the Go limit (1 GiB), plus what
	// Pebble allocates outside the Go heap (one 64 MiB memtable in this
	// test, up to 264 MiB in all), plus the runtime's own overhead beyond
	// what GOMEMLIMIT counts (the limit is soft: the collector may overshoot
	// it briefly while it runs) and the 1,000 connections' kernel-visible
	// buffers and stacks. 1.5 GiB leaves ~200 MiB for those two.
	memoryBoundRSS   = 1536 << 20
	memoryReaders    = 1000
	memoryRecords    = 10
	memoryRecordSize = 1<<20 - 16 // ten fill exactly one 10 MiB GetRecords
)

func TestMemoryBound(t *testing.T) {
	bin, env, args := memoryTestBinary(t)
	readers := memoryReaders
	if v := os.Getenv("SPATE_MEMORY_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SPATE_MEMORY_CONCURRENCY=%q", v)
		}
		readers = n
	}
	srv := startMemoryServer(t, bin, env, args)
	k := &kin{srv: srv, c: srv.Kinesis(t)}
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	for i := range memoryRecords {
		k.put(ctx, t, name, "k", bytes.Repeat([]byte{byte('a' + i)}, memoryRecordSize))
	}
	it := k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)

	// The first read gives the exact bytes every successful reply must
	// start with (the records); the rest is the next iterator, which
	// carries the time it was issued.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers, DisableCompression: true}}
	first, status := getRecordsRaw(ctx, t, client, srv.Endpoint(), it)
	if status != http.StatusOK {
		t.Fatalf("first GetRecords: status %d: %.300s", status, first)
	}
	prefix, ok := recordsPrefix(first)
	if !ok {
		t.Fatalf("first GetRecords reply has no Records: %.300s", first)
	}
	checkRecords(t, prefix)
	first = nil

	var (
		mu               sync.Mutex
		ok200, throttled int
		failures         []string
		wg               sync.WaitGroup
		start            = make(chan struct{})
	)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			outcome, err := getRecordsStreamed(ctx, client, srv.Endpoint(), it, prefix)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failures = append(failures, err.Error())
			case outcome == "ok":
				ok200++
			default:
				throttled++
			}
		}()
	}
	close(start)
	wg.Wait()
	hwm := vmHWM(t, srv.PID())
	t.Logf("%d concurrent GetRecords of %.1f MiB: %d full replies, %d ProvisionedThroughputExceededException, %d failures; server peak RSS %d MiB (bound %d MiB)",
		readers, float64(memoryRecords*memoryRecordSize)/(1<<20), ok200, throttled, len(failures), hwm>>20, memoryBoundRSS>>20)
	if len(failures) > 0 {
		t.Errorf("%d calls failed otherwise; the first: %s", len(failures), failures[0])
	}
	if ok200 == 0 {
		t.Errorf("no call succeeded")
	}
	if hwm > memoryBoundRSS {
		t.Errorf("server peak RSS %d MiB is over the bound of %d MiB", hwm>>20, memoryBoundRSS>>20)
	}
	// Still serving, and the data reads back whole.
	if body, status := getRecordsRaw(ctx, t, client, srv.Endpoint(), it); status != http.StatusOK || !bytes.HasPrefix(body, prefix) {
		t.Errorf("GetRecords after the burst: status %d", status)
	}
}

// memoryTestBinary returns the binary, extra environment and extra flags
// for TestMemoryBound: a build without -race (see the test's comment).
func memoryTestBinary(t *testing.T) (string, []string, []string) {
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	if bin := os.Getenv("SPATE_MEMORY_BIN"); bin != "" {
		return bin, []string{"GOMEMLIMIT=" + memoryLimitFlag}, nil
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "spate")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/spate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (without -race): %v\n%s", err, out)
	}
	return bin, nil, []string{"--memory-limit", memoryLimitFlag}
}

// startMemoryServer is startServer for a given binary and environment.
func startMemoryServer(t *testing.T, bin string, env, extra []string) *server {
	t.Helper()
	s := &server{DataDir: t.TempDir(), log: &logBuffer{}}
	args := append([]string{"serve", "--data-dir", s.DataDir, "--http-addr", "127.0.0.1:0",
		"--grpc-addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "info"}, extra...)
	p := &process{ready: make(chan boundAddrs, 1), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	w := &readyWriter{log: s.log, ready: p.ready}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	s.proc = p
	t.Cleanup(func() {
		if !p.exited() {
			if err := p.stop(stopTimeout); err != nil {
				t.Errorf("stop server: %v", err)
			}
		} else if !p.signalled {
			t.Errorf("server exited on its own during the test: %v", p.waitErr)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log.String())
		}
	})
	select {
	case addrs := <-p.ready:
		s.HTTPAddr, s.GRPCAddr = addrs.HTTP, addrs.GRPC
	case <-p.done:
		t.Fatalf("server exited before serving: %v\n%s", p.waitErr, s.log.String())
	case <-time.After(startTimeout):
		t.Fatalf("server did not start\n%s", s.log.String())
	}
	return s
}

// PID is the server process's id.
func (s *server) PID() int { return s.proc.cmd.Process.Pid }

func getRecordsRequest(ctx context.Context, endpoint, it string) (*http.Request, error) {
	body, _ := json.Marshal(map[string]string{"ShardIterator": it})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.GetRecords")
	return req, nil
}

// getRecordsRaw returns one GetRecords reply body whole.
func getRecordsRaw(ctx context.Context, t *testing.T, client *http.Client, endpoint, it string) ([]byte, int) {
	t.Helper()
	req, err := getRecordsRequest(ctx, endpoint, it)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GetRecords body: %v", err)
	}
	return body, resp.StatusCode
}

// getRecordsStreamed makes one GetRecords call and compares its reply with
// prefix as it arrives (a thousand 13 MiB bodies are not kept): "ok" for a
// full reply, "throttled" for ProvisionedThroughputExceededException, or an
// error for anything else.
func getRecordsStreamed(ctx context.Context, client *http.Client, endpoint, it string, prefix []byte) (string, error) {
	req, err := getRecordsRequest(ctx, endpoint, it)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GetRecords: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var e struct {
			Type string `json:"__type"`
		}
		if resp.StatusCode == http.StatusBadRequest && json.Unmarshal(body, &e) == nil && e.Type == "ProvisionedThroughputExceededException" &&
			resp.Header.Get("X-Amzn-ErrorType") == e.Type {
			return "throttled", nil
		}
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	chunk := make([]byte, 64<<10)
	for off := 0; off < len(prefix); {
		n, err := io.ReadFull(r, chunk[:min(len(chunk), len(prefix)-off)])
		if !bytes.Equal(chunk[:n], prefix[off:off+n]) {
			return "", fmt.Errorf("reply differs from the records within bytes %d to %d", off, off+n)
		}
		off += n
		if err != nil {
			return "", fmt.Errorf("reply cut at byte %d: %w", off, err)
		}
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("reply cut after the records: %w", err)
	}
	if !bytes.HasPrefix(rest, []byte(`,"NextShardIterator":"`)) || !bytes.HasSuffix(rest, []byte(`,"MillisBehindLatest":0}`)) {
		return "", fmt.Errorf("reply ends %q", rest)
	}
	return "ok", nil
}

// recordsPrefix is a reply up to the end of its Records.
func recordsPrefix(body []byte) ([]byte, bool) {
	i := bytes.Index(body, []byte(`],"NextShardIterator"`))
	if !bytes.HasPrefix(body, []byte(`{"Records":[`)) || i < 0 {
		return nil, false
	}
	return body[:i+1], true
}

// checkRecords checks the records of a reply: memoryRecords of the data
// that was put, in order.
func checkRecords(t *testing.T, prefix []byte) {
	t.Helper()
	var reply struct{ Records []struct{ Data []byte } }
	if err := json.Unmarshal(append(append([]byte{}, prefix...), '}'), &reply); err != nil {
		t.Fatalf("decode records: %v", err)
	}
	if len(reply.Records) != memoryRecords {
		t.Fatalf("one GetRecords returned %d records, want %d", len(reply.Records), memoryRecords)
	}
	for i, r := range reply.Records {
		if !bytes.Equal(r.Data, bytes.Repeat([]byte{byte('a' + i)}, memoryRecordSize)) {
			t.Fatalf("record %d: wrong data (%d bytes, %q...)", i, len(r.Data), base64.StdEncoding.EncodeToString(r.Data[:min(8, len(r.Data))]))
		}
	}
}

// vmHWM reads a process's peak resident set size from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the server's status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
