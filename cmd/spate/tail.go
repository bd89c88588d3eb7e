package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard/lineage"
)

func newTailCmd() *cobra.Command {
	var shardID, from, format, consumer string
	var raw bool
	cmd := &cobra.Command{
		Use:   "tail STREAM",
		Short: "Print a stream's records as they arrive",
		Long: `Print the records of STREAM as they are appended, until interrupted (Ctrl-C).

Every shard is followed at once (or only --shard), through the gRPC Subscribe
call: the server pushes records as they are appended. When a followed shard is
closed and fully read, its child shards are followed next, each once all its
parents have ended, so the records of a partition key print in the order
they were written across a split or a merge (not with --shard). Shards
created while tail runs are followed the same way, from their start.

--from says where to start in each shard: latest (only new records, the
default), trim-horizon (the oldest retained record), or an RFC 3339 time such
as 2026-01-02T15:04:05Z (the first record that arrived at or after it).

--format text prints each record's data as one line (a newline is added
unless the data ends with one); records of different shards interleave.
--format json prints one JSON object per line with the shard, sequence
number, partition key, arrival time and data (base64), for binary data and
for scripts.

A record the Kinesis Producer Library aggregated (KPL format: magic F3 89 9A
C2, protobuf, MD5) is printed as its user records, one line each; in the json
format each carries its own partition key, the aggregate's sequence number and
its subSequence number (its index in the aggregate, as the KCL numbers user
records). --raw prints aggregates as stored instead. An aggregate that does
not decode is printed as stored.

--consumer names this reader in the server's metrics: how far behind it is
(MillisBehindLatest) is reported per shard as
spate_shard_iterator_age_milliseconds{consumer="NAME"} while tail runs,
instead of under the anonymous consumer "". NAME is 1 to 128 characters of
a-z, A-Z, 0-9, '_', '.' and '-'.`,
		Example: `  spate tail orders
  spate tail orders --from trim-horizon --format json
  spate tail orders --from trim-horizon --format json --raw
  spate tail orders --shard shardId-000000000001 --from 2026-01-02T15:04:05Z
  spate tail orders --consumer audit`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pos, err := parseFrom(from)
			if err != nil {
				return err
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			t := &tailer{api: c.api, addr: c.addr, stream: args[0], from: pos, format: format, consumer: consumer, raw: raw, out: cmd.OutOrStdout()}
			return t.run(cmd.Context(), shardID)
		},
	}
	cmd.Flags().StringVar(&shardID, "shard", "", "follow only this shard (e.g. shardId-000000000000)")
	cmd.Flags().StringVar(&from, "from", "latest", "where to start: latest, trim-horizon or an RFC 3339 time")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&raw, "raw", false, "print KPL aggregates as stored, not as their user records")
	cmd.Flags().StringVar(&consumer, "consumer", "", "report this reader's iterator age under this consumer `NAME` (see above)")
	return cmd
}

// parseFrom parses --from into a starting position.
func parseFrom(from string) (*spatev1.StartingPosition, error) {
	switch strings.ToLower(strings.ReplaceAll(from, "_", "-")) {
	case "latest":
		return &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST}, nil
	case "trim-horizon":
		return &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, from)
	if err != nil {
		return nil, fmt.Errorf("--from %q: want latest, trim-horizon or an RFC 3339 time such as 2026-01-02T15:04:05Z", from)
	}
	return &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP, Timestamp: timestamppb.New(t)}, nil
}

// tailer follows shards of a stream and prints their records.
type tailer struct {
	api    spatev1.StreamServiceClient
	addr   string
	stream string
	from   *spatev1.StartingPosition
	format string
	// consumer is every subscription's consumer_name; "" for anonymous.
	consumer string
	raw      bool // print KPL aggregates as stored

	mu  sync.Mutex // guards out, lin and initial
	out io.Writer
	// lin says which shards may be followed now: a child once each of its
	// parents has ended, so records of a key print in order across a
	// reshard. nil with --shard, which follows one shard only.
	lin *lineage.Lineage
	// initial holds the shards of the first listing, which start at
	// --from; shards found later are children, read from their start.
	initial map[string]bool
}

// run follows one shard, or every shard of the stream when shardID is empty,
// until ctx is done (then it returns nil) or every followed shard has ended.
func (t *tailer) run(ctx context.Context, shardID string) error {
	g, gctx := errgroup.WithContext(ctx)
	if shardID != "" {
		t.follow(gctx, g, shardID, t.from)
	} else {
		shards, err := t.listShards(ctx)
		if err != nil {
			return rpcError("list shards of "+t.stream, t.addr, err)
		}
		t.lin, t.initial = lineage.New(), map[string]bool{}
		for _, s := range shards {
			t.initial[s.ID] = true
		}
		t.mu.Lock()
		t.lin.Listed(shards)
		t.startReady(gctx, g)
		t.mu.Unlock()
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return nil // interrupted: the normal way to stop
	}
	return err
}

// startReady follows the shards the lineage hands out. The caller holds
// t.mu.
func (t *tailer) startReady(ctx context.Context, g *errgroup.Group) {
	for _, id := range t.lin.Take() {
		pos := t.from
		if !t.initial[id] {
			pos = &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}
		}
		t.follow(ctx, g, id, pos)
	}
}

// ended records that a followed shard has ended with children and follows
// those that may be followed now.
func (t *tailer) ended(ctx context.Context, g *errgroup.Group, shardID string, children []lineage.Shard) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lin.Finish(shardID, children)
	// A merge's other parent may be a child this tail has not met: the
	// listing says whether it is still to be read. Listed under t.mu, so
	// no shard learned meanwhile is taken for gone.
	if err := t.lin.Refresh(func() ([]lineage.Shard, error) { return t.listShards(ctx) }); err != nil {
		return rpcError("list shards of "+t.stream, t.addr, err)
	}
	t.startReady(ctx, g)
	return nil
}

// follow starts a goroutine that subscribes to one shard. When the shard
// ends (not with --shard), the lineage learns its children.
func (t *tailer) follow(ctx context.Context, g *errgroup.Group, shardID string, pos *spatev1.StartingPosition) {
	g.Go(func() error {
		sub, err := t.api.Subscribe(ctx, &spatev1.SubscribeRequest{
			StreamName: t.stream, ShardId: shardID, StartingPosition: pos, ConsumerName: t.consumer,
		})
		if err != nil {
			return rpcError("subscribe to "+shardID, t.addr, err)
		}
		var buf bytes.Buffer
		var children []lineage.Shard
		for {
			ev, err := sub.Recv()
			if err == io.EOF {
				// The shard ended; its last event named the children.
				if t.lin == nil {
					return nil
				}
				return t.ended(ctx, g, shardID, children)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return rpcError("subscribe to "+shardID, t.addr, err)
			}
			buf.Reset()
			for _, r := range ev.GetRecords() {
				if err := formatRecords(&buf, t.format, shardID, r, t.raw); err != nil {
					return err
				}
			}
			if err := t.write(buf.Bytes()); err != nil {
				return err
			}
			for _, c := range ev.GetChildShards() {
				children = append(children, lineage.Shard{ID: c.GetShardId(), Parents: c.GetParentShards()})
			}
		}
	})
}

// write writes the records of one event at once, so lines of different
// shards never mix.
func (t *tailer) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := t.out.Write(b)
	return err
}

// listShards returns all the stream's shards with their parents.
func (t *tailer) listShards(ctx context.Context) ([]lineage.Shard, error) {
	var out []lineage.Shard
	req := &spatev1.ListShardsRequest{StreamName: t.stream}
	for {
		resp, err := t.api.ListShards(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, s := range resp.GetShards() {
			sh := lineage.Shard{ID: s.GetShardId()}
			for _, p := range []string{s.GetParentShardId(), s.GetAdjacentParentShardId()} {
				if p != "" {
					sh.Parents = append(sh.Parents, p)
				}
			}
			out = append(out, sh)
		}
		if resp.GetNextToken() == "" {
			return out, nil
		}
		req = &spatev1.ListShardsRequest{NextToken: resp.GetNextToken()}
	}
}

// jsonRecord is a record as --format json prints it.
type jsonRecord struct {
	Shard        string `json:"shard"`
	Sequence     string `json:"sequence"`
	PartitionKey string `json:"partitionKey"`
	Arrival      string `json:"arrival"` // RFC 3339, milliseconds, UTC
	Data         []byte `json:"data"`    // base64
	// SubSequence is set for a user record of a KPL aggregate: its index
	// in the aggregate whose sequence number is Sequence.
	SubSequence     *int   `json:"subSequence,omitempty"`
	ExplicitHashKey string `json:"explicitHashKey,omitempty"`
}

// formatRecord appends one record to buf as one line: its data in the text
// format, a jsonRecord in the json format.
func formatRecord(buf *bytes.Buffer, format, shardID string, r *spatev1.Record) error {
	return formatLine(buf, format, shardID, r, jsonRecord{})
}

// formatLine is formatRecord with the user-record members of the json
// format taken from user.
func formatLine(buf *bytes.Buffer, format, shardID string, r *spatev1.Record, user jsonRecord) error {
	if format == "json" {
		arrival := ""
		if ts := r.GetApproximateArrivalTimestamp(); ts != nil {
			arrival = ts.AsTime().UTC().Format("2006-01-02T15:04:05.000Z07:00")
		}
		b, err := json.Marshal(jsonRecord{
			Shard: shardID, Sequence: r.GetSequenceNumber(), PartitionKey: r.GetPartitionKey(),
			Arrival: arrival, Data: r.GetData(), SubSequence: user.SubSequence, ExplicitHashKey: user.ExplicitHashKey,
		})
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
		return nil
	}
	buf.Write(r.GetData())
	if !bytes.HasSuffix(r.GetData(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	return nil
}
