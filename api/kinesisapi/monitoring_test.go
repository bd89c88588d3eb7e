package kinesisapi

import (
	"reflect"
	"testing"
	"time"

	"github.com/spatehq/spate/shard"
)

func TestEnhancedMonitoring(t *testing.T) {
	c := newStoreServer(t, nil)
	c.OK("CreateStream", map[string]any{"StreamName": "orders", "ShardCount": 2})
	all := []any{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
		"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}

	steps := []struct {
		action           string
		metrics          []string
		current, desired []any
	}{
		{"EnableEnhancedMonitoring", []string{"IncomingRecords", "OutgoingBytes"}, []any{}, []any{"IncomingRecords", "OutgoingBytes"}},
		{"EnableEnhancedMonitoring", []string{"ALL"}, []any{"IncomingRecords", "OutgoingBytes"}, all},
		{"DisableEnhancedMonitoring", []string{"IncomingBytes", "IteratorAgeMilliseconds"}, all,
			[]any{"IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded"}},
		{"DisableEnhancedMonitoring", []string{"ALL"},
			[]any{"IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded"}, []any{}},
	}
	for _, step := range steps {
		t.Run(step.action, func(t *testing.T) {
			got := c.OK(step.action, map[string]any{"StreamName": "orders", "ShardLevelMetrics": step.metrics})
			if got["StreamName"] != "orders" || got["StreamARN"] != "arn:aws:kinesis:us-east-1:000000000000:stream/orders" {
				t.Errorf("reply names %v %v", got["StreamName"], got["StreamARN"])
			}
			if !reflect.DeepEqual(got["CurrentShardLevelMetrics"], step.current) || !reflect.DeepEqual(got["DesiredShardLevelMetrics"], step.desired) {
				t.Errorf("reply = %v, want current %v desired %v", got, step.current, step.desired)
			}
			for _, describe := range []struct{ action, member string }{
				{"DescribeStream", "StreamDescription"}, {"DescribeStreamSummary", "StreamDescriptionSummary"},
			} {
				d := c.OK(describe.action, map[string]any{"StreamName": "orders"})[describe.member].(map[string]any)
				want := []any{map[string]any{"ShardLevelMetrics": step.desired}}
				if !reflect.DeepEqual(d["EnhancedMonitoring"], want) {
					t.Errorf("%s EnhancedMonitoring = %v, want %v", describe.action, d["EnhancedMonitoring"], want)
				}
			}
		})
	}
}

func TestEnhancedMonitoringErrors(t *testing.T) {
	c := newStoreServer(t, []shard.Option{shard.WithCreateDelay(time.Hour)})
	c.OK("CreateStream", map[string]any{"StreamName": "creating", "ShardCount": 1})
	tests := []struct {
		name    string
		body    map[string]any
		errType string
	}{
		{"metrics missing", map[string]any{"StreamName": "creating"}, "ValidationException"},
		{"empty list", map[string]any{"StreamName": "creating", "ShardLevelMetrics": []string{}}, "ValidationException"},
		{"eight metrics", map[string]any{"StreamName": "creating", "ShardLevelMetrics": []string{
			"ALL", "ALL", "ALL", "ALL", "ALL", "ALL", "ALL", "ALL"}}, "ValidationException"},
		{"unknown metric", map[string]any{"StreamName": "creating", "ShardLevelMetrics": []string{"IncomingBits"}}, "ValidationException"},
		{"no stream", map[string]any{"ShardLevelMetrics": []string{"ALL"}}, "InvalidArgumentException"},
		{"not found", map[string]any{"StreamName": "nope", "ShardLevelMetrics": []string{"ALL"}}, "ResourceNotFoundException"},
		{"not found by ARN", map[string]any{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/nope", "ShardLevelMetrics": []string{"ALL"}}, "ResourceNotFoundException"},
		{"not active", map[string]any{"StreamName": "creating", "ShardLevelMetrics": []string{"ALL"}}, "ResourceInUseException"},
	}
	for _, tc := range tests {
		for _, action := range []string{"EnableEnhancedMonitoring", "DisableEnhancedMonitoring"} {
			t.Run(tc.name+"/"+action, func(t *testing.T) {
				c.Fails(action, tc.body, 400, tc.errType)
			})
		}
	}
}
