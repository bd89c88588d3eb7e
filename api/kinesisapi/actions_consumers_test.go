package kinesisapi

import (
	"testing"
)

// TestConsumerActions drives the consumer registry over HTTP: the wire
// shapes of the four actions, and AWS's error types.
func TestConsumerActions(t *testing.T) {
	c := newStoreServer(t, nil)
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	arn := testARN + "s"

	reg := c.OK("RegisterStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "app"})["Consumer"].(map[string]any)
	consumerARN, _ := reg["ConsumerARN"].(string)
	if reg["ConsumerName"] != "app" || reg["ConsumerStatus"] != "ACTIVE" || len(consumerARN) <= len(arn+"/consumer/app:") ||
		consumerARN[:len(arn+"/consumer/app:")] != arn+"/consumer/app:" {
		t.Fatalf("Consumer = %v", reg)
	}
	if _, ok := reg["ConsumerCreationTimestamp"].(float64); !ok {
		t.Errorf("ConsumerCreationTimestamp = %v, want epoch seconds", reg["ConsumerCreationTimestamp"])
	}
	for _, ref := range []map[string]any{{"ConsumerARN": consumerARN}, {"StreamARN": arn, "ConsumerName": "app"}} {
		d := c.OK("DescribeStreamConsumer", ref)["ConsumerDescription"].(map[string]any)
		if d["ConsumerARN"] != consumerARN || d["StreamARN"] != arn || d["ConsumerStatus"] != "ACTIVE" {
			t.Errorf("DescribeStreamConsumer(%v) = %v", ref, d)
		}
	}
	c.OK("RegisterStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "b"})
	page := c.OK("ListStreamConsumers", map[string]any{"StreamARN": arn, "MaxResults": 1})
	list := page["Consumers"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["ConsumerName"] != "app" || page["NextToken"] == nil {
		t.Fatalf("first page = %v", page)
	}
	page = c.OK("ListStreamConsumers", map[string]any{"StreamARN": arn, "MaxResults": 1, "NextToken": page["NextToken"]})
	if list := page["Consumers"].([]any); len(list) != 1 || list[0].(map[string]any)["ConsumerName"] != "b" || page["NextToken"] != nil {
		t.Fatalf("second page = %v", page)
	}
	if n := c.OK("DescribeStreamSummary", map[string]any{"StreamName": "s"})["StreamDescriptionSummary"].(map[string]any)["ConsumerCount"]; n != 2.0 {
		t.Errorf("ConsumerCount = %v, want 2", n)
	}

	fails := []struct {
		name, action string
		body         map[string]any
		errType      string
		msg          string
	}{
		{"register: duplicate", "RegisterStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "app"}, "ResourceInUseException", "app"},
		{"register: no name", "RegisterStreamConsumer", map[string]any{"StreamARN": arn}, "ValidationException", "consumerName"},
		{"register: bad name", "RegisterStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "a b"}, "ValidationException", ""},
		{"register: missing stream", "RegisterStreamConsumer", map[string]any{"StreamARN": testARN + "nope", "ConsumerName": "x"}, "ResourceNotFoundException", "nope"},
		{"describe: unknown", "DescribeStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "nope"}, "ResourceNotFoundException", "nope"},
		{"describe: nothing", "DescribeStreamConsumer", map[string]any{}, "InvalidArgumentException", "ConsumerARN"},
		{"list: max 0", "ListStreamConsumers", map[string]any{"StreamARN": arn, "MaxResults": 0}, "ValidationException", ""},
		{"list: bad token", "ListStreamConsumers", map[string]any{"StreamARN": arn, "NextToken": "!"}, "InvalidArgumentException", "NextToken"},
		{"list: other creation time", "ListStreamConsumers", map[string]any{"StreamARN": arn, "StreamCreationTimestamp": 1}, "ResourceNotFoundException", ""},
		{"deregister: unknown", "DeregisterStreamConsumer", map[string]any{"ConsumerARN": arn + "/consumer/app:1"}, "ResourceNotFoundException", "app"},
	}
	for _, f := range fails {
		t.Log(f.name)
		c.FailsWith(f.action, f.body, 400, f.errType, f.msg)
	}

	c.FailsWith("DeleteStream", map[string]any{"StreamName": "s"}, 400, "ResourceInUseException", "EnforceConsumerDeletion")
	c.FailsWith("DeleteStream", map[string]any{"StreamName": "s", "EnforceConsumerDeletion": false}, 400, "ResourceInUseException", "consumers")

	c.OK("TagResource", map[string]any{"ResourceARN": consumerARN, "Tags": map[string]string{"k": "v"}})
	if tags := c.OK("ListTagsForResource", map[string]any{"ResourceARN": consumerARN})["Tags"].([]any); len(tags) != 1 {
		t.Errorf("consumer tags = %v", tags)
	}
	c.OK("DeregisterStreamConsumer", map[string]any{"ConsumerARN": consumerARN})
	c.FailsWith("DescribeStreamConsumer", map[string]any{"ConsumerARN": consumerARN}, 400, "ResourceNotFoundException", "app")
	c.FailsWith("ListTagsForResource", map[string]any{"ResourceARN": consumerARN}, 400, "ResourceNotFoundException", "app")
	c.OK("DeleteStream", map[string]any{"StreamName": "s", "EnforceConsumerDeletion": true}) // "b" goes with it
	c.FailsWith("ListStreamConsumers", map[string]any{"StreamARN": arn}, 400, "ResourceNotFoundException", "s")
}
