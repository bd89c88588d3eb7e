package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/faults"
	"github.com/spatehq/spate/internal/throttle"
)

func TestLimitsFlags(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name      string
		cfg       limitsConfig
		intercept bool
		err       string
	}{
		{"off by default", limitsConfig{}, false, ""},
		{"limits", limitsConfig{enforce: true}, true, ""},
		{"faults", limitsConfig{faultRate: "PutRecords=0.1,Firehose.PutRecordBatch:internal=0.01"}, true, ""},
		{"bad faults", limitsConfig{faultRate: "PutRecords=0.1,Nope=1"}, false, `--fault-rate: "Nope=1": no API has an action "Nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.resolve("000000000000", quiet)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tt.cfg.intercept != nil) != tt.intercept || (tt.cfg.grpcOptions() != nil) != tt.intercept {
				t.Fatalf("intercept set: %v, want %v", tt.cfg.intercept != nil, tt.intercept)
			}
		})
	}
}

// TestGate: control-plane rates per API, on a fake clock, before faults.
func TestGate(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	now := t0
	g := &gate{
		accountID: "123456789012",
		now:       func() time.Time { return now },
		actions: map[string]*throttle.Actions{
			faults.Kinesis:  throttle.NewActions(throttle.KinesisActionRates, t0),
			faults.Firehose: throttle.NewActions(throttle.FirehoseActionRates, t0),
		},
		faults: faults.New(faults.Plan{faults.Kinesis: {"ListStreams": {0, 1}}}, 1),
	}
	ctx := context.Background()
	call := func(api, action string) apierr.Code {
		_, err := g.intercept(ctx, api, action)
		if err == nil {
			return ""
		}
		return apierr.CodeOf(err)
	}
	if c := call(faults.Kinesis, "DescribeLimits"); c != "" {
		t.Fatalf("first DescribeLimits: %s", c)
	}
	_, err := g.intercept(ctx, faults.Kinesis, "DescribeLimits")
	if apierr.CodeOf(err) != apierr.LimitExceeded ||
		apierr.MessageOf(err) != "Rate exceeded for DescribeLimits under account 123456789012: it takes at most 1 calls per second." {
		t.Fatalf("second DescribeLimits in the same second: %v", err)
	}
	now = t0.Add(time.Second)
	steps := []struct {
		api, action string
		want        apierr.Code
	}{
		{faults.Kinesis, "DescribeLimits", ""},
		{faults.Kinesis, "ListShards", ""}, // no per-account rate
		{faults.Firehose, "TagDeliveryStream", ""},
		{faults.Kinesis, "ListStreams", apierr.InternalFailure}, // the fault, once the rate passes
	}
	for _, s := range steps {
		if got := call(s.api, s.action); got != s.want {
			t.Errorf("%s.%s: %q, want %q", s.api, s.action, got, s.want)
		}
	}
	for range 4 {
		call(faults.Kinesis, "ListStreams")
	}
	if got := call(faults.Kinesis, "ListStreams"); got != apierr.LimitExceeded {
		t.Errorf("sixth ListStreams in a second: %q, want the rate's LimitExceededException first", got)
	}
}
