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
// Invariant: every figure in a report is a median over rounds that ran
// interleaved with the other targets' rounds, and a throughput figure only
// counts records whose put was acknowledged.
package bench
