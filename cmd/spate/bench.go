package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spatehq/spate/bench"
	"github.com/spatehq/spate/bench/drivers"
)

// benchFlags is what `spate bench` is configured with.
type benchFlags struct {
	quick     bool
	targets   []string
	jsonPath  string
	rounds    int
	duration  time.Duration
	sizes     []int
	batches   []int
	shards    []int
	producers []int
	relaxed   bool
	toolsDir  string
	tmpDir    string
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Spate beside raw Pebble, kfake, NATS JetStream and kinesalite",
		Long: `Measure Spate's streams in-process (gRPC and the Kinesis JSON API) beside
raw Pebble with Spate's key layout (the ceiling) and the peers that
scripts/bench-peers.sh installs into .tools (NATS JetStream, kinesalite),
plus franz-go's kfake. Every target runs on loopback with its data in a
temporary directory.

Targets run interleaved (A B C, A B C, ...), three rounds each; figures are
medians. Each round is a closed-loop throughput run, a catch-up read from
TRIM_HORIZON, and an open-loop latency run at half that throughput with a
consumer tailing. An fsync-rate probe before and after marks the run noisy
when the two differ by more than 30%.

The Markdown table goes to stdout, progress to stderr. --quick measures the
headline case only (100 B records, batch 500, 4 shards, 1 producer) and
finishes in under two minutes. See docs/benchmarks.md.`,
		Example: `  spate bench --quick
  spate bench --targets self-grpc,pebble-raw --sizes 100 --batches 500 --shards 4 --producers 1
  spate bench --json bench.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.quick, "quick", false, "headline case only, short rounds: under two minutes")
	fl.StringSliceVar(&f.targets, "targets", drivers.Names, "targets to measure, comma separated")
	fl.StringVar(&f.jsonPath, "json", "", "also write one JSON object per result to this file")
	fl.IntVar(&f.rounds, "rounds", 3, "rounds per target and case (figures are their medians)")
	fl.DurationVar(&f.duration, "duration", 0, "length of each throughput and latency run (default 3s, 1s with --quick)")
	fl.IntSliceVar(&f.sizes, "sizes", []int{100, 1024}, "record sizes in bytes (ignored with --quick)")
	fl.IntSliceVar(&f.batches, "batches", []int{500, 1}, "records per put (ignored with --quick)")
	fl.IntSliceVar(&f.shards, "shards", []int{1, 4, 16}, "shard counts (ignored with --quick)")
	fl.IntSliceVar(&f.producers, "producers", []int{1, 8}, "concurrent producers (ignored with --quick)")
	fl.BoolVar(&f.relaxed, "relaxed", true, "also measure relaxed durability (its own column)")
	fl.StringVar(&f.toolsDir, "tools-dir", "", "where scripts/bench-peers.sh installed the peers (default: .tools of the enclosing Go module)")
	fl.StringVar(&f.tmpDir, "tmp-dir", "", "where targets keep their data (default: the system temporary directory)")
	return cmd
}

func runBench(cmd *cobra.Command, f benchFlags) error {
	cfg := bench.FullConfig()
	if f.quick {
		cfg = bench.QuickConfig()
		if !f.relaxed {
			cfg.Workloads = bench.Matrix([]int{100}, []int{500}, []int{4}, []int{1}, false)
		}
	} else {
		cfg.Workloads = bench.Matrix(f.sizes, f.batches, f.shards, f.producers, f.relaxed)
	}
	if len(cfg.Workloads) == 0 {
		return fmt.Errorf("no workloads: give at least one of each of --sizes, --batches, --shards, --producers")
	}
	for _, w := range cfg.Workloads {
		if w.RecordSize < 8 || w.Batch < 1 || w.Batch > 500 || w.Shards < 1 || w.Producers < 1 {
			return fmt.Errorf("workload %s: want record size >= 8, batch 1 to 500, shards and producers >= 1", w.Case())
		}
	}
	if f.rounds < 1 {
		return fmt.Errorf("--rounds %d: want at least 1", f.rounds)
	}
	cfg.Rounds = f.rounds
	if f.duration > 0 {
		cfg.Duration, cfg.LatencyDuration = f.duration, f.duration
	}
	if f.tmpDir != "" {
		cfg.ProbeDir = f.tmpDir
	}
	cfg.Machine = machine()
	cfg.Log = cmd.ErrOrStderr()

	tools := f.toolsDir
	if tools == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		tools = drivers.FindTools(wd)
	}
	ds, err := drivers.New(f.targets, tools, f.tmpDir)
	if err != nil {
		return err
	}
	var jsonOut io.WriteCloser
	if f.jsonPath != "" {
		if jsonOut, err = os.Create(f.jsonPath); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
		defer jsonOut.Close()
	}
	rep, err := bench.Run(cmd.Context(), ds, cfg)
	if err != nil {
		return err
	}
	if err := rep.Markdown(cmd.OutOrStdout()); err != nil {
		return err
	}
	if jsonOut != nil {
		if err := rep.JSONLines(jsonOut); err != nil {
			return err
		}
		if err := jsonOut.Close(); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	return nil
}

// machine describes where the bench ran: cores, CPU model and kernel, read
// from /proc on Linux; what it cannot read it leaves out.
func machine() string {
	parts := []string{fmt.Sprintf("%d cores (nproc)", runtime.NumCPU())}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				parts = append(parts, strings.TrimSpace(v))
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		parts = append(parts, "Linux "+strings.TrimSpace(string(b)))
	}
	return strings.Join(parts, ", ") + ", " + runtime.GOOS + "/" + runtime.GOARCH + ", " + runtime.Version()
}
