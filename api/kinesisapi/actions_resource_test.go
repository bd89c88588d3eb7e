package kinesisapi

import (
	"reflect"
	"strings"
	"testing"
)

const testARN = "arn:aws:kinesis:us-east-1:000000000000:stream/"

// TestSettingsActions drives each action of actions_resource.go over HTTP:
// the success path and AWS's error types, and that a refused request
// changes nothing.
func TestSettingsActions(t *testing.T) {
	c := newStoreServer(t, nil)
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	arn := testARN + "s"
	summary := func() map[string]any {
		return c.OK("DescribeStreamSummary", map[string]any{"StreamName": "s"})["StreamDescriptionSummary"].(map[string]any)
	}

	fails := []struct {
		name, action string
		body         map[string]any
		errType      string
		msg          string
	}{
		{"tag: missing ARN", "TagResource", map[string]any{"Tags": map[string]string{"k": "v"}}, "ValidationException", "resourceARN"},
		{"tag: not a Kinesis ARN", "TagResource", map[string]any{"ResourceARN": "arn:aws:s3:::bucket", "Tags": map[string]string{"k": "v"}}, "ValidationException", ""},
		{"tag: missing stream", "TagResource", map[string]any{"ResourceARN": testARN + "nope", "Tags": map[string]string{"k": "v"}}, "ResourceNotFoundException", "nope"},
		{"tag: consumer", "TagResource", map[string]any{"ResourceARN": arn + "/consumer/app:1700000000", "Tags": map[string]string{"k": "v"}}, "ResourceNotFoundException", "Consumer app"},
		{"tag: reserved prefix", "TagResource", map[string]any{"ResourceARN": arn, "Tags": map[string]string{"aws:x": "v"}}, "InvalidArgumentException", "aws:"},
		{"untag: no keys", "UntagResource", map[string]any{"ResourceARN": arn, "TagKeys": []string{}}, "ValidationException", ""},
		{"list tags: other account", "ListTagsForResource", map[string]any{"ResourceARN": "arn:aws:kinesis:us-east-1:111111111111:stream/s"}, "ResourceNotFoundException", ""},
		{"policy: not JSON", "PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": "{"}, "InvalidArgumentException", "not a valid resource policy"},
		{"policy: condition", "PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": `{"Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:*","Resource":"*","Condition":{}}}`}, "InvalidArgumentException", "Condition"},
		{"policy: too large", "PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": `{"Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:*","Resource":"*"},"Id":"` + strings.Repeat("x", 20<<10) + `"}`}, "InvalidArgumentException", "20 KiB"},
		{"delete policy: none", "DeleteResourcePolicy", map[string]any{"ResourceARN": arn}, "ResourceNotFoundException", "No resource policy"},
		{"mode: same", "UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}}, "InvalidArgumentException", "already"},
		{"mode: bad", "UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": "FAST"}}, "ValidationException", ""},
		{"mode: no ARN", "UpdateStreamMode", map[string]any{"StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}}, "ValidationException", "streamARN"},
		{"mode: warm without commitment", "UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}, "WarmThroughputMiBps": 10}, "InvalidArgumentException", "MinimumThroughputBillingCommitment"},
		{"record size: too small", "UpdateMaxRecordSize", map[string]any{"StreamARN": arn, "MaxRecordSizeInKiB": 1023}, "ValidationException", ""},
		{"record size: too large", "UpdateMaxRecordSize", map[string]any{"StreamARN": arn, "MaxRecordSizeInKiB": 10241}, "ValidationException", ""},
		{"record size: no ARN", "UpdateMaxRecordSize", map[string]any{"MaxRecordSizeInKiB": 2048}, "InvalidArgumentException", "StreamARN"},
		{"warm: provisioned", "UpdateStreamWarmThroughput", map[string]any{"StreamName": "s", "WarmThroughputMiBps": 10}, "InvalidArgumentException", ""},
		{"warm: negative", "UpdateStreamWarmThroughput", map[string]any{"StreamName": "s", "WarmThroughputMiBps": -1}, "ValidationException", ""},
		{"account: bad status", "UpdateAccountSettings", map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "MAYBE"}}, "ValidationException", ""},
		{"account: missing", "UpdateAccountSettings", map[string]any{}, "ValidationException", "minimumThroughputBillingCommitment"},
	}
	before := summary()
	for _, f := range fails {
		t.Log(f.name)
		c.FailsWith(f.action, f.body, 400, f.errType, f.msg)
	}
	if after := summary(); !reflect.DeepEqual(before, after) {
		t.Errorf("refused requests changed the stream:\n%v\n%v", before, after)
	}
	if got := c.OK("ListTagsForResource", map[string]any{"ResourceARN": arn})["Tags"].([]any); len(got) != 0 {
		t.Errorf("refused requests left tags %v", got)
	}

	t.Run("tags", func(t *testing.T) {
		c.OK("TagResource", map[string]any{"ResourceARN": arn, "Tags": map[string]string{"b": "2", "a": "1"}})
		c.OK("AddTagsToStream", map[string]any{"StreamName": "s", "Tags": map[string]string{"c": "3"}})
		c.OK("UntagResource", map[string]any{"ResourceARN": arn, "TagKeys": []string{"c", "absent"}})
		got := c.OK("ListTagsForResource", map[string]any{"ResourceARN": arn})["Tags"].([]any)
		if len(got) != 2 || got[0].(map[string]any)["Key"] != "a" || got[1].(map[string]any)["Value"] != "2" {
			t.Errorf("Tags = %v", got)
		}
		if n := len(c.OK("ListTagsForStream", map[string]any{"StreamName": "s"})["Tags"].([]any)); n != 2 {
			t.Errorf("ListTagsForStream sees %d tags, want 2", n)
		}
	})
	t.Run("resource policy", func(t *testing.T) {
		if p := c.OK("GetResourcePolicy", map[string]any{"ResourceARN": arn})["Policy"]; p != "{}" {
			t.Errorf("Policy without one = %v, want {}", p)
		}
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"kinesis:GetRecords","Resource":"` + arn + `"}]}`
		c.OK("PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": doc})
		if p := c.OK("GetResourcePolicy", map[string]any{"ResourceARN": arn})["Policy"]; p != doc {
			t.Errorf("Policy = %v, want it as put", p)
		}
		c.OK("DeleteResourcePolicy", map[string]any{"ResourceARN": arn})
		if p := c.OK("GetResourcePolicy", map[string]any{"ResourceARN": arn})["Policy"]; p != "{}" {
			t.Errorf("Policy after delete = %v", p)
		}
	})
	t.Run("max record size", func(t *testing.T) {
		if got := summary()["MaxRecordSizeInKiB"]; got != 1024.0 {
			t.Errorf("MaxRecordSizeInKiB = %v, want 1024", got)
		}
		c.OK("UpdateMaxRecordSize", map[string]any{"StreamARN": arn, "MaxRecordSizeInKiB": 10240})
		if got := summary()["MaxRecordSizeInKiB"]; got != 10240.0 {
			t.Errorf("MaxRecordSizeInKiB = %v, want 10240", got)
		}
	})
	t.Run("account and mode", func(t *testing.T) {
		a := c.OK("DescribeAccountSettings", map[string]any{})["MinimumThroughputBillingCommitment"].(map[string]any)
		if a["Status"] != "DISABLED" || len(a) != 1 {
			t.Errorf("DescribeAccountSettings = %v", a)
		}
		a = c.OK("UpdateAccountSettings", map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "ENABLED"}})["MinimumThroughputBillingCommitment"].(map[string]any)
		started, _ := a["StartedAt"].(float64)
		end, _ := a["EarliestAllowedEndAt"].(float64)
		if a["Status"] != "ENABLED" || end-started != 24*3600 {
			t.Errorf("UpdateAccountSettings = %v", a)
		}
		a = c.OK("UpdateAccountSettings", map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "DISABLED"}})["MinimumThroughputBillingCommitment"].(map[string]any)
		if a["Status"] != "ENABLED_UNTIL_EARLIEST_ALLOWED_END" || a["EndedAt"] != a["EarliestAllowedEndAt"] {
			t.Errorf("disabling early = %v", a)
		}
		c.OK("UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}, "WarmThroughputMiBps": 5})
		s := summary()
		if s["StreamModeDetails"].(map[string]any)["StreamMode"] != "ON_DEMAND" ||
			s["WarmThroughput"].(map[string]any)["TargetMiBps"] != 5.0 {
			t.Errorf("summary after UpdateStreamMode = %v", s)
		}
		w := c.OK("UpdateStreamWarmThroughput", map[string]any{"StreamARN": arn, "WarmThroughputMiBps": 50})
		if w["StreamName"] != "s" || w["StreamARN"] != arn || w["WarmThroughput"].(map[string]any)["TargetMiBps"] != 50.0 {
			t.Errorf("UpdateStreamWarmThroughput = %v", w)
		}
		l := c.OK("DescribeLimits", map[string]any{})
		if l["OnDemandStreamCount"] != 1.0 || l["OnDemandStreamCountLimit"] != 50.0 {
			t.Errorf("DescribeLimits = %v", l)
		}
		ls := c.OK("ListStreams", map[string]any{})["StreamSummaries"].([]any)
		if ls[0].(map[string]any)["StreamModeDetails"].(map[string]any)["StreamMode"] != "ON_DEMAND" {
			t.Errorf("ListStreams summaries = %v", ls)
		}
		c.FailsWith("UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}, "WarmThroughputMiBps": 5},
			400, "InvalidArgumentException", "ON_DEMAND")
		c.OK("UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}})
		if _, ok := summary()["WarmThroughput"]; ok {
			t.Error("a PROVISIONED stream reports WarmThroughput")
		}
		c.FailsWith("UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}},
			400, "LimitExceededException", "24h")
	})
}
