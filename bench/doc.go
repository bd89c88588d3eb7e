// Package bench measures Spate beside the systems people would use instead,
// the same way for each: one Driver per target, the same workloads, runs
// interleaved across targets (A B C, A B C, ...) and medians of three.
//
// It owns the measurement: workloads, the closed-loop throughput run, the
// open-loop latency run (sends leave at scheduled times whatever the replies
// do, and latency is counted from the scheduled time, so a slow reply cannot
// hide the sends it delays: no coordinated omission), HDR histograms, the
// fsync-rate probe that marks a noisy machine, and the report (a Markdown
// table and JSON lines). It does not own the targets: package
// bench/drivers starts and drives each one.
//
// Two more sections sit beside the stream targets: Analytics events per
// second on one core for Nexmark-shaped q5/q7/q11 queries (RunAnalytics, over
// analytics.Evaluate), and Firehose MB/s delivered to S3 with GZIP beside
// GZIP alone on the same bytes (RunFirehose).
//
// Invariant: every figure in a report is a median over rounds that ran
// interleaved with the other targets' rounds, and a throughput figure only
// counts records whose put was acknowledged.
package bench
