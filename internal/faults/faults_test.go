package faults

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

var catalog = Catalog{
	Kinesis:  {"CreateStream", "DescribeStream", "GetRecords", "GetShardIterator", "PutRecord", "PutRecords"},
	Firehose: {"DescribeDeliveryStream", "PutRecord", "PutRecordBatch"},
}

func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want Plan
		err  string // part of the error; "" for none
	}{
		{"", Plan{}, ""},
		{"PutRecords=0.1", Plan{Kinesis: {"PutRecords": {0.1, 0}}}, ""},
		{" putrecords = 0.1 , GetRecords:internal=0.05", Plan{Kinesis: {"PutRecords": {0.1, 0}, "GetRecords": {0, 0.05}}}, ""},
		{"PutRecord=0.2", Plan{Kinesis: {"PutRecord": {0.2, 0}}, Firehose: {"PutRecord": {0.2, 0}}}, ""},
		{"firehose.PutRecord=0.2", Plan{Firehose: {"PutRecord": {0.2, 0}}}, ""},
		{"PutRecords:InternalFailure=0.01,PutRecords:ProvisionedThroughputExceededException=0.3",
			Plan{Kinesis: {"PutRecords": {0.3, 0.01}}}, ""},
		{"Kinesis.*=0.5,PutRecords=0,Kinesis.GetRecords=1", Plan{Kinesis: {
			"CreateStream": {0.5, 0}, "DescribeStream": {0.5, 0}, "GetShardIterator": {0.5, 0}, "PutRecord": {0.5, 0},
			"GetRecords": {1, 0}}}, ""},
		{"*:internal=0.25,Firehose.*:internal=0", Plan{Kinesis: {
			"CreateStream": {0, 0.25}, "DescribeStream": {0, 0.25}, "GetRecords": {0, 0.25}, "GetShardIterator": {0, 0.25},
			"PutRecord": {0, 0.25}, "PutRecords": {0, 0.25}}}, ""},

		{"PutRecords", nil, "no '='"},
		{"PutRecords=0.1,", nil, "empty entry"},
		{"PutRecords=1.5", nil, "from 0 to 1"},
		{"PutRecords=-0.1", nil, "from 0 to 1"},
		{"PutRecords=NaN", nil, "from 0 to 1"},
		{"PutRecords=lots", nil, "from 0 to 1"},
		{"PutRecords:slow=0.1", nil, "want throttle or internal"},
		{"Lambda.Invoke=0.1", nil, `API "Lambda": want Firehose or Kinesis`},
		{"PutRecordz=0.1", nil, `no API has an action "PutRecordz"`},
		{"Firehose.GetRecords=0.1", nil, "Firehose has no action"},
		{"PutRecords=0.1,putrecords=0.2", nil, "a second entry for PutRecords:throttle"},
		{"PutRecords=0.7,PutRecords:internal=0.7", nil, "Kinesis.PutRecords: throttle 0.7 and internal 0.7 add up to more than 1"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := Parse(tt.spec, catalog)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("plan %v, want %v", got, tt.want)
			}
		})
	}
}

// outcome is what one intercepted request turned into: the error it
// answered, or the faults it carries to the store.
type outcome struct {
	code   apierr.Code // the request's error
	faults shard.Faults
	ran    bool // the action runs
}

func intercept(in *Injector, api, action string) outcome {
	ctx, err := in.Intercept(context.Background(), api, action)
	if err != nil {
		return outcome{code: apierr.CodeOf(err)}
	}
	return outcome{faults: shard.FaultsOf(ctx), ran: true}
}

func TestIntercept(t *testing.T) {
	tests := []struct {
		name, api, action string
		odds              Odds
		want              func(t *testing.T, o outcome)
	}{
		{"no odds: untouched", Kinesis, "DescribeStream", Odds{}, func(t *testing.T, o outcome) {
			if !o.ran || o.faults.Record != nil || o.faults.Read != "" {
				t.Fatalf("%+v", o)
			}
		}},
		{"control plane throttle", Kinesis, "DescribeStream", Odds{1, 0}, func(t *testing.T, o outcome) {
			if o.ran || o.code != apierr.LimitExceeded {
				t.Fatalf("%+v", o)
			}
		}},
		{"GetShardIterator throttle", Kinesis, "GetShardIterator", Odds{1, 0}, func(t *testing.T, o outcome) {
			if o.code != apierr.ProvisionedThroughputExceeded {
				t.Fatalf("%+v", o)
			}
		}},
		{"internal", Firehose, "DescribeDeliveryStream", Odds{0, 1}, func(t *testing.T, o outcome) {
			if o.code != apierr.InternalFailure {
				t.Fatalf("%+v", o)
			}
		}},
		{"GetRecords fails in the store", Kinesis, "GetRecords", Odds{1, 0}, func(t *testing.T, o outcome) {
			if !o.ran || o.faults.Read != apierr.ProvisionedThroughputExceeded {
				t.Fatalf("%+v", o)
			}
		}},
		{"Kinesis records", Kinesis, "PutRecords", Odds{1, 0}, func(t *testing.T, o outcome) {
			if !o.ran || o.faults.Record == nil || o.faults.Record(0) != apierr.ProvisionedThroughputExceeded {
				t.Fatalf("%+v", o)
			}
		}},
		{"Firehose records", Firehose, "PutRecordBatch", Odds{1, 0}, func(t *testing.T, o outcome) {
			if o.faults.Record == nil || o.faults.Record(0) != apierr.ServiceUnavailableException {
				t.Fatalf("%+v", o)
			}
		}},
		{"Firehose PutRecord internal", Firehose, "PutRecord", Odds{0, 1}, func(t *testing.T, o outcome) {
			if o.faults.Record == nil || o.faults.Record(0) != apierr.InternalFailure {
				t.Fatalf("%+v", o)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := Plan{}
			if tt.odds != (Odds{}) {
				plan[tt.api] = map[string]Odds{tt.action: tt.odds}
			}
			tt.want(t, intercept(New(plan, 1), tt.api, tt.action))
		})
	}
}

// TestDrawsFollowTheSeed: the same seed fails the same records, and the
// share that fails is near the odds.
func TestDrawsFollowTheSeed(t *testing.T) {
	plan := Plan{Kinesis: {"PutRecords": {0.2, 0.1}}}
	run := func(seed uint64) []apierr.Code {
		ctx, err := New(plan, seed).Intercept(context.Background(), Kinesis, "PutRecords")
		if err != nil {
			t.Fatal(err)
		}
		f := shard.FaultsOf(ctx)
		out := make([]apierr.Code, 10000)
		for i := range out {
			out[i] = f.Record(i)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed drew differently")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("another seed drew the same")
	}
	counts := map[apierr.Code]int{}
	for _, code := range a {
		counts[code]++
	}
	// 10,000 draws: the shares are within a few standard deviations
	// (about 40 and 30) of 2,000 and 1,000. Deterministic for the seed.
	if n := counts[apierr.ProvisionedThroughputExceeded]; n < 1850 || n > 2150 {
		t.Errorf("%d throttles in 10,000 at 0.2", n)
	}
	if n := counts[apierr.InternalFailure]; n < 900 || n > 1100 {
		t.Errorf("%d internal failures in 10,000 at 0.1", n)
	}
}
