package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/ctxsleep"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func newPutCmd() *cobra.Command {
	var (
		key, hashKey string
		quiet        bool
	)
	cmd := &cobra.Command{
		Use:   "put STREAM [DATA]",
		Short: "Put one record, or every line of stdin, into a stream",
		Long: `Put records into STREAM.

With DATA, put one record whose data is DATA and print its shard and sequence
number. Without --partition-key its partition key is random, so single puts
spread over the shards.

Without DATA, read stdin and put every line (without its line ending) as one
record, batched into PutRecords calls of at most 500 records and 5 MiB. The
partition key of a line is --partition-key, or else the line's number (1, 2,
3, ...), which spreads lines evenly over the shards; lines with the same key
keep their order. A progress line goes to stderr every second and a summary
at the end (--quiet hides both). Records the server rejects for a passing
reason (throughput, internal failure, the server restarting) are retried
with backoff; a record that still fails, or is too large (data plus
partition key over 1 MiB), is reported on stderr with its line number, and
the command then exits with an error. When no server answers at
--grpc-addr, the command fails at once, before reading stdin. A retried call can store a record
twice if the server had stored it before the call failed (at-least-once, as
with Kinesis).`,
		Example: `  spate put orders '{"id": 1}'
  spate put orders --partition-key customer-7 'hello'
  cat events.jsonl | spate put orders`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			stream := args[0]
			if len(args) == 2 {
				pk := key
				if pk == "" {
					pk = rand.Text()
				}
				resp, err := c.api.PutRecord(cmd.Context(), &spatev1.PutRecordRequest{
					StreamName: stream, Data: []byte(args[1]), PartitionKey: pk, ExplicitHashKey: hashKey,
				})
				if err != nil {
					return c.fail("put record", err)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", resp.GetShardId(), resp.GetSequenceNumber())
				return err
			}

			maxRecord, err := streamMaxRecord(cmd.Context(), c.api, stream)
			if err != nil {
				// No server: say so before reading stdin.
				return c.fail("put", err)
			}
			sink := &streamSink{api: c.api, stream: stream, partitionKey: key, explicitHashKey: hashKey, maxRecord: maxRecord}
			p := newLinePutter("spate put", c.addr, sink, cmd.ErrOrStderr(), !quiet)
			p.reached = true // the server answered streamMaxRecord's call
			return p.putAll(cmd.Context(), cmd.InOrStdin())
		},
	}
	cmd.Flags().StringVarP(&key, "partition-key", "k", "", "partition key of every record (default: random for DATA, the line number for stdin)")
	cmd.Flags().StringVar(&hashKey, "explicit-hash-key", "", "route every record by this decimal hash key (0 to 2^128-1) instead of its partition key")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress or summary on stderr (failures are still reported)")
	return cmd
}

// linePutter puts the lines of its input as records, batching, retrying and
// reporting them; its recordSink says what a record is and sends the
// batches. `spate put` and `spate firehose put` share it.
type linePutter struct {
	command  string // "spate put": the prefix of what it writes to stderr
	addr     string // for error messages
	sink     recordSink
	stderr   io.Writer // failures, progress and summary
	progress bool

	// Knobs that tests change.
	progressEvery time.Duration
	attempts      int // calls per record before it is reported as failed
	backoff       func(attempt int) time.Duration
	sleep         func(ctx context.Context, d time.Duration) error
	now           func() time.Time

	lastProgress time.Time
	// reached is set once the server has answered a call (with anything
	// but Unavailable). Until then Unavailable means no server listens at
	// the address, and the command fails at once as every other command
	// does; after it, Unavailable is a passing outage (a restart, a
	// failover) worth retrying.
	reached bool
}

// recordSink is where a linePutter's records go: a stream (PutRecords) or
// a delivery stream (PutRecordBatch).
type recordSink interface {
	// target names the destination in the summary.
	target() string
	// limits are the most records and bytes a batch may hold, and the most
	// bytes one record may.
	limits() putLimits
	// key returns the partition key of line n ("" if records have none);
	// it counts toward a record's size.
	key(n int64) string
	// oversize says why a record over limits().record cannot be sent.
	oversize() string
	// send puts one batch and returns one result per record, in order.
	send(ctx context.Context, batch []pendingLine) ([]putResult, error)
}

type putLimits struct{ records, batch, record int }

// putResult is the outcome of one record of a batch: an empty code on
// success.
type putResult struct{ code, message string }

func newLinePutter(command, addr string, sink recordSink, stderr io.Writer, progress bool) *linePutter {
	return &linePutter{
		command: command, addr: addr, sink: sink, stderr: stderr, progress: progress,
		progressEvery: time.Second,
		attempts:      8,
		backoff: func(attempt int) time.Duration {
			return min(100*time.Millisecond<<(attempt-1), 3*time.Second)
		},
		sleep: ctxsleep.Sleep,
		now:   time.Now,
	}
}

// putAll runs the putter on r, prints the summary (when reporting
// progress) and returns an error if a call failed or any record did.
func (p *linePutter) putAll(ctx context.Context, r io.Reader) error {
	stats, err := p.run(ctx, r)
	if p.progress {
		p.printSummary(stats, err)
	}
	if err == nil && stats.failed > 0 {
		err = fmt.Errorf("%d of %d records failed (see the lines above)", stats.failed, stats.lines)
	}
	return err
}

// putStats counts what a run did. Every line read ends up in put, failed,
// or (when run returns an error) neither: lines - put - failed were not sent.
type putStats struct {
	lines   int64 // lines read
	put     int64 // records stored
	failed  int64 // records reported as failed
	bytes   int64 // data bytes stored
	started time.Time
	ended   time.Time
}

// pendingLine is a line waiting in a batch.
type pendingLine struct {
	line int64
	data []byte
	key  string
}

// run reads r to the end and puts every line. It returns an error when a
// call fails for good (the stream does not exist, the server is gone); the
// lines not yet sent then are neither put nor failed.
func (p *linePutter) run(ctx context.Context, r io.Reader) (stats putStats, err error) {
	stats.started = p.now()
	p.lastProgress = stats.started
	defer func() { stats.ended = p.now() }()

	lim := p.sink.limits()
	br := bufio.NewReaderSize(r, lim.record+2) // a full record and "\r\n"
	var batch []pendingLine
	batchBytes := 0
	for {
		data, tooLong, err := readLine(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return stats, fmt.Errorf("read stdin after line %d: %w", stats.lines, err)
		}
		stats.lines++
		key := p.sink.key(stats.lines)
		size := len(data) + len(key)
		if tooLong || size > lim.record {
			stats.failed++
			fmt.Fprintf(p.stderr, "%s: line %d: %s; not sent\n", p.command, stats.lines, p.sink.oversize())
			continue
		}
		if len(batch) == lim.records || batchBytes+size > lim.batch {
			if err := p.flush(ctx, batch, &stats); err != nil {
				return stats, err
			}
			batch, batchBytes = batch[:0], 0
		}
		batch = append(batch, pendingLine{line: stats.lines, data: data, key: key})
		batchBytes += size
	}
	if len(batch) > 0 {
		if err := p.flush(ctx, batch, &stats); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// readLine returns the next line of br without "\n" or "\r\n", in a new
// slice. A line longer than br's buffer is skipped and reported as tooLong.
// At the end of the input it returns io.EOF.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if errors.Is(err, io.EOF) {
			err = nil // the long line was the last; the next call says EOF
		}
		return nil, true, err
	}
	if err != nil && (!errors.Is(err, io.EOF) || len(b) == 0) {
		return nil, false, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return bytes.Clone(b), false, nil
}

// flush puts one batch, retrying the records (or the whole call) that fail
// for a passing reason, and reports the records that still fail.
func (p *linePutter) flush(ctx context.Context, batch []pendingLine, stats *putStats) error {
	todo := batch
	for attempt := 1; ; attempt++ {
		results, err := p.sink.send(ctx, todo)
		if err == nil || status.Code(err) != codes.Unavailable {
			p.reached = true
		}
		if err != nil {
			if !retryableCall(err) || attempt == p.attempts || !p.reached {
				return rpcError(fmt.Sprintf("put lines %d to %d", todo[0].line, todo[len(todo)-1].line), p.addr, err)
			}
		} else {
			if len(results) != len(todo) {
				return fmt.Errorf("put lines %d to %d: the server answered %d results for %d records",
					todo[0].line, todo[len(todo)-1].line, len(results), len(todo))
			}
			var retry []pendingLine
			for i, r := range results {
				switch {
				case r.code == "":
					stats.put++
					stats.bytes += int64(len(todo[i].data))
				case retryableEntry(r.code) && attempt < p.attempts:
					retry = append(retry, todo[i])
				default:
					stats.failed++
					fmt.Fprintf(p.stderr, "%s: line %d: %s: %s\n", p.command, todo[i].line, r.code, r.message)
				}
			}
			if len(retry) == 0 {
				p.reportProgress(stats)
				return nil
			}
			todo = retry
		}
		if err := p.sleep(ctx, p.backoff(attempt)); err != nil {
			return fmt.Errorf("put lines %d to %d: %w", todo[0].line, todo[len(todo)-1].line, err)
		}
	}
}

// retryableCall says whether a failed put call may succeed if sent again.
func retryableCall(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted:
		return true
	}
	return false
}

// retryableEntry says whether a record that a put call rejected may
// succeed if sent again.
func retryableEntry(code string) bool {
	switch apierr.Code(code) {
	case apierr.ProvisionedThroughputExceeded, apierr.InternalFailure, "ServiceUnavailableException":
		return true
	}
	return false
}

// streamSink puts records into a stream with PutRecords.
type streamSink struct {
	api             spatev1.StreamServiceClient
	stream          string
	partitionKey    string // "" means the line number
	explicitHashKey string
	// maxRecord is the stream's largest record (UpdateMaxRecordSize); 0
	// means shard.MaxRecordSize.
	maxRecord int
}

// streamMaxRecord asks for a stream's largest record size, and answers 0
// (the default) when the server cannot tell: a profile may put without the
// right to describe, and the server refuses a record too large anyway. It
// returns the error only when no server answered (codes.Unavailable).
func streamMaxRecord(ctx context.Context, api spatev1.StreamServiceClient, stream string) (int, error) {
	d, err := api.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: stream})
	if status.Code(err) == codes.Unavailable {
		return 0, err
	}
	if err != nil {
		return 0, nil
	}
	return int(d.GetStreamDescriptionSummary().GetMaxRecordSizeKib()) << 10, nil
}

func (s *streamSink) recordLimit() int {
	if s.maxRecord > 0 {
		return s.maxRecord
	}
	return shard.MaxRecordSize
}

func (s *streamSink) target() string { return s.stream }

func (s *streamSink) limits() putLimits {
	return putLimits{records: shard.MaxPutRecordsEntries, batch: shard.MaxPutRecordsSize, record: s.recordLimit()}
}

func (s *streamSink) key(n int64) string {
	if s.partitionKey != "" {
		return s.partitionKey
	}
	return strconv.FormatInt(n, 10)
}

func (s *streamSink) oversize() string {
	return fmt.Sprintf("data plus partition key exceed %d bytes (%d KiB, the stream's maximum record size)", s.recordLimit(), s.recordLimit()>>10)
}

func (s *streamSink) send(ctx context.Context, batch []pendingLine) ([]putResult, error) {
	req := &spatev1.PutRecordsRequest{StreamName: s.stream, Records: make([]*spatev1.PutRecordsRequestEntry, len(batch))}
	for i, l := range batch {
		req.Records[i] = &spatev1.PutRecordsRequestEntry{Data: l.data, PartitionKey: l.key, ExplicitHashKey: s.explicitHashKey}
	}
	resp, err := s.api.PutRecords(ctx, req)
	if err != nil {
		return nil, err
	}
	return putResults(resp.GetRecords()), nil
}

// putResults reads the per-record outcomes of a put call's reply.
func putResults[E interface {
	GetErrorCode() string
	GetErrorMessage() string
}](entries []E) []putResult {
	out := make([]putResult, len(entries))
	for i, e := range entries {
		out[i] = putResult{code: e.GetErrorCode(), message: e.GetErrorMessage()}
	}
	return out
}

// reportProgress prints a progress line when progressEvery has passed since
// the last one.
func (p *linePutter) reportProgress(stats *putStats) {
	now := p.now()
	if !p.progress || now.Sub(p.lastProgress) < p.progressEvery {
		return
	}
	p.lastProgress = now
	fmt.Fprintf(p.stderr, "%s: %d records (%s) put, %d failed, %s\n", p.command,
		stats.put, formatBytes(stats.bytes), stats.failed, formatRate(stats.put, now.Sub(stats.started)))
}

// printSummary prints what a run did; err is what run returned.
func (p *linePutter) printSummary(stats putStats, err error) {
	fmt.Fprintf(p.stderr, "%s: put %d of %d records (%s) into %s in %s, %s; %d failed", p.command,
		stats.put, stats.lines, formatBytes(stats.bytes), p.sink.target(),
		stats.ended.Sub(stats.started).Round(time.Millisecond), formatRate(stats.put, stats.ended.Sub(stats.started)), stats.failed)
	if notSent := stats.lines - stats.put - stats.failed; err != nil && notSent > 0 {
		fmt.Fprintf(p.stderr, ", %d not sent, and the rest of the input was not read", notSent)
	}
	fmt.Fprintln(p.stderr)
}

func formatRate(n int64, d time.Duration) string {
	if d <= 0 {
		return "- records/s"
	}
	return fmt.Sprintf("%.0f records/s", float64(n)/d.Seconds())
}

// formatBytes prints a byte count in B, KiB, MiB or GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
