package throttle

import (
	"sync"
	"time"
)

// KinesisActionRates are the per-account call rates that the Kinesis API
// reference documents for control-plane actions, per second. Actions it
// documents per stream or per shard (ListShards, GetShardIterator, the
// consumer actions) and those it gives no rate are not in it.
var KinesisActionRates = map[string]float64{
	"AddTagsToStream":       5,
	"CreateStream":          5,
	"DeleteStream":          5,
	"DescribeLimits":        1,
	"DescribeStream":        10,
	"DescribeStreamSummary": 20,
	"ListStreams":           5,
	"ListTagsForStream":     5,
	"MergeShards":           5,
	"RemoveTagsFromStream":  5,
	"SplitShard":            5,
	"UpdateShardCount":      10,
	// Documented since 2024-2025 (another part of issue 12 serves them).
	"DescribeAccountSettings":    5,
	"UpdateAccountSettings":      5,
	"UpdateStreamWarmThroughput": 5,
	"RegisterStreamConsumer":     5,
}

// FirehoseActionRates are the same for the Firehose API.
var FirehoseActionRates = map[string]float64{
	"ListTagsForDeliveryStream": 5,
	"TagDeliveryStream":         5,
	"UntagDeliveryStream":       5,
}

// Actions limits how often actions may be called, one bucket per action
// for the whole account (the server). It is safe for concurrent use.
type Actions struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

// NewActions returns the buckets of rates (action → calls per second), full
// at now.
func NewActions(rates map[string]float64, now time.Time) *Actions {
	a := &Actions{buckets: make(map[string]*bucket, len(rates))}
	for action, r := range rates {
		b := newBucket(r, now)
		a.buckets[action] = &b
	}
	return a
}

// Allow takes one call of action, and reports false when the action's calls
// of the last second are spent. Actions without a rate always pass.
func (a *Actions) Allow(now time.Time, action string) bool {
	b := a.buckets[action] // never written after NewActions
	if b == nil {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b.refill(now)
	if !b.can(1) {
		return false
	}
	b.take(1)
	return true
}

// Rate returns the calls per second allowed for action, 0 for none.
func (a *Actions) Rate(action string) float64 {
	if b := a.buckets[action]; b != nil {
		return b.rate
	}
	return 0
}
