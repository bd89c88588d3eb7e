package integration

// Compatibility tests of the stream control plane with aws-sdk-go-v2:
// CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary,
// ListStreams, ListShards, retention, tags, DescribeLimits and StreamARN.

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// arnPattern is the shape of a Kinesis stream ARN; the group is the name.
var arnPattern = regexp.MustCompile(`^arn:aws:kinesis:[a-z0-9-]+:\d{12}:stream/(.+)$`)

// TestSDKStreams runs the control-plane subtests against one server. The
// subtests run in order on purpose: DescribeLimits counts every open shard of
// the server.
func TestSDKStreams(t *testing.T) {
	t.Parallel()
	k := newKin(t)

	t.Run("CreateProvisioned", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		out, err := k.c.CreateStream(ctx, &kinesis.CreateStreamInput{
			StreamName: aws.String(name),
			ShardCount: aws.Int32(3),
		})
		if err != nil {
			t.Fatalf("CreateStream: %v", err)
		}
		if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); !ok || id == "" {
			t.Errorf("CreateStream reply has no request id (x-amzn-RequestId)")
		}
		sum := k.waitActive(ctx, t, name)
		if got := aws.ToString(sum.StreamName); got != name {
			t.Errorf("StreamName = %q, want %q", got, name)
		}
		m := arnPattern.FindStringSubmatch(aws.ToString(sum.StreamARN))
		if m == nil || m[1] != name {
			t.Errorf("StreamARN = %q, want arn:aws:kinesis:<region>:<12-digit account>:stream/%s", aws.ToString(sum.StreamARN), name)
		}
		if got := aws.ToInt32(sum.OpenShardCount); got != 3 {
			t.Errorf("OpenShardCount = %d, want 3", got)
		}
		if got := aws.ToInt32(sum.RetentionPeriodHours); got != 24 {
			t.Errorf("RetentionPeriodHours = %d, want the default 24", got)
		}
		if sum.StreamModeDetails == nil || sum.StreamModeDetails.StreamMode != types.StreamModeProvisioned {
			t.Errorf("StreamModeDetails = %+v, want PROVISIONED", sum.StreamModeDetails)
		}
		if sum.EncryptionType != types.EncryptionTypeNone {
			t.Errorf("EncryptionType = %q, want NONE", sum.EncryptionType)
		}
		if sum.StreamCreationTimestamp == nil || sum.StreamCreationTimestamp.IsZero() {
			t.Errorf("StreamCreationTimestamp missing")
		}
		if got := len(k.shards(ctx, t, name)); got != 3 {
			t.Errorf("ListShards has %d shards, want 3", got)
		}
	})

	t.Run("CreateOnDemand", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		sum := k.createOnDemand(ctx, t, name)
		if sum.StreamModeDetails == nil || sum.StreamModeDetails.StreamMode != types.StreamModeOnDemand {
			t.Errorf("StreamModeDetails = %+v, want ON_DEMAND", sum.StreamModeDetails)
		}
		if got := aws.ToInt32(sum.OpenShardCount); got != 4 {
			t.Errorf("OpenShardCount = %d, want 4", got)
		}
		checkShardLayout(t, k.shards(ctx, t, name), 4)
	})

	t.Run("CreateWithTags", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.createWith(ctx, t, &kinesis.CreateStreamInput{
			StreamName: aws.String(name),
			ShardCount: aws.Int32(1),
			Tags:       map[string]string{"team": "spate", "env": "test"},
		})
		out, err := k.c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("ListTagsForStream: %v", err)
		}
		want := map[string]string{"env": "test", "team": "spate"}
		if got := tagMap(out.Tags); !maps.Equal(got, want) {
			t.Errorf("tags = %v, want %v", got, want)
		}
		if aws.ToBool(out.HasMoreTags) {
			t.Errorf("HasMoreTags = true with 2 tags")
		}
	})

	t.Run("HashKeyRanges", func(t *testing.T) {
		for _, n := range []int{1, 3, 7} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				ctx := testCtx(t)
				name := uniqueName(t)
				k.create(ctx, t, name, int32(n))
				out, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
				if err != nil {
					t.Fatalf("DescribeStream: %v", err)
				}
				checkShardLayout(t, out.StreamDescription.Shards, n)
				checkShardLayout(t, k.shards(ctx, t, name), n)
			})
		}
	})

	t.Run("DescribeStream", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 7)

		// No Limit: every shard on one page.
		full, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		d := full.StreamDescription
		if aws.ToString(d.StreamName) != name || d.StreamStatus != types.StreamStatusActive ||
			aws.ToInt32(d.RetentionPeriodHours) != 24 || d.EncryptionType != types.EncryptionTypeNone ||
			d.StreamCreationTimestamp == nil || arnPattern.FindString(aws.ToString(d.StreamARN)) == "" ||
			d.StreamModeDetails == nil || d.StreamModeDetails.StreamMode != types.StreamModeProvisioned {
			t.Errorf("StreamDescription = %+v, want %s ACTIVE PROVISIONED, 24 h, NONE, with ARN and creation time", d, name)
		}
		if len(d.Shards) != 7 || aws.ToBool(d.HasMoreShards) {
			t.Fatalf("DescribeStream without Limit: %d shards, HasMoreShards %v; want 7, false", len(d.Shards), aws.ToBool(d.HasMoreShards))
		}
		checkShardLayout(t, d.Shards, 7)

		// Limit 3 pages through 0-2, 3-5, 6.
		pages := []struct {
			start string
			ids   []int
			more  bool
		}{
			{"", []int{0, 1, 2}, true},
			{shardID(2), []int{3, 4, 5}, true},
			{shardID(5), []int{6}, false},
			{shardID(6), nil, false},
		}
		for _, p := range pages {
			in := &kinesis.DescribeStreamInput{StreamName: aws.String(name), Limit: aws.Int32(3)}
			if p.start != "" {
				in.ExclusiveStartShardId = aws.String(p.start)
			}
			out, err := k.c.DescribeStream(ctx, in)
			if err != nil {
				t.Fatalf("DescribeStream(Limit 3, ExclusiveStartShardId %q): %v", p.start, err)
			}
			if got, want := shardIDs(out.StreamDescription.Shards), idsOf(p.ids); !slices.Equal(got, want) {
				t.Errorf("DescribeStream(Limit 3, ExclusiveStartShardId %q) shards = %v, want %v", p.start, got, want)
			}
			if got := aws.ToBool(out.StreamDescription.HasMoreShards); got != p.more {
				t.Errorf("DescribeStream(Limit 3, ExclusiveStartShardId %q) HasMoreShards = %v, want %v", p.start, got, p.more)
			}
		}

		// The summary agrees.
		sum := k.summary(ctx, t, name)
		if aws.ToInt32(sum.OpenShardCount) != 7 || aws.ToString(sum.StreamARN) != aws.ToString(d.StreamARN) {
			t.Errorf("DescribeStreamSummary = %+v, want 7 open shards and ARN %s", sum, aws.ToString(d.StreamARN))
		}
		if sum.ConsumerCount == nil || *sum.ConsumerCount != 0 {
			t.Errorf("ConsumerCount = %v, want 0", sum.ConsumerCount)
		}
	})

	t.Run("ListShards", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 7)
		all := idsOf([]int{0, 1, 2, 3, 4, 5, 6})

		t.Run("NextToken", func(t *testing.T) {
			var got []string
			in := &kinesis.ListShardsInput{StreamName: aws.String(name), MaxResults: aws.Int32(3)}
			for page := 0; ; page++ {
				if page > 10 {
					t.Fatalf("ListShards with MaxResults 3 never ended; got %v", got)
				}
				out, err := k.c.ListShards(ctx, in)
				if err != nil {
					t.Fatalf("ListShards page %d: %v", page, err)
				}
				if len(out.Shards) > 3 {
					t.Errorf("page %d has %d shards, MaxResults is 3", page, len(out.Shards))
				}
				if page == 0 && out.NextToken == nil {
					t.Fatalf("first page of 3 out of 7 has no NextToken")
				}
				got = append(got, shardIDs(out.Shards)...)
				if out.NextToken == nil {
					break
				}
				in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(3)}
			}
			if !slices.Equal(got, all) {
				t.Errorf("paged shards = %v, want %v", got, all)
			}
		})

		t.Run("MaxResultsCoversAll", func(t *testing.T) {
			out, err := k.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), MaxResults: aws.Int32(7)})
			if err != nil {
				t.Fatalf("ListShards: %v", err)
			}
			if got := shardIDs(out.Shards); !slices.Equal(got, all) {
				t.Errorf("shards = %v, want %v", got, all)
			}
		})

		t.Run("ExclusiveStartShardId", func(t *testing.T) {
			out, err := k.c.ListShards(ctx, &kinesis.ListShardsInput{
				StreamName:            aws.String(name),
				ExclusiveStartShardId: aws.String(shardID(3)),
			})
			if err != nil {
				t.Fatalf("ListShards: %v", err)
			}
			if got, want := shardIDs(out.Shards), idsOf([]int{4, 5, 6}); !slices.Equal(got, want) {
				t.Errorf("shards after %s = %v, want %v", shardID(3), got, want)
			}
		})

		now := time.Now()
		filters := []struct {
			name   string
			filter types.ShardFilter
			want   []string
		}{
			{"AFTER_SHARD_ID", types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String(shardID(1))}, idsOf([]int{2, 3, 4, 5, 6})},
			{"AT_TRIM_HORIZON", types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, all},
			{"FROM_TRIM_HORIZON", types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, all},
			{"AT_LATEST", types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, all},
			{"AT_TIMESTAMP", types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: &now}, all},
			{"FROM_TIMESTAMP", types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: &now}, all},
		}
		for _, f := range filters {
			t.Run("ShardFilter_"+f.name, func(t *testing.T) {
				out, err := k.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: &f.filter})
				if err != nil {
					t.Fatalf("ListShards(ShardFilter %s): %v", f.name, err)
				}
				if got := shardIDs(out.Shards); !slices.Equal(got, f.want) {
					t.Errorf("ListShards(ShardFilter %s) = %v, want %v", f.name, got, f.want)
				}
			})
		}
	})

	t.Run("ListStreams", func(t *testing.T) {
		ctx := testCtx(t)
		prefix := uniqueName(t)
		var mine []string
		for i := range 5 {
			name := fmt.Sprintf("%s-%d", prefix, i)
			k.create(ctx, t, name, 1)
			mine = append(mine, name)
		}

		t.Run("NextToken", func(t *testing.T) {
			var names []string
			in := &kinesis.ListStreamsInput{Limit: aws.Int32(2)}
			for page := 0; ; page++ {
				if page > 1000 {
					t.Fatalf("ListStreams never ended")
				}
				out, err := k.c.ListStreams(ctx, in)
				if err != nil {
					t.Fatalf("ListStreams page %d: %v", page, err)
				}
				if len(out.StreamNames) > 2 {
					t.Errorf("page %d has %d names, Limit is 2", page, len(out.StreamNames))
				}
				if got := summaryNames(out.StreamSummaries); !slices.Equal(got, out.StreamNames) {
					t.Errorf("page %d: StreamSummaries %v differ from StreamNames %v", page, got, out.StreamNames)
				}
				names = append(names, out.StreamNames...)
				if !aws.ToBool(out.HasMoreStreams) {
					break
				}
				if out.NextToken == nil {
					t.Fatalf("page %d: HasMoreStreams without NextToken", page)
				}
				in = &kinesis.ListStreamsInput{Limit: aws.Int32(2), NextToken: out.NextToken}
			}
			if !sort.StringsAreSorted(names) {
				t.Errorf("ListStreams order %v is not lexical", names)
			}
			if dups := duplicates(names); len(dups) > 0 {
				t.Errorf("ListStreams listed %v twice", dups)
			}
			for _, n := range mine {
				if !slices.Contains(names, n) {
					t.Errorf("ListStreams misses %s", n)
				}
			}
		})

		t.Run("ExclusiveStartStreamName", func(t *testing.T) {
			out, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(2), ExclusiveStartStreamName: aws.String(mine[1])})
			if err != nil {
				t.Fatalf("ListStreams: %v", err)
			}
			if want := mine[2:4]; !slices.Equal(out.StreamNames, want) {
				t.Errorf("ListStreams after %s = %v, want %v", mine[1], out.StreamNames, want)
			}
			if !aws.ToBool(out.HasMoreStreams) {
				t.Errorf("HasMoreStreams = false with %s still to come", mine[4])
			}
			// A start name that is no stream starts after its place.
			out, err = k.c.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(1), ExclusiveStartStreamName: aws.String(mine[1] + "x")})
			if err != nil {
				t.Fatalf("ListStreams: %v", err)
			}
			if want := mine[2:3]; !slices.Equal(out.StreamNames, want) {
				t.Errorf("ListStreams after %sx = %v, want %v", mine[1], out.StreamNames, want)
			}
		})

		t.Run("StreamSummaries", func(t *testing.T) {
			out, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(5), ExclusiveStartStreamName: aws.String(prefix)})
			if err != nil {
				t.Fatalf("ListStreams: %v", err)
			}
			if !slices.Equal(out.StreamNames, mine) {
				t.Fatalf("ListStreams from %s = %v, want %v", prefix, out.StreamNames, mine)
			}
			for _, s := range out.StreamSummaries {
				sum := k.summary(ctx, t, aws.ToString(s.StreamName))
				if aws.ToString(s.StreamARN) != aws.ToString(sum.StreamARN) || s.StreamStatus != types.StreamStatusActive ||
					s.StreamModeDetails == nil || s.StreamModeDetails.StreamMode != types.StreamModeProvisioned ||
					s.StreamCreationTimestamp == nil || !s.StreamCreationTimestamp.Equal(aws.ToTime(sum.StreamCreationTimestamp)) {
					t.Errorf("StreamSummary %+v disagrees with DescribeStreamSummary %+v", s, sum)
				}
			}
		})
	})

	t.Run("Retention", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		steps := []struct {
			increase bool
			hours    int32
		}{
			{true, 48},
			{true, 8760},
			{false, 100},
			{false, 24},
			{true, 25},
		}
		for _, s := range steps {
			var err error
			if s.increase {
				_, err = k.c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(s.hours)})
			} else {
				_, err = k.c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(s.hours)})
			}
			if err != nil {
				t.Fatalf("retention to %d (increase %v): %v", s.hours, s.increase, err)
			}
			if got := aws.ToInt32(k.summary(ctx, t, name).RetentionPeriodHours); got != s.hours {
				t.Errorf("RetentionPeriodHours = %d after setting %d", got, s.hours)
			}
			d, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatalf("DescribeStream: %v", err)
			}
			if got := aws.ToInt32(d.StreamDescription.RetentionPeriodHours); got != s.hours {
				t.Errorf("DescribeStream RetentionPeriodHours = %d after setting %d", got, s.hours)
			}
		}
	})

	t.Run("Tags", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		listTags := func(start string, limit int32) ([]types.Tag, bool) {
			t.Helper()
			in := &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)}
			if start != "" {
				in.ExclusiveStartTagKey = aws.String(start)
			}
			if limit > 0 {
				in.Limit = aws.Int32(limit)
			}
			out, err := k.c.ListTagsForStream(ctx, in)
			if err != nil {
				t.Fatalf("ListTagsForStream(%q, %d): %v", start, limit, err)
			}
			return out.Tags, aws.ToBool(out.HasMoreTags)
		}

		if tags, more := listTags("", 0); len(tags) != 0 || more {
			t.Errorf("new stream has tags %v (HasMoreTags %v)", tagMap(tags), more)
		}
		if _, err := k.c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{
			StreamName: aws.String(name),
			Tags:       map[string]string{"env": "test", "team": "spate"},
		}); err != nil {
			t.Fatalf("AddTagsToStream: %v", err)
		}
		if _, err := k.c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{
			StreamName: aws.String(name),
			Tags:       map[string]string{"a": "1", "b": "2", "c": "3", "env": "prod", "empty": ""},
		}); err != nil {
			t.Fatalf("AddTagsToStream (overwrite env): %v", err)
		}
		want := map[string]string{"a": "1", "b": "2", "c": "3", "empty": "", "env": "prod", "team": "spate"}
		tags, more := listTags("", 0)
		if got := tagMap(tags); !maps.Equal(got, want) || more {
			t.Errorf("tags = %v (HasMoreTags %v), want %v, false", got, more, want)
		}
		if got := tagKeys(tags); !sort.StringsAreSorted(got) {
			t.Errorf("tags not in key order: %v", got)
		}

		pages := []struct {
			start string
			keys  []string
			more  bool
		}{
			{"", []string{"a", "b"}, true},
			{"b", []string{"c", "empty"}, true},
			{"empty", []string{"env", "team"}, false},
			{"team", nil, false},
			{"d", []string{"empty", "env"}, true}, // a start key that is no tag
		}
		for _, p := range pages {
			tags, more := listTags(p.start, 2)
			if got := tagKeys(tags); !slices.Equal(got, p.keys) || more != p.more {
				t.Errorf("ListTagsForStream(ExclusiveStartTagKey %q, Limit 2) = %v, HasMoreTags %v; want %v, %v", p.start, got, more, p.keys, p.more)
			}
		}

		if _, err := k.c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{
			StreamName: aws.String(name),
			TagKeys:    []string{"a", "env", "no-such-tag"},
		}); err != nil {
			t.Fatalf("RemoveTagsFromStream: %v", err)
		}
		want = map[string]string{"b": "2", "c": "3", "empty": "", "team": "spate"}
		if tags, _ := listTags("", 0); !maps.Equal(tagMap(tags), want) {
			t.Errorf("tags after removal = %v, want %v", tagMap(tags), want)
		}
	})

	t.Run("DescribeLimits", func(t *testing.T) {
		ctx := testCtx(t)
		before, err := k.c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
		if err != nil {
			t.Fatalf("DescribeLimits: %v", err)
		}
		if got := aws.ToInt32(before.ShardLimit); got != 500 {
			t.Errorf("ShardLimit = %d, want the default 500", got)
		}
		if aws.ToInt32(before.OnDemandStreamCountLimit) <= 0 {
			t.Errorf("OnDemandStreamCountLimit = %d, want > 0", aws.ToInt32(before.OnDemandStreamCountLimit))
		}
		k.create(ctx, t, uniqueName(t), 3)
		k.createOnDemand(ctx, t, uniqueName(t))
		after, err := k.c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
		if err != nil {
			t.Fatalf("DescribeLimits: %v", err)
		}
		if got, want := aws.ToInt32(after.OpenShardCount), aws.ToInt32(before.OpenShardCount)+3+4; got != want {
			t.Errorf("OpenShardCount = %d after adding 3+4 shards to %d, want %d", got, aws.ToInt32(before.OpenShardCount), want)
		}
		if got, want := aws.ToInt32(after.OnDemandStreamCount), aws.ToInt32(before.OnDemandStreamCount)+1; got != want {
			t.Errorf("OnDemandStreamCount = %d, want %d", got, want)
		}
		if aws.ToInt32(after.ShardLimit) != aws.ToInt32(before.ShardLimit) {
			t.Errorf("ShardLimit changed from %d to %d", aws.ToInt32(before.ShardLimit), aws.ToInt32(after.ShardLimit))
		}
	})

	t.Run("DeleteStream", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.createWith(ctx, t, &kinesis.CreateStreamInput{
			StreamName: aws.String(name),
			ShardCount: aws.Int32(2),
			Tags:       map[string]string{"old": "yes"},
		})
		for i := range 3 {
			k.put(ctx, t, name, fmt.Sprint(i), []byte("old"))
		}
		limits, err := k.c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
		if err != nil {
			t.Fatalf("DescribeLimits: %v", err)
		}
		if _, err := k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
			t.Fatalf("DeleteStream: %v", err)
		}
		k.waitGone(ctx, t, name)
		ls, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String(name[:len(name)-1]), Limit: aws.Int32(10)})
		if err != nil {
			t.Fatalf("ListStreams: %v", err)
		}
		if slices.Contains(ls.StreamNames, name) {
			t.Errorf("ListStreams still lists deleted %s", name)
		}
		after, err := k.c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
		if err != nil {
			t.Fatalf("DescribeLimits: %v", err)
		}
		if got, want := aws.ToInt32(after.OpenShardCount), aws.ToInt32(limits.OpenShardCount)-2; got != want {
			t.Errorf("OpenShardCount = %d after deleting 2 of %d shards, want %d", got, aws.ToInt32(limits.OpenShardCount), want)
		}
		_, err = k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
		wantAPIError(t, err, "ResourceNotFoundException", name)

		// The name can be used again, and the new stream starts empty.
		k.create(ctx, t, name, 1)
		if got := k.readAll(ctx, t, name); len(got) != 1 || len(got[shardID(0)]) != 0 {
			t.Errorf("recreated stream has records or shards left over: %v", got)
		}
		tags, err := k.c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("ListTagsForStream: %v", err)
		}
		if len(tags.Tags) != 0 {
			t.Errorf("recreated stream has the old stream's tags %v", tagMap(tags.Tags))
		}
	})

	t.Run("StreamARN", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 2)
		arn := aws.String(aws.ToString(k.summary(ctx, t, name).StreamARN))

		d, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamARN: arn})
		if err != nil || aws.ToString(d.StreamDescription.StreamName) != name {
			t.Fatalf("DescribeStream(ARN) = %v, %v; want %s", d, err, name)
		}
		s, err := k.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn})
		if err != nil || aws.ToString(s.StreamDescriptionSummary.StreamName) != name {
			t.Fatalf("DescribeStreamSummary(ARN) = %v, %v; want %s", s, err, name)
		}
		// Name and ARN together, when they agree.
		if _, err := k.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn, StreamName: aws.String(name)}); err != nil {
			t.Fatalf("DescribeStreamSummary(name and ARN): %v", err)
		}
		ls, err := k.c.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: arn})
		if err != nil || len(ls.Shards) != 2 {
			t.Fatalf("ListShards(ARN) = %v, %v; want 2 shards", ls, err)
		}
		pr, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("k"), Data: []byte("one"), ExplicitHashKey: aws.String("0")})
		if err != nil {
			t.Fatalf("PutRecord(ARN): %v", err)
		}
		prs, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: arn, Records: []types.PutRecordsRequestEntry{
			{PartitionKey: aws.String("k"), Data: []byte("two"), ExplicitHashKey: aws.String("0")},
		}})
		if err != nil || aws.ToInt32(prs.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords(ARN) = %v, %v", prs, err)
		}
		it, err := k.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: arn, ShardId: pr.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("GetShardIterator(ARN): %v", err)
		}
		gr, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: arn, ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatalf("GetRecords(ARN): %v", err)
		}
		if got := recordData(gr.Records); !slices.Equal(got, []string{"one", "two"}) {
			t.Errorf("GetRecords(ARN) = %v, want [one two]", got)
		}
		if _, err := k.c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamARN: arn, RetentionPeriodHours: aws.Int32(72)}); err != nil {
			t.Fatalf("IncreaseStreamRetentionPeriod(ARN): %v", err)
		}
		if _, err := k.c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: arn, RetentionPeriodHours: aws.Int32(48)}); err != nil {
			t.Fatalf("DecreaseStreamRetentionPeriod(ARN): %v", err)
		}
		if got := aws.ToInt32(k.summary(ctx, t, name).RetentionPeriodHours); got != 48 {
			t.Errorf("retention = %d after 72 then 48 by ARN", got)
		}
		if _, err := k.c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamARN: arn, Tags: map[string]string{"x": "1", "y": "2"}}); err != nil {
			t.Fatalf("AddTagsToStream(ARN): %v", err)
		}
		if _, err := k.c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamARN: arn, TagKeys: []string{"x"}}); err != nil {
			t.Fatalf("RemoveTagsFromStream(ARN): %v", err)
		}
		tags, err := k.c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamARN: arn})
		if err != nil {
			t.Fatalf("ListTagsForStream(ARN): %v", err)
		}
		if got := tagMap(tags.Tags); !maps.Equal(got, map[string]string{"y": "2"}) {
			t.Errorf("tags by ARN = %v, want y=2", got)
		}

		// An ARN that names no stream, and a name that disagrees with the ARN.
		unknown := aws.String(strings.TrimSuffix(*arn, name) + name + "-nope")
		_, err = k.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: unknown})
		wantAPIError(t, err, "ResourceNotFoundException", name+"-nope")
		other := uniqueName(t)
		k.create(ctx, t, other, 1)
		_, err = k.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn, StreamName: aws.String(other)})
		wantAnyAPIError(t, err, []string{"InvalidArgumentException", "ValidationException"})

		if _, err := k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: arn}); err != nil {
			t.Fatalf("DeleteStream(ARN): %v", err)
		}
		k.waitGone(ctx, t, name)
	})
}

// checkShardLayout asserts that shards are the n shards of a new stream:
// ids shardId-%012d in order, AWS's hash-key split, an open sequence-number
// range and no parents.
func checkShardLayout(t *testing.T, shards []types.Shard, n int) {
	t.Helper()
	if len(shards) != n {
		t.Fatalf("%d shards, want %d", len(shards), n)
	}
	for i, sh := range shards {
		if got := aws.ToString(sh.ShardId); got != shardID(i) {
			t.Errorf("shard %d id = %q, want %q", i, got, shardID(i))
		}
		start, end := hashRange(i, n)
		if sh.HashKeyRange == nil {
			t.Errorf("shard %d has no HashKeyRange", i)
			continue
		}
		if got := aws.ToString(sh.HashKeyRange.StartingHashKey); got != start.String() {
			t.Errorf("shard %d of %d StartingHashKey = %s, want %s", i, n, got, start)
		}
		if got := aws.ToString(sh.HashKeyRange.EndingHashKey); got != end.String() {
			t.Errorf("shard %d of %d EndingHashKey = %s, want %s", i, n, got, end)
		}
		if sh.SequenceNumberRange == nil || !decimal.MatchString(aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber)) {
			t.Errorf("shard %d SequenceNumberRange = %+v, want a decimal StartingSequenceNumber", i, sh.SequenceNumberRange)
		} else if sh.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Errorf("open shard %d has EndingSequenceNumber %s", i, *sh.SequenceNumberRange.EndingSequenceNumber)
		}
		if sh.ParentShardId != nil || sh.AdjacentParentShardId != nil {
			t.Errorf("shard %d of a new stream has parents %v %v", i, sh.ParentShardId, sh.AdjacentParentShardId)
		}
	}
}

func shardIDs(shards []types.Shard) []string {
	ids := make([]string, len(shards))
	for i, s := range shards {
		ids[i] = aws.ToString(s.ShardId)
	}
	return ids
}

func idsOf(idx []int) []string {
	ids := make([]string, len(idx))
	for i, n := range idx {
		ids[i] = shardID(n)
	}
	return ids
}

func summaryNames(s []types.StreamSummary) []string {
	names := make([]string, len(s))
	for i, v := range s {
		names[i] = aws.ToString(v.StreamName)
	}
	return names
}

func tagKeys(tags []types.Tag) []string {
	keys := make([]string, len(tags))
	for i, tg := range tags {
		keys[i] = aws.ToString(tg.Key)
	}
	return keys
}
