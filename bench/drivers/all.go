package drivers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/spatehq/spate/bench"
)

// Names lists every driver, in the order the table shows them.
var Names = []string{"self-grpc", "self-http", "self-http-h2c", "self-http-cbor", "self-http-efo", "pebble-raw", "kfake", "nats", "kinesalite"}

// New returns the drivers named, in the order given. toolsDir is the
// directory scripts/bench-peers.sh installs into (the project's .tools);
// tmpDir is where targets keep their data ("" for the system default).
func New(names []string, toolsDir, tmpDir string) ([]bench.Driver, error) {
	var out []bench.Driver
	for _, n := range names {
		switch strings.TrimSpace(n) {
		case "self-grpc":
			out = append(out, &selfGRPC{self: self{tmpDir: tmpDir}})
		case "self-http":
			out = append(out, &selfHTTP{self: self{tmpDir: tmpDir}, wire: wireJSON})
		case "self-http-h2c":
			out = append(out, &selfHTTP{self: self{tmpDir: tmpDir}, wire: wireH2C})
		case "self-http-cbor":
			out = append(out, &selfHTTP{self: self{tmpDir: tmpDir}, wire: wireCBOR})
		case "self-http-efo":
			out = append(out, &selfEFO{selfGRPC: selfGRPC{self: self{tmpDir: tmpDir}}})
		case "pebble-raw":
			out = append(out, &pebbleRaw{tmpDir: tmpDir})
		case "kfake":
			out = append(out, newKfake(tmpDir))
		case "nats":
			out = append(out, &natsJS{bin: filepath.Join(toolsDir, "bin", "nats-server"), tmpDir: tmpDir})
		case "kinesalite":
			out = append(out, &kinesalite{dir: filepath.Join(toolsDir, "kinesalite"), tmpDir: tmpDir})
		default:
			return nil, fmt.Errorf("unknown target %q: want one of %s", n, strings.Join(Names, ", "))
		}
	}
	return out, nil
}

// FindTools returns the .tools directory of the project that holds dir,
// looking upwards for go.mod; "" when there is none.
func FindTools(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".tools")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// streamName is the stream (topic, JetStream stream prefix) every target
// creates.
const streamName = "bench"

// partitionKey spreads records over shards: Kinesis hashes it with MD5,
// so consecutive numbers land on shards evenly. Not fmt.Sprintf: the
// producers make one per record, inside each put's measured latency and
// on the cores the targets use (500 of them took about 0.18 ms).
func partitionKey(i uint64) string { return "pk-" + strconv.FormatUint(i, 10) }

// readPerShard calls read(ctx, shard) over and over from one goroutine per
// shard until the records read reach want, and returns their number. One
// reader per shard is how a Kinesis consumer reads (KCL runs a worker per
// shard) and how kgo and nats.go prefetch for the peers: the client decodes
// one reply while the server reads the next, instead of the two taking
// turns on the machine's cores. A shard that reads nothing waits a
// millisecond before it reads again: the target has acknowledged records it
// has not made readable yet (relaxed mode publishes after the next fsync),
// or they are on other shards.
func readPerShard(ctx context.Context, want, shards int, read func(ctx context.Context, shard int) (int, error)) (int, error) {
	var total atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for i := range shards {
		g.Go(func() error {
			for total.Load() < int64(want) {
				n, err := read(gctx, i)
				if err != nil {
					return err
				}
				if total.Add(int64(n)) >= int64(want) || n > 0 {
					continue
				}
				select {
				case <-gctx.Done():
					return fmt.Errorf("read %d of %d records: %w", total.Load(), want, gctx.Err())
				case <-time.After(time.Millisecond):
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return int(total.Load()), err
}
