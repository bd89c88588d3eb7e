package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spatehq/spate/bench"
	"github.com/spatehq/spate/bench/drivers"
	"github.com/spatehq/spate/firehose/s3store"
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
	cross     bool
	relaxed   bool
	toolsDir  string
	tmpDir    string
	cpuProf   string
	// The Analytics and Firehose sections of the report.
	analytics       bool
	analyticsEvents int
	firehose        bool
	s3              s3store.Config
	reshard         bool
	producer        bool
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "spate-bench",
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

Then, each in its own table: Analytics events/s per core (single-threaded)
on the q5, q7 and q11-shaped Nexmark queries beside their goals;
Firehose MB/s delivered to S3 with GZIP beside GZIP alone, when an S3
endpoint is given (--s3-endpoint, or the env scripts/s3-server.sh prints);
and puts at a steady rate while the stream is split and merged: throughput
and p50/p99 latency beside the same with the shards left alone, and how
long a reshard takes to take effect (--reshard); and the Go SDK's
producer: 8 producers putting single records, each acknowledged, over the
Produce stream and over unary PutRecords, beside the same 8 putting
batches of 500 with PutRecords (--producer).

Workloads: the headline case (100 B records, batch 500, 4 shards, 1
producer) and one variation per dimension: 1 KiB records; batch 1
(PutRecord) with 1 and with 8 producers; 1 and 16 shards; 8 producers.
Giving any of --sizes, --batches, --shards, --producers measures those
values crossed, with the others at the headline's; --cross measures every
combination of the four lists. Each workload is durable and, unless
--relaxed=false, relaxed.

The Markdown table goes to stdout, progress to stderr. --quick measures the
headline case only, with short rounds, and finishes in under two minutes.
See docs/benchmarks.md.`,
		Example: `  spate-bench --quick
  spate bench --quick        (the same, through the spate binary)
  spate-bench --targets self-grpc,pebble-raw --sizes 100,1024
  spate-bench --cross --relaxed=false
  spate-bench --json bench.jsonl`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.quick, "quick", false, "headline case only, short rounds: under two minutes")
	fl.StringSliceVar(&f.targets, "targets", drivers.Names, "targets to measure, comma separated")
	fl.StringVar(&f.jsonPath, "json", "", "also write one JSON object per result to this file")
	fl.IntVar(&f.rounds, "rounds", 3, "rounds per target and case (figures are their medians)")
	fl.DurationVar(&f.duration, "duration", 0, "length of each throughput and latency run, and of each resharding phase (default 3s, 1s with --quick)")
	fl.IntSliceVar(&f.sizes, "sizes", []int{100, 1024}, "record sizes in bytes (see Workloads; ignored with --quick)")
	fl.IntSliceVar(&f.batches, "batches", []int{500, 1}, "records per put (see Workloads; ignored with --quick)")
	fl.IntSliceVar(&f.shards, "shards", []int{1, 4, 16}, "shard counts (see Workloads; ignored with --quick)")
	fl.IntSliceVar(&f.producers, "producers", []int{1, 8}, "concurrent producers (see Workloads; ignored with --quick)")
	fl.BoolVar(&f.cross, "cross", false, "measure every combination of --sizes, --batches, --shards and --producers (all defaults: 48 workloads, hours)")
	fl.BoolVar(&f.relaxed, "relaxed", true, "also measure relaxed durability (its own column)")
	fl.StringVar(&f.toolsDir, "tools-dir", "", "where scripts/bench-peers.sh installed the peers (default: .tools of the enclosing Go module)")
	fl.StringVar(&f.tmpDir, "tmp-dir", "", "where targets keep their data (default: the system temporary directory)")
	fl.BoolVar(&f.analytics, "analytics", true, "also measure Analytics: events/s per core on the q5, q7 and q11-shaped Nexmark queries")
	fl.IntVar(&f.analyticsEvents, "analytics-events", 0, "Nexmark bids per Analytics evaluation (default 200000, 100000 with --quick)")
	fl.BoolVar(&f.firehose, "firehose", true, "also measure Firehose delivery to S3 with GZIP beside GZIP alone (needs --s3-endpoint)")
	// Like `spate serve`'s, falling back to what scripts/s3-server.sh env
	// prints, so `make bench` fills the Firehose row.
	s3env := func(key string) string {
		if os.Getenv("SPATE_S3_ENDPOINT") != "" {
			return os.Getenv("SPATE_S3_" + key)
		}
		return os.Getenv("SPATE_TEST_S3_" + key)
	}
	fl.StringVar(&f.s3.Endpoint, "s3-endpoint", s3env("ENDPOINT"),
		"S3-compatible store for the Firehose measurement (env SPATE_S3_ENDPOINT, else SPATE_TEST_S3_ENDPOINT)")
	fl.StringVar(&f.s3.AccessKey, "s3-access-key", s3env("ACCESS_KEY"), "S3 access key (env SPATE_S3_ACCESS_KEY or SPATE_TEST_S3_ACCESS_KEY)")
	fl.StringVar(&f.s3.SecretKey, "s3-secret-key", s3env("SECRET_KEY"), "S3 secret key (env SPATE_S3_SECRET_KEY or SPATE_TEST_S3_SECRET_KEY)")
	fl.StringVar(&f.s3.Region, "s3-region", s3env("REGION"), "S3 region (env SPATE_S3_REGION or SPATE_TEST_S3_REGION; default us-east-1)")
	fl.BoolVar(&f.reshard, "reshard", true, "also measure puts while the stream is split and merged (resharding under load)")
	fl.BoolVar(&f.producer, "producer", true, "also measure the Go SDK's producer: 8 producers putting single records, each acknowledged, beside batched PutRecords")
	fl.StringVar(&f.cpuProf, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof reads it)")
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
		cfg.Workloads = benchWorkloads(cmd, f)
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
	if f.analyticsEvents < 0 {
		return fmt.Errorf("--analytics-events %d: want at least 1 (0: the default)", f.analyticsEvents)
	}
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
	if f.cpuProf != "" {
		// In-process targets run in this process, so the profile shows
		// where their time goes (the out-of-process peers' does not).
		pf, err := os.Create(f.cpuProf)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(cmd.Context(), ds, cfg)
	if err != nil {
		return err
	}
	if err := benchSections(cmd, f, &rep); err != nil {
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

// benchSections runs the Analytics and Firehose measurements the flags ask
// for, with the stream targets stopped, and adds them to rep.
func benchSections(cmd *cobra.Command, f benchFlags, rep *bench.Report) error {
	if f.analytics {
		acfg := bench.DefaultAnalyticsConfig()
		if f.quick {
			acfg = bench.QuickAnalyticsConfig()
		}
		if f.analyticsEvents > 0 {
			acfg.Events = f.analyticsEvents
		}
		acfg.Rounds, acfg.Log = f.rounds, cmd.ErrOrStderr()
		res, err := bench.RunAnalytics(cmd.Context(), bench.AnalyticsQueries, acfg)
		if err != nil {
			return err
		}
		rep.Analytics = res
	}
	if f.firehose {
		fcfg := bench.DefaultFirehoseConfig()
		if f.quick {
			fcfg = bench.QuickFirehoseConfig()
		}
		fcfg.S3, fcfg.Rounds, fcfg.TmpDir, fcfg.Log = f.s3, f.rounds, f.tmpDir, cmd.ErrOrStderr()
		res, err := bench.RunFirehose(cmd.Context(), fcfg)
		if err != nil {
			return err
		}
		rep.Firehose = &res
	}
	if f.reshard {
		rcfg := bench.DefaultReshardConfig()
		if f.quick {
			rcfg = bench.QuickReshardConfig()
		}
		rcfg.Rounds, rcfg.TmpDir, rcfg.Log = f.rounds, f.tmpDir, cmd.ErrOrStderr()
		if f.duration > 0 {
			rcfg.Phase = f.duration
		}
		res, err := bench.RunReshard(cmd.Context(), rcfg)
		if err != nil {
			return err
		}
		rep.Reshard = &res
	}
	if f.producer {
		return benchProducer(cmd, f, rep)
	}
	return nil
}

// benchWorkloads is what a run without --quick measures: the cross product
// with --cross; the given dimensions crossed, the others at the headline
// case's value, when any of --sizes, --batches, --shards and --producers is
// given; otherwise bench.Standard.
func benchWorkloads(cmd *cobra.Command, f benchFlags) []bench.Workload {
	if f.cross {
		return bench.Matrix(f.sizes, f.batches, f.shards, f.producers, f.relaxed)
	}
	h := bench.Headline
	given := false
	dim := func(flag string, v []int, headline int) []int {
		if cmd.Flags().Changed(flag) {
			given = true
			return v
		}
		return []int{headline}
	}
	sizes := dim("sizes", f.sizes, h.RecordSize)
	batches := dim("batches", f.batches, h.Batch)
	shards := dim("shards", f.shards, h.Shards)
	producers := dim("producers", f.producers, h.Producers)
	if !given {
		return bench.Standard(f.relaxed)
	}
	return bench.Matrix(sizes, batches, shards, producers, f.relaxed)
}
