package integration

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// cborState is what the rows of TestCBOREveryAction pass on to each other.
type cborState struct {
	stream   string
	start    time.Time // before the first record was written
	iterator string
	arn      string // the stream's ARN, from DescribeStreamSummary
	consumer string // the ARN of the consumer RegisterStreamConsumer registered
}

// cborCase is one row: the action, its request, and what its successful
// reply must hold (beyond the shape, which cborCall checks).
type cborCase struct {
	action  string
	request func(st *cborState) map[string]any
	check   func(t *testing.T, st *cborState, reply map[string]any)
	// stream, for an event-stream action (SubscribeToShard), checks its
	// first event instead: the reply is no CBOR map.
	stream func(t *testing.T, st *cborState, event map[string]any)
}

// TestCBOREveryAction drives every Kinesis action the server serves through
// AWS CBOR, in an order that builds on itself. An action the server serves
// but the table lacks fails the test: add its row.
func TestCBOREveryAction(t *testing.T) {
	srv := startServer(t)
	m := loadKinesisModel(t)
	ctx := testCtx(t)
	st := &cborState{stream: uniqueName(t), start: time.Now().Add(-time.Second)}
	named := func(more map[string]any) func(*cborState) map[string]any {
		return func(st *cborState) map[string]any {
			req := map[string]any{"StreamName": st.stream}
			for k, v := range more {
				req[k] = v
			}
			return req
		}
	}
	byARN := func(more map[string]any) func(*cborState) map[string]any {
		return func(st *cborState) map[string]any {
			req := map[string]any{"ResourceARN": st.arn}
			for k, v := range more {
				req[k] = v
			}
			return req
		}
	}
	data := []byte{0x00, 0xff, 'c', 'b', 'o', 'r'}
	b64 := "AP9jYm9y" // base64 of data, as the model's terms write a blob
	rows := []cborCase{
		{action: "CreateStream", request: named(map[string]any{"ShardCount": 1, "Tags": map[string]any{"team": "a"}})},
		{action: "DescribeStreamSummary", request: named(nil), check: func(t *testing.T, st *cborState, r map[string]any) {
			sum := r["StreamDescriptionSummary"].(map[string]any)
			st.arn = sum["StreamARN"].(string)
			ms := sum["StreamCreationTimestamp"].(cbor.Tag).Content.(uint64)
			if created := time.UnixMilli(int64(ms)); created.Before(st.start) || created.After(time.Now().Add(time.Minute)) {
				t.Errorf("StreamCreationTimestamp %v, want about now (milliseconds, not seconds)", created)
			}
		}},
		{action: "DescribeStream", request: named(nil)},
		{action: "ListStreams", request: func(*cborState) map[string]any { return map[string]any{} },
			check: func(t *testing.T, st *cborState, r map[string]any) {
				if !slices.Contains(r["StreamNames"].([]any), any(st.stream)) {
					t.Errorf("StreamNames %v lacks %s", r["StreamNames"], st.stream)
				}
			}},
		{action: "ListShards", request: named(nil), check: func(t *testing.T, _ *cborState, r map[string]any) {
			if n := len(r["Shards"].([]any)); n != 1 {
				t.Errorf("%d shards, want 1", n)
			}
		}},
		{action: "AddTagsToStream", request: named(map[string]any{"Tags": map[string]any{"env": "test"}})},
		{action: "ListTagsForStream", request: named(nil), check: func(t *testing.T, _ *cborState, r map[string]any) {
			if n := len(r["Tags"].([]any)); n != 2 {
				t.Errorf("tags %v, want 2", r["Tags"])
			}
		}},
		{action: "RemoveTagsFromStream", request: named(map[string]any{"TagKeys": []any{"env"}})},
		{action: "IncreaseStreamRetentionPeriod", request: named(map[string]any{"RetentionPeriodHours": 48})},
		{action: "DecreaseStreamRetentionPeriod", request: named(map[string]any{"RetentionPeriodHours": 24})},
		{action: "EnableEnhancedMonitoring", request: named(map[string]any{"ShardLevelMetrics": []any{"IncomingBytes"}})},
		{action: "DisableEnhancedMonitoring", request: named(map[string]any{"ShardLevelMetrics": []any{"IncomingBytes"}})},
		{action: "PutRecord", request: named(map[string]any{"PartitionKey": "k", "Data": b64})},
		{action: "PutRecords", request: named(map[string]any{"Records": []any{
			map[string]any{"PartitionKey": "k", "Data": b64},
			map[string]any{"PartitionKey": "k", "Data": ""},
		}}), check: func(t *testing.T, _ *cborState, r map[string]any) {
			if r["FailedRecordCount"] != uint64(0) || len(r["Records"].([]any)) != 2 {
				t.Errorf("PutRecords = %v", r)
			}
		}},
		{action: "GetShardIterator", request: func(st *cborState) map[string]any {
			return map[string]any{"StreamName": st.stream, "ShardId": shardID(0), "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": st.start}
		}, check: func(t *testing.T, st *cborState, r map[string]any) { st.iterator = r["ShardIterator"].(string) }},
		{action: "GetRecords", request: func(st *cborState) map[string]any {
			return map[string]any{"ShardIterator": st.iterator}
		}, check: func(t *testing.T, st *cborState, r map[string]any) {
			recs := r["Records"].([]any)
			if len(recs) != 3 {
				t.Fatalf("%d records, want 3: %v", len(recs), r)
			}
			first := recs[0].(map[string]any)
			if !bytes.Equal(first["Data"].([]byte), data) || len(recs[2].(map[string]any)["Data"].([]byte)) != 0 {
				t.Errorf("records %v, want the data written", recs)
			}
			arrived := time.UnixMilli(int64(first["ApproximateArrivalTimestamp"].(cbor.Tag).Content.(uint64)))
			if arrived.Before(st.start) || arrived.After(time.Now().Add(time.Minute)) {
				t.Errorf("ApproximateArrivalTimestamp %v, want about now (milliseconds, not seconds)", arrived)
			}
		}},
		// Resharding, while the stream is PROVISIONED: 1 -> 2 shards, a
		// split of shard 1 and a merge of its children.
		{action: "UpdateShardCount", request: named(map[string]any{"TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"}),
			check: func(t *testing.T, st *cborState, r map[string]any) {
				if r["CurrentShardCount"] != uint64(1) || r["TargetShardCount"] != uint64(2) || r["StreamARN"] != st.arn {
					t.Errorf("UpdateShardCount = %v", r)
				}
				waitActiveCBOR(ctx, t, m, srv, st.stream)
				// The closed parent reads to its end: no iterator, its children.
				it := cborCall(ctx, t, m, srv, "GetShardIterator", map[string]any{"StreamName": st.stream, "ShardId": shardID(0), "ShardIteratorType": "TRIM_HORIZON"})
				g := cborCall(ctx, t, m, srv, "GetRecords", map[string]any{"ShardIterator": it.Body["ShardIterator"]})
				if _, next := g.Body["NextShardIterator"]; next || len(g.Body["Records"].([]any)) != 3 || len(g.Body["ChildShards"].([]any)) != 2 {
					t.Errorf("GetRecords at the end of the parent = %v", g.Body)
				}
			}},
		{action: "SplitShard", request: named(map[string]any{"ShardToSplit": shardID(1), "NewStartingHashKey": "1000"}),
			check: func(t *testing.T, st *cborState, _ map[string]any) { waitActiveCBOR(ctx, t, m, srv, st.stream) }},
		{action: "MergeShards", request: named(map[string]any{"ShardToMerge": shardID(3), "AdjacentShardToMerge": shardID(4)}),
			check: func(t *testing.T, st *cborState, _ map[string]any) { waitActiveCBOR(ctx, t, m, srv, st.stream) }},
		{action: "DescribeLimits", request: func(*cborState) map[string]any { return map[string]any{} }},
		{action: "TagResource", request: byARN(map[string]any{"Tags": map[string]any{"owner": "cbor"}})},
		{action: "ListTagsForResource", request: byARN(nil), check: func(t *testing.T, _ *cborState, r map[string]any) {
			if !slices.ContainsFunc(r["Tags"].([]any), func(tag any) bool { return tag.(map[string]any)["Key"] == "owner" }) {
				t.Errorf("tags %v lack owner", r["Tags"])
			}
		}},
		{action: "UntagResource", request: byARN(map[string]any{"TagKeys": []any{"owner"}})},
		{action: "UpdateMaxRecordSize", request: func(st *cborState) map[string]any {
			return map[string]any{"StreamARN": st.arn, "MaxRecordSizeInKiB": 2048}
		}},
		{action: "UpdateAccountSettings", request: func(*cborState) map[string]any {
			return map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "ENABLED"}}
		}},
		{action: "DescribeAccountSettings", request: func(*cborState) map[string]any { return map[string]any{} },
			check: func(t *testing.T, st *cborState, r map[string]any) {
				c := r["MinimumThroughputBillingCommitment"].(map[string]any)
				started := time.UnixMilli(int64(c["StartedAt"].(cbor.Tag).Content.(uint64)))
				if c["Status"] != "ENABLED" || started.Before(st.start) || started.After(time.Now().Add(time.Minute)) {
					t.Errorf("commitment %v, want ENABLED since about now (milliseconds)", c)
				}
			}},
		{action: "UpdateStreamMode", request: func(st *cborState) map[string]any {
			return map[string]any{"StreamARN": st.arn, "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}}
		}, check: func(t *testing.T, st *cborState, _ map[string]any) { waitActiveCBOR(ctx, t, m, srv, st.stream) }},
		{action: "UpdateStreamWarmThroughput", request: named(map[string]any{"WarmThroughputMiBps": 10})},
		{action: "PutResourcePolicy", request: func(st *cborState) map[string]any {
			return map[string]any{"ResourceARN": st.arn, "Policy": `{"Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/nobody"},"Action":"kinesis:PutRecord","Resource":"` + st.arn + `"}}`}
		}},
		{action: "GetResourcePolicy", request: byARN(nil), check: func(t *testing.T, _ *cborState, r map[string]any) {
			if p, _ := r["Policy"].(string); !strings.Contains(p, "user/nobody") {
				t.Errorf("policy %q, want the one put", p)
			}
		}},
		{action: "DeleteResourcePolicy", request: byARN(nil)},
		{action: "RegisterStreamConsumer", request: func(st *cborState) map[string]any {
			return map[string]any{"StreamARN": st.arn, "ConsumerName": "cbor"}
		}, check: func(t *testing.T, st *cborState, r map[string]any) {
			c := r["Consumer"].(map[string]any)
			st.consumer, _ = c["ConsumerARN"].(string)
			created := time.UnixMilli(int64(c["ConsumerCreationTimestamp"].(cbor.Tag).Content.(uint64)))
			if !strings.HasPrefix(st.consumer, st.arn+"/consumer/cbor:") || created.Before(st.start.Add(-time.Second)) {
				t.Errorf("consumer %v, want one named cbor created about now (milliseconds)", c)
			}
		}},
		{action: "DescribeStreamConsumer", request: func(st *cborState) map[string]any {
			return map[string]any{"ConsumerARN": st.consumer}
		}, check: func(t *testing.T, st *cborState, r map[string]any) {
			if d := r["ConsumerDescription"].(map[string]any); d["StreamARN"] != st.arn || d["ConsumerName"] != "cbor" {
				t.Errorf("ConsumerDescription %v", d)
			}
		}},
		{action: "ListStreamConsumers", request: func(st *cborState) map[string]any {
			return map[string]any{"StreamARN": st.arn, "MaxResults": 10}
		}, check: func(t *testing.T, st *cborState, r map[string]any) {
			if list := r["Consumers"].([]any); len(list) != 1 || list[0].(map[string]any)["ConsumerARN"] != st.consumer {
				t.Errorf("Consumers %v, want the one registered", list)
			}
		}},
		{action: "SubscribeToShard", request: func(st *cborState) map[string]any {
			return map[string]any{"ConsumerARN": st.consumer, "ShardId": shardID(0), "StartingPosition": map[string]any{"Type": "TRIM_HORIZON"}}
		}, stream: func(t *testing.T, st *cborState, ev map[string]any) {
			recs := ev["Records"].([]any)
			if len(recs) != 3 || !bytes.Equal(recs[0].(map[string]any)["Data"].([]byte), data) {
				t.Errorf("first event's records %v, want the 3 written, data as byte strings", recs)
			}
		}},
		{action: "DeregisterStreamConsumer", request: func(st *cborState) map[string]any {
			return map[string]any{"StreamARN": st.arn, "ConsumerName": "cbor"}
		}},
		{action: "StartStreamEncryption", request: named(map[string]any{"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
			check: func(t *testing.T, st *cborState, _ map[string]any) { waitActiveCBOR(ctx, t, m, srv, st.stream) }},
		{action: "StopStreamEncryption", request: named(map[string]any{"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
			check: func(t *testing.T, st *cborState, _ map[string]any) { waitActiveCBOR(ctx, t, m, srv, st.stream) }},
		{action: "DeleteStream", request: named(nil)},
	}
	covered := make(map[string]bool)
	for _, row := range rows {
		covered[row.action] = true
		t.Run(row.action, func(t *testing.T) {
			if row.stream != nil {
				row.stream(t, st, cborSubscribe(ctx, t, m, srv, row.request(st)))
				return
			}
			r := cborCall(ctx, t, m, srv, row.action, row.request(st))
			if r.Status != 200 {
				t.Fatalf("%s: %d %v", row.action, r.Status, r.Body)
			}
			if row.check != nil {
				row.check(t, st, r.Body)
			}
			if row.action == "CreateStream" {
				waitActiveCBOR(ctx, t, m, srv, st.stream)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		r := cborCall(ctx, t, m, srv, "DescribeStream", map[string]any{"StreamName": "missing-" + st.stream})
		if r.Status != 400 || r.errType() != "ResourceNotFoundException" {
			t.Errorf("missing stream: %d %v", r.Status, r.Body)
		}
		r = cborCall(ctx, t, m, srv, "PutRecord", map[string]any{"StreamName": "a b", "PartitionKey": "k", "Data": ""})
		if r.Status != 400 || r.errType() != "ValidationException" {
			t.Errorf("bad name: %d %v", r.Status, r.Body)
		}
	})
	t.Run("every served action has a row", func(t *testing.T) {
		for action := range m.Operations {
			if covered[action] {
				continue
			}
			r := cborCall(ctx, t, m, srv, action, map[string]any{})
			msg, _ := r.Body["message"].(string)
			if r.errType() != "UnknownOperationException" || !strings.Contains(msg, "not supported by Spate yet") {
				t.Errorf("%s is served (it answered %d %v): add a row for it to TestCBOREveryAction", action, r.Status, r.Body)
			}
		}
	})
}

// waitActiveCBOR polls DescribeStreamSummary over CBOR until name is ACTIVE.
func waitActiveCBOR(ctx context.Context, t *testing.T, m *kinesisModel, srv *server, name string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		r := cborCall(ctx, t, m, srv, "DescribeStreamSummary", map[string]any{"StreamName": name})
		if r.Status == 200 && r.Body["StreamDescriptionSummary"].(map[string]any)["StreamStatus"] == "ACTIVE" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s not ACTIVE: %v", name, r.Body)
		case <-tick.C:
		}
	}
}
