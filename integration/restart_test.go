package integration

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestRestart checks that streams, shards and their hash ranges, tags,
// retention, stream mode and records survive a clean SIGTERM restart, that a
// deleted stream stays deleted, and that sequence numbers go on increasing
// after the restart. With relaxed durability too: a clean shutdown loses
// nothing (docs/durability.md).
func TestRestart(t *testing.T) {
	eachDurability(t, testRestart)
}

func testRestart(t *testing.T, durability string) {
	k := newKin(t, withArgs("--durability", durability))
	ctx := testCtx(t)

	provisioned, onDemand, deleted := uniqueName(t), uniqueName(t), uniqueName(t)
	k.createWith(ctx, t, &kinesis.CreateStreamInput{
		StreamName: aws.String(provisioned),
		ShardCount: aws.Int32(3),
		Tags:       map[string]string{"team": "data", "env": "test"},
	})
	k.createOnDemand(ctx, t, onDemand)
	k.create(ctx, t, deleted, 1)

	if _, err := k.c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{
		StreamName: aws.String(provisioned), Tags: map[string]string{"owner": "spate", "env": "prod"},
	}); err != nil {
		t.Fatalf("AddTagsToStream: %v", err)
	}
	if _, err := k.c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{
		StreamName: aws.String(provisioned), TagKeys: []string{"team"},
	}); err != nil {
		t.Fatalf("RemoveTagsFromStream: %v", err)
	}
	if _, err := k.c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{
		StreamName: aws.String(provisioned), RetentionPeriodHours: aws.Int32(168),
	}); err != nil {
		t.Fatalf("IncreaseStreamRetentionPeriod: %v", err)
	}
	if _, err := k.c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{
		StreamName: aws.String(provisioned), RetentionPeriodHours: aws.Int32(72),
	}); err != nil {
		t.Fatalf("DecreaseStreamRetentionPeriod: %v", err)
	}

	for i := range 200 {
		stream := provisioned
		if i%4 == 0 {
			stream = onDemand
		}
		k.put(ctx, t, stream, fmt.Sprintf("key-%d", i), fmt.Appendf(nil, "record %d \x00\xff", i))
	}
	if _, err := k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(deleted)}); err != nil {
		t.Fatalf("DeleteStream %s: %v", deleted, err)
	}
	k.waitGone(ctx, t, deleted)

	// With relaxed durability a put is answered before its fsync and read
	// after it: wait until every acknowledged record is readable.
	k.waitRecords(ctx, t, provisioned, 150)
	k.waitRecords(ctx, t, onDemand, 50)
	before := snapshotStreams(ctx, t, k, provisioned, onDemand)
	if got := before.streams[provisioned].summary.retentionHours; got != 72 {
		t.Fatalf("retention before restart = %d hours, want 72", got)
	}
	for name, want := range map[string]int{provisioned: 150, onDemand: 50} {
		n := 0
		for _, recs := range before.streams[name].records {
			n += len(recs)
		}
		if n != want {
			t.Fatalf("%s: %d records before restart, want %d", name, n, want)
		}
	}
	if got := before.streams[provisioned].tags; !maps.Equal(got, map[string]string{"env": "prod", "owner": "spate"}) {
		t.Fatalf("tags before restart = %v", got)
	}

	k.srv.Stop(t) // SIGTERM; asserts exit status 0
	k.restart(t)

	after := snapshotStreams(ctx, t, k, provisioned, onDemand)
	if !reflect.DeepEqual(after.names, before.names) {
		t.Errorf("ListStreams after restart = %v, before %v", after.names, before.names)
	}
	if slices.Contains(after.names, deleted) {
		t.Errorf("deleted stream %s is listed after restart", deleted)
	}
	for _, name := range []string{provisioned, onDemand} {
		b, a := before.streams[name], after.streams[name]
		if !reflect.DeepEqual(a.summary, b.summary) {
			t.Errorf("%s: summary after restart\n%+v\nbefore\n%+v", name, a.summary, b.summary)
		}
		if !reflect.DeepEqual(a.shards, b.shards) {
			t.Errorf("%s: shards after restart\n%+v\nbefore\n%+v", name, a.shards, b.shards)
		}
		if !maps.Equal(a.tags, b.tags) {
			t.Errorf("%s: tags after restart %v, before %v", name, a.tags, b.tags)
		}
		if !reflect.DeepEqual(a.records, b.records) {
			t.Errorf("%s: records differ after restart (%d shards, before %d)", name, len(a.records), len(b.records))
		}
	}

	// New records go after the old ones in every shard, and reading on from
	// the last sequence number seen before the restart finds exactly them.
	for i := range 60 {
		k.put(ctx, t, provisioned, fmt.Sprintf("after-%d", i), fmt.Appendf(nil, "after restart %d", i))
	}
	k.waitRecords(ctx, t, provisioned, 210)
	for shardID, old := range before.streams[provisioned].records {
		if len(old) == 0 {
			continue
		}
		last := old[len(old)-1].seq
		it := k.iterator(ctx, t, provisioned, shardID, types.ShardIteratorTypeAfterSequenceNumber, last, nil)
		for _, r := range k.drain(ctx, t, it) {
			if seq := aws.ToString(r.SequenceNumber); seq <= last || len(seq) != len(last) {
				t.Errorf("%s: record %s after restart does not follow %s", shardID, seq, last)
			}
			if data := string(r.Data); !strings.HasPrefix(data, "after ") {
				t.Errorf("%s: unexpected record after %s: %q", shardID, last, data)
			}
		}
	}
	total, afterRestart := 0, 0
	for shardID, recs := range k.readAll(ctx, t, provisioned) {
		checkIncreasing(t, shardID, recordSeqs(recs))
		total += len(recs)
		for _, r := range recs {
			if strings.HasPrefix(string(r.Data), "after ") {
				afterRestart++
			}
		}
	}
	if total != 210 || afterRestart != 60 {
		t.Errorf("%s holds %d records, %d put after the restart; want 210 and 60", provisioned, total, afterRestart)
	}
}

// The state of a server as its API shows it, in comparable types.
type (
	serverState struct {
		names   []string
		streams map[string]streamState
	}
	streamState struct {
		summary summaryState
		shards  []shardState
		tags    map[string]string
		records map[string][]recordState // by shard ID
	}
	summaryState struct {
		arn, status, mode string
		created           int64 // ms
		retentionHours    int32
		openShards        int32
	}
	shardState struct {
		id, parent, adjacentParent string
		hashStart, hashEnd         string
		seqStart, seqEnd           string
	}
	recordState struct {
		seq, key, data string
		arrival        int64 // ms
	}
)

// snapshotStreams records the stream list and the given streams' state.
func snapshotStreams(ctx context.Context, t *testing.T, k *kin, streams ...string) serverState {
	t.Helper()
	s := serverState{names: k.streamNames(ctx, t), streams: make(map[string]streamState)}
	for _, name := range streams {
		d := k.summary(ctx, t, name)
		st := streamState{
			summary: summaryState{
				arn:            aws.ToString(d.StreamARN),
				status:         string(d.StreamStatus),
				created:        aws.ToTime(d.StreamCreationTimestamp).UnixMilli(),
				retentionHours: aws.ToInt32(d.RetentionPeriodHours),
				openShards:     aws.ToInt32(d.OpenShardCount),
			},
			records: make(map[string][]recordState),
		}
		if d.StreamModeDetails != nil {
			st.summary.mode = string(d.StreamModeDetails.StreamMode)
		}
		desc, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStream %s: %v", name, err)
		}
		if aws.ToBool(desc.StreamDescription.HasMoreShards) {
			t.Fatalf("DescribeStream %s: more than one page of shards", name)
		}
		for _, sh := range desc.StreamDescription.Shards {
			ss := shardState{
				id:             aws.ToString(sh.ShardId),
				parent:         aws.ToString(sh.ParentShardId),
				adjacentParent: aws.ToString(sh.AdjacentParentShardId),
			}
			if r := sh.HashKeyRange; r != nil {
				ss.hashStart, ss.hashEnd = aws.ToString(r.StartingHashKey), aws.ToString(r.EndingHashKey)
			}
			if r := sh.SequenceNumberRange; r != nil {
				ss.seqStart, ss.seqEnd = aws.ToString(r.StartingSequenceNumber), aws.ToString(r.EndingSequenceNumber)
			}
			st.shards = append(st.shards, ss)
		}
		tags, err := k.c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("ListTagsForStream %s: %v", name, err)
		}
		if aws.ToBool(tags.HasMoreTags) {
			t.Fatalf("ListTagsForStream %s: more than one page", name)
		}
		st.tags = tagMap(tags.Tags)
		for shardID, recs := range k.readAll(ctx, t, name) {
			for _, r := range recs {
				st.records[shardID] = append(st.records[shardID], recordState{
					seq:     aws.ToString(r.SequenceNumber),
					key:     aws.ToString(r.PartitionKey),
					data:    string(r.Data),
					arrival: aws.ToTime(r.ApproximateArrivalTimestamp).UnixMilli(),
				})
			}
		}
		s.streams[name] = st
	}
	return s
}

// waitRecords waits until stream holds n readable records (at once with
// sync durability; up to one fsync later with relaxed) and fails if it ever
// holds more.
func (k *kin) waitRecords(ctx context.Context, t *testing.T, stream string, n int) {
	t.Helper()
	for {
		got := 0
		for _, recs := range k.readAll(ctx, t, stream) {
			got += len(recs)
		}
		if got == n {
			return
		}
		if got > n {
			t.Fatalf("%s holds %d records, want %d", stream, got, n)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s holds %d readable records, want %d: %v", stream, got, n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
