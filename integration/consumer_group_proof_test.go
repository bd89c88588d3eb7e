package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/spatehq/spate/client"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// The consumer-group proofs of issue 14: workers of one group, each a
// process of its own, read a stream that 8 producers write to, while
// workers are killed (SIGKILL) and added, with and without the stream
// being resharded (2 → 4 → 3 → 2 → 1 shards) meanwhile. Throughout, a
// watcher polls the server's lease records (DescribeGroup); at the end:
//
//   - at-least-once (`spate consume` workers, which print each record):
//     every acknowledged record was printed by some worker;
//   - exactly-once (examples/consumer workers, which write each record
//     upper-cased to an output stream through Checkpoint): the output
//     stream holds every acknowledged record exactly once, each key's in
//     acknowledgement order;
//   - no checkpoint and no lease counter ever went backwards, and no lease
//     of a killed worker was live after its lease timeout: its shards were
//     free for the others, and only the others' leases were live;
//   - after the surviving workers stop (SIGTERM), they exit 0 and the group
//     has no workers and no live leases, its checkpoints at the shards' ends.

// proofLeaseTimeout is the groups' lease timeout: short, so a killed
// worker's shards move soon.
const proofLeaseTimeout = time.Second

func TestConsumerGroupProof(t *testing.T) {
	for _, tc := range []struct {
		name        string
		exactlyOnce bool
		reshard     bool
	}{
		{"at-least-once", false, false},
		{"at-least-once across reshards", false, true},
		{"exactly-once", true, false},
		{"exactly-once across reshards", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			consumerGroupProof(t, tc.exactlyOnce, tc.reshard)
		})
	}
}

func consumerGroupProof(t *testing.T, exactlyOnce, reshard bool) {
	k := newKin(t)
	ctx := testCtx(t)
	in, out, group := uniqueName(t), uniqueName(t), "proof"
	shards := int32(4)
	if reshard {
		shards = 2 // proofSteps' start
	}
	k.create(ctx, t, in, shards)
	sdk := newSDKClient(t, k.srv)
	var startWorker func(id string) *workerProc
	if exactlyOnce {
		k.create(ctx, t, out, 2)
		bin := buildExample(t, "consumer")
		startWorker = func(id string) *workerProc {
			return startWorkerProc(t, id, nil, bin, "--grpc-addr", k.srv.GRPCAddr, "-stream", in, "-group", group,
				"-output", out, "-lease-timeout", proofLeaseTimeout.String(), "-worker-id", id)
		}
	} else {
		startWorker = func(id string) *workerProc {
			return startWorkerProc(t, id, nil, spateBin, "consume", in, "--group", group, "--grpc-addr", k.srv.GRPCAddr,
				"--lease-timeout", proofLeaseTimeout.String(), "--worker-id", id)
		}
	}

	kp := startKeyedProducers(ctx, t, in, func() *kinesis.Client { return k.c })
	watch := watchGroup(ctx, t, sdk, in, group)
	workers := map[string]*workerProc{} // the live ones
	var all []*workerProc               // every one started, for what they printed
	add := func(id string) {
		workers[id] = startWorker(id)
		all = append(all, workers[id])
	}
	for _, id := range []string{"w1", "w2", "w3"} {
		add(id)
	}
	steps := proofSteps(ctx, in)
	reshardNext := func() {
		if !reshard || len(steps) == 0 {
			return
		}
		k.waitActive(ctx, t, in)
		if err := steps[0].do(k, openShards(ctx, t, k.c, in)); err != nil {
			t.Fatalf("%s: %v", steps[0].what, err)
		}
		steps = steps[1:]
	}
	kp.progress(ctx, t, 300)
	// Kill the busiest worker, add one, reshard; twice; then the rest of
	// the reshards.
	for round, added := range []string{"w4", "w5"} {
		var victim string
		waitUntil(ctx, t, "a worker holds leases", func() bool {
			victim = busiest(ctx, sdk, in, group, workers)
			return victim != ""
		})
		watch.killed(victim)
		workers[victim].kill9(t)
		delete(workers, victim)
		kp.progress(ctx, t, 200)
		add(added)
		reshardNext()
		kp.progress(ctx, t, 300)
		t.Logf("round %d: killed %s, added %s", round+1, victim, added)
	}
	for len(steps) > 0 && reshard {
		reshardNext()
		kp.progress(ctx, t, 300)
	}
	kp.halt()

	// Wait until the survivors have processed everything, then stop them.
	want := kp.total.Load()
	var read map[string][]string
	waitUntil(ctx, t, "every acknowledged record processed", func() bool {
		if exactlyOnce {
			read = upperToLower(readLineageQuiet(ctx, t, k, out))
		} else {
			read = map[string][]string{}
			for _, w := range all {
				w.printed(t, read)
			}
		}
		return countAll(read) >= int(want) && kp.allRead(read)
	})
	for id, w := range workers {
		w.stop(t)
		delete(workers, id)
	}
	watch.halt()

	if exactlyOnce {
		kp.check(t, upperToLower(mustReadLineage(ctx, t, k, out)))
	} else {
		dup := countAll(read) - int(want)
		t.Logf("%d records printed %d times in all: %d more than once (batches a killed worker printed but did not checkpoint)",
			want, countAll(read), dup)
	}
	watch.check(t)
	g := describeGroup(ctx, t, sdk, in, group)
	if len(g.GetWorkers()) != 0 {
		t.Errorf("after every worker stopped, the group has workers %v", g.GetWorkers())
	}
	for _, l := range g.GetLeases() {
		if l.GetOwner() != "" && l.GetExpires().AsTime().After(time.Now()) {
			t.Errorf("after every worker stopped, %s is leased by %s", l.GetShardId(), l.GetOwner())
		}
		if l.GetLagRecords() != 0 {
			t.Errorf("after every worker stopped, %s lags %d records (checkpoint %s)", l.GetShardId(), l.GetLagRecords(), l.GetCheckpoint())
		}
	}
	t.Logf("group: %d leases, %d acquisitions, %d steals, %d expiries; %d DescribeGroup polls",
		len(g.GetLeases()), g.GetLeaseAcquisitions(), g.GetLeaseSteals(), g.GetLeaseExpiries(), watch.polls)
}

// busiest is the live worker with the most live leases; "" when none has
// one yet.
func busiest(ctx context.Context, c *client.Client, stream, group string, live map[string]*workerProc) string {
	resp, err := c.Groups.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: &spatev1.GroupRef{StreamName: stream, Group: group}})
	if err != nil {
		return ""
	}
	n := map[string]int{}
	best := ""
	for _, l := range resp.GetGroup().GetLeases() {
		if w := l.GetOwner(); live[w] != nil {
			n[w]++
			if best == "" || n[w] > n[best] || (n[w] == n[best] && w < best) {
				best = w
			}
		}
	}
	return best
}

// allRead reports whether read holds every acknowledged record.
func (kp *keyedProducers) allRead(read map[string][]string) bool {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	for key, acked := range kp.acked {
		have := map[string]bool{}
		for _, d := range read[key] {
			have[d] = true
		}
		for _, d := range acked {
			if !have[d] {
				return false
			}
		}
	}
	return true
}

func countAll(read map[string][]string) int {
	n := 0
	for _, ds := range read {
		n += len(ds)
	}
	return n
}

func upperToLower(read map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, ds := range read {
		for _, d := range ds {
			out[k] = append(out[k], strings.ToLower(d))
		}
	}
	return out
}

// readLineageQuiet reads the output stream; it has no reshards, so a
// partial read (records still arriving) is no error.
func readLineageQuiet(ctx context.Context, t *testing.T, k *kin, name string) map[string][]string {
	t.Helper()
	read, _ := readLineage(ctx, t, k.c, name)
	return read
}

// waitUntil polls cond until it holds; the test fails when ctx ends first.
func waitUntil(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting until %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// newSDKClient is an SDK client for the server's gRPC API, closed with the
// test.
func newSDKClient(t *testing.T, s *server) *client.Client {
	t.Helper()
	c, err := client.New(s.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func describeGroup(ctx context.Context, t *testing.T, c *client.Client, stream, group string) *spatev1.Group {
	t.Helper()
	resp, err := c.Groups.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: &spatev1.GroupRef{StreamName: stream, Group: group}})
	if err != nil {
		t.Fatalf("DescribeGroup(%s, %s): %v", stream, group, err)
	}
	return resp.GetGroup()
}

// groupWatch polls a group's lease records and checks them as they change.
type groupWatch struct {
	stop chan struct{}
	done chan struct{}

	mu          sync.Mutex
	checkpoints map[string]string    // shard → the last checkpoint seen
	counters    map[string]uint64    // shard → the last lease counter seen
	dead        map[string]time.Time // killed worker → when
	violations  []string
	polls       int
}

func watchGroup(ctx context.Context, t *testing.T, c *client.Client, stream, group string) *groupWatch {
	w := &groupWatch{stop: make(chan struct{}), done: make(chan struct{}),
		checkpoints: map[string]string{}, counters: map[string]uint64{}, dead: map[string]time.Time{}}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			resp, err := c.Groups.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: &spatev1.GroupRef{StreamName: stream, Group: group}})
			if err != nil {
				continue // not created yet, or the test is ending
			}
			w.observe(resp.GetGroup(), time.Now())
		}
	}()
	return w
}

// observe checks one poll against the previous ones: checkpoints and lease
// counters never go back, and a killed worker holds no lease that lives
// past its lease timeout (plus a margin for a heartbeat in flight at the
// kill).
func (w *groupWatch) observe(g *spatev1.Group, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.polls++
	for _, l := range g.GetLeases() {
		id := l.GetShardId()
		if cp := l.GetCheckpoint(); cp != "" {
			if prev := w.checkpoints[id]; len(prev) == len(cp) && cp < prev {
				w.violations = append(w.violations, fmt.Sprintf("%s: checkpoint went back from %s to %s", id, prev, cp))
			}
			w.checkpoints[id] = cp
		}
		if prev := w.counters[id]; l.GetLeaseCounter() < prev {
			w.violations = append(w.violations, fmt.Sprintf("%s: lease counter went back from %d to %d", id, prev, l.GetLeaseCounter()))
		}
		w.counters[id] = l.GetLeaseCounter()
		if at, ok := w.dead[l.GetOwner()]; ok && l.GetExpires() != nil {
			if limit := at.Add(proofLeaseTimeout + 500*time.Millisecond); l.GetExpires().AsTime().After(limit) {
				w.violations = append(w.violations, fmt.Sprintf("%s: lease of %s, killed at %s, expires %s, after its timeout",
					id, l.GetOwner(), at.Format(time.StampMilli), l.GetExpires().AsTime().Format(time.StampMilli)))
			}
		}
	}
}

// killed records that a worker is about to be killed.
func (w *groupWatch) killed(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dead[id] = time.Now()
}

func (w *groupWatch) halt() {
	close(w.stop)
	<-w.done
}

func (w *groupWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.polls == 0 {
		t.Error("the watcher never saw the group")
	}
	for _, v := range w.violations {
		t.Error(v)
	}
}

// buildExample builds ./examples/NAME into the test's temporary directory
// (with -race when the tests run with it) and returns the binary's path.
func buildExample(t *testing.T, name string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./examples/"+name)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	return bin
}

// workerProc is a worker process: its standard output is kept apart, its
// standard error goes into the test log when the test fails.
type workerProc struct {
	id      string
	cmd     *exec.Cmd
	out     logBuffer
	log     logBuffer
	done    chan struct{}
	waitErr error
}

// logWriter is a logBuffer (harness_test.go) as an io.Writer.
type logWriter struct{ *logBuffer }

func (w logWriter) Write(p []byte) (int, error) {
	w.write(p)
	return len(p), nil
}

// startWorkerProc starts bin with args, and env added to this process's
// environment.
func startWorkerProc(t *testing.T, id string, env []string, bin string, args ...string) *workerProc {
	t.Helper()
	w := &workerProc{id: id, done: make(chan struct{})}
	w.cmd = exec.Command(bin, args...)
	if env != nil {
		w.cmd.Env = append(os.Environ(), env...)
	}
	w.cmd.Stdout, w.cmd.Stderr = logWriter{&w.out}, logWriter{&w.log}
	w.cmd.SysProcAttr = sysProcAttr()
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start worker %s: %v", id, err)
	}
	go func() {
		w.waitErr = w.cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = w.cmd.Process.Kill()
			<-w.done
		}
		if t.Failed() {
			t.Logf("worker %s (%v) log:\n%s", id, w.waitErr, w.log.String())
		}
	})
	return w
}

// kill9 sends SIGKILL and waits for the process to die.
func (w *workerProc) kill9(t *testing.T) {
	t.Helper()
	select {
	case <-w.done:
		t.Fatalf("worker %s exited on its own: %v\n%s", w.id, w.waitErr, w.log.String())
	default:
	}
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 worker %s: %v", w.id, err)
	}
	<-w.done
}

// stop sends SIGTERM and asserts a clean exit (status 0).
func (w *workerProc) stop(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop worker %s: %v", w.id, err)
	}
	select {
	case <-w.done:
	case <-time.After(stopTimeout):
		t.Fatalf("worker %s did not exit within %v of SIGTERM", w.id, stopTimeout)
	}
	if w.waitErr != nil {
		t.Errorf("worker %s exited uncleanly after SIGTERM: %v\n%s", w.id, w.waitErr, w.log.String())
	}
}

// printed adds the records a `spate consume` worker printed (JSON lines)
// to read, by partition key.
func (w *workerProc) printed(t *testing.T, read map[string][]string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(w.out.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r jsonLine
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line cut by a kill
		}
		read[r.PartitionKey] = append(read[r.PartitionKey], string(r.Data))
	}
}

// jsonLine is a record as `spate consume` prints it.
type jsonLine struct {
	Shard        string `json:"shard"`
	Sequence     string `json:"sequence"`
	PartitionKey string `json:"partitionKey"`
	Data         []byte `json:"data"`
}
