package shard

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ms.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	return c
}

func TestUpdateStreamMode(t *testing.T) {
	ctx := context.Background()
	warm := func(n int) *int { return &n }
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store, clk *fakeClock)
		mode  StreamMode
		warm  *int
		want  apierr.Code // "" for success
	}{
		{name: "to on-demand", mode: ModeOnDemand},
		{name: "same mode", mode: ModeProvisioned, want: apierr.InvalidArgument},
		{name: "bad mode", mode: "BURSTY", want: apierr.InvalidArgument},
		{name: "third switch in a day", mode: ModeOnDemand, want: apierr.LimitExceeded,
			setup: func(t *testing.T, s *Store, clk *fakeClock) {
				mustMode(t, s, ModeOnDemand)
				clk.advance(time.Hour)
				mustMode(t, s, ModeProvisioned)
				clk.advance(22 * time.Hour)
			}},
		{name: "third switch after the window", mode: ModeOnDemand,
			setup: func(t *testing.T, s *Store, clk *fakeClock) {
				mustMode(t, s, ModeOnDemand)
				clk.advance(time.Hour)
				mustMode(t, s, ModeProvisioned)
				clk.advance(23*time.Hour + time.Minute)
			}},
		{name: "on-demand stream limit", mode: ModeOnDemand, want: apierr.LimitExceeded,
			setup: func(t *testing.T, s *Store, clk *fakeClock) {
				if err := s.CreateStream(ctx, CreateStreamInput{Name: "other", Mode: ModeOnDemand}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "warm throughput without commitment", mode: ModeOnDemand, warm: warm(100), want: apierr.InvalidArgument},
		{name: "warm throughput with commitment", mode: ModeOnDemand, warm: warm(100),
			setup: func(t *testing.T, s *Store, clk *fakeClock) { mustCommit(t, s, true) }},
		{name: "warm throughput for provisioned", mode: ModeProvisioned, warm: warm(100), want: apierr.InvalidArgument},
		{name: "warm throughput too high", mode: ModeOnDemand, warm: warm(MaxWarmThroughputMiBps + 1), want: apierr.InvalidArgument,
			setup: func(t *testing.T, s *Store, clk *fakeClock) { mustCommit(t, s, true) }},
		// Switched to ON_DEMAND with an update delay: UPDATING.
		{name: "not active", mode: ModeProvisioned, want: apierr.ResourceInUse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			s := openTest(t, "", WithClock(clk.now), func(c *config) { c.onDemandMax = 1 })
			mustCreate(t, s, "s", 2)
			if tc.name == "not active" {
				s.cfg.updateDelay = time.Minute
				mustMode(t, s, ModeOnDemand)
			} else if tc.setup != nil {
				tc.setup(t, s, clk)
			}
			before, _ := s.DescribeStreamSummary(ctx, "s")
			err := s.UpdateStreamMode(ctx, "s", tc.mode, tc.warm)
			after, _ := s.DescribeStreamSummary(ctx, "s")
			if tc.want != "" {
				wantCode(t, err, tc.want)
				if !reflect.DeepEqual(before, after) {
					t.Errorf("a refused update changed the stream:\n%+v\n%+v", before, after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if after.Mode != tc.mode {
				t.Errorf("mode = %s, want %s", after.Mode, tc.mode)
			}
			if tc.warm != nil && (after.WarmThroughput == nil || after.WarmThroughput.TargetMiBps != *tc.warm) {
				t.Errorf("WarmThroughput = %+v, want target %d", after.WarmThroughput, *tc.warm)
			}
		})
	}
}

func mustMode(t *testing.T, s *Store, m StreamMode) {
	t.Helper()
	if err := s.UpdateStreamMode(context.Background(), "s", m, nil); err != nil {
		t.Fatalf("UpdateStreamMode(%s): %v", m, err)
	}
}

func mustCommit(t *testing.T, s *Store, on bool) {
	t.Helper()
	if _, err := s.UpdateAccountSettings(context.Background(), on); err != nil {
		t.Fatalf("UpdateAccountSettings(%v): %v", on, err)
	}
}

// TestUpdatingStatus checks that an update makes the stream UPDATING for
// the update delay, that records are written and read meanwhile, and
// that other updates wait.
func TestUpdatingStatus(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openTest(t, "", WithClock(clk.now), WithUpdateDelay(time.Minute))
	mustCreate(t, s, "s", 1)
	mustCommit(t, s, true)
	if err := s.UpdateStreamMode(ctx, "s", ModeOnDemand, nil); err != nil {
		t.Fatal(err)
	}
	d, _ := s.DescribeStreamSummary(ctx, "s")
	if d.Status != StatusUpdating || d.Mode != ModeOnDemand {
		t.Fatalf("after UpdateStreamMode: %s %s, want UPDATING ON_DEMAND", d.Status, d.Mode)
	}
	if _, err := s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte("x")}}); err != nil {
		t.Fatalf("Append while UPDATING: %v", err)
	}
	if got := readAll(t, s, "s", ShardID(0), Position{Type: TrimHorizon}); len(got) != 1 {
		t.Fatalf("read %d records while UPDATING, want 1", len(got))
	}
	_, err := s.UpdateWarmThroughput(ctx, "s", 10)
	wantCode(t, err, apierr.ResourceInUse)
	clk.advance(time.Minute)
	if d, _ := s.DescribeStreamSummary(ctx, "s"); d.Status != StatusActive {
		t.Fatalf("after the delay: %s, want ACTIVE", d.Status)
	}
	w, err := s.UpdateWarmThroughput(ctx, "s", 10)
	if err != nil {
		t.Fatal(err)
	}
	if w != (WarmThroughput{TargetMiBps: 10, CurrentMiBps: 0}) {
		t.Errorf("UpdateWarmThroughput = %+v, want target 10, current 0", w)
	}
	if d, _ := s.DescribeStreamSummary(ctx, "s"); d.Status != StatusUpdating || *d.WarmThroughput != w {
		t.Errorf("while warming: %s %+v", d.Status, d.WarmThroughput)
	}
	clk.advance(time.Minute)
	if d, _ := s.DescribeStreamSummary(ctx, "s"); *d.WarmThroughput != (WarmThroughput{10, 10}) {
		t.Errorf("after warming: %+v, want 10/10", d.WarmThroughput)
	}
}

func TestUpdateWarmThroughput(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mode   StreamMode
		commit bool
		mibps  int
		want   apierr.Code
	}{
		{name: "on-demand with commitment", mode: ModeOnDemand, commit: true, mibps: 200},
		{name: "zero releases it", mode: ModeOnDemand, commit: true, mibps: 0},
		{name: "provisioned", mode: ModeProvisioned, commit: true, mibps: 200, want: apierr.InvalidArgument},
		{name: "no commitment", mode: ModeOnDemand, mibps: 200, want: apierr.InvalidArgument},
		{name: "over 10 GiB/s", mode: ModeOnDemand, commit: true, mibps: MaxWarmThroughputMiBps + 1, want: apierr.InvalidArgument},
		{name: "negative", mode: ModeOnDemand, commit: true, mibps: -1, want: apierr.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, "")
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: tc.mode, ShardCount: 1}); err != nil {
				t.Fatal(err)
			}
			if tc.commit {
				mustCommit(t, s, true)
			}
			w, err := s.UpdateWarmThroughput(ctx, "s", tc.mibps)
			if tc.want != "" {
				wantCode(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.TargetMiBps != tc.mibps || w.CurrentMiBps != tc.mibps {
				t.Errorf("got %+v, want %d", w, tc.mibps)
			}
		})
	}
	t.Run("missing stream", func(t *testing.T) {
		s := openTest(t, "")
		mustCommit(t, s, true)
		_, err := s.UpdateWarmThroughput(ctx, "nope", 1)
		wantCode(t, err, apierr.ResourceNotFound)
	})
}

func TestMaxRecordSize(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", WithReadBudget(32<<20, time.Second))
	mustCreate(t, s, "s", 1)
	big := bytes.Repeat([]byte{'x'}, MaxRecordSize) // with the key, 1 byte over the default
	_, err := s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: big}})
	wantCode(t, err, apierr.InvalidArgument)

	for _, kib := range []int{MinMaxRecordSizeKiB - 1, MaxMaxRecordSizeKiB + 1} {
		wantCode(t, s.UpdateMaxRecordSize(ctx, "s", kib), apierr.Validation)
	}
	if d, _ := s.DescribeStreamSummary(ctx, "s"); d.MaxRecordSizeKiB != 1024 {
		t.Fatalf("MaxRecordSizeKiB = %d after refused updates, want 1024", d.MaxRecordSizeKiB)
	}
	if err := s.UpdateMaxRecordSize(ctx, "s", MaxMaxRecordSizeKiB); err != nil {
		t.Fatal(err)
	}
	huge := bytes.Repeat([]byte{'y'}, MaxRecordSizeLimit-1)
	for _, e := range [][]Entry{
		{{PartitionKey: "k", Data: huge}},
		{{PartitionKey: "k", Data: big[:10]}, {PartitionKey: "k", Data: huge[:MaxRecordSizeLimit-100]}},
	} {
		if _, err := s.Append(ctx, "s", e); err != nil {
			t.Fatalf("Append of %d records up to 10 MiB: %v", len(e), err)
		}
	}
	_, err = s.Append(ctx, "s", []Entry{{PartitionKey: "kk", Data: huge}})
	wantCode(t, err, apierr.InvalidArgument)
	// PutRecords takes 10 MiB in all (5 MiB before 2025).
	_, err = s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: huge}, {PartitionKey: "k", Data: big[:10]}})
	wantCode(t, err, apierr.InvalidArgument)

	// Under a read budget, each GetRecords holding a 10 MiB record.
	it, err := s.ShardIterator(ctx, "s", ShardID(0), Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	for range 3 {
		out, err := s.GetRecords(ctx, it, 10)
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		got = append(got, out.Records...)
		out.Release()
		it = out.NextIterator
	}
	if len(got) != 3 || !bytes.Equal(got[0].Data, huge) || len(got[2].Data) != MaxRecordSizeLimit-100 {
		t.Fatalf("read %d records back", len(got))
	}

	// Lowered again, the limit applies to new records; stored ones still read.
	if err := s.UpdateMaxRecordSize(ctx, "s", 2048); err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: huge[:2048<<10]}})
	wantCode(t, err, apierr.InvalidArgument)
	out, err := s.GetRecords(ctx, it0(t, s), 10)
	if err != nil || len(out.Records) != 1 || len(out.Records[0].Data) != len(huge) {
		t.Fatalf("GetRecords after lowering the limit: %d records, %v", len(out.Records), err)
	}
	out.Release()
}

func it0(t *testing.T, s *Store) string {
	t.Helper()
	it, err := s.ShardIterator(context.Background(), "s", ShardID(0), Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestSettingsSurviveRestart checks that every setting of the update
// actions is persisted.
func TestSettingsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s", 1)
	steps := []error{
		s.UpdateMaxRecordSize(ctx, "s", 4096),
		func() error { _, err := s.UpdateAccountSettings(ctx, true); return err }(),
		s.UpdateStreamMode(ctx, "s", ModeOnDemand, nil),
		func() error { _, err := s.UpdateWarmThroughput(ctx, "s", 42); return err }(),
		s.TagResource(ctx, s.StreamARN("s"), map[string]string{"team": "data"}),
		s.PutResourcePolicy(ctx, s.StreamARN("s"), `{"Statement":[]}`),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	before, _ := s.DescribeStreamSummary(ctx, "s")
	acct, _ := s.AccountSettings(ctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	after, _ := s.DescribeStreamSummary(ctx, "s")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after restart:\n%+v\nwant\n%+v", after, before)
	}
	if after.MaxRecordSizeKiB != 4096 || after.Mode != ModeOnDemand || after.WarmThroughput.TargetMiBps != 42 {
		t.Errorf("after restart: %+v", after)
	}
	if a, _ := s.AccountSettings(ctx); !reflect.DeepEqual(a, acct) || a.Status != CommitmentEnabled {
		t.Errorf("account settings after restart: %+v, want %+v", a, acct)
	}
	if p := s.ResourcePolicy(s.StreamARN("s")); p != `{"Statement":[]}` {
		t.Errorf("policy after restart = %q", p)
	}
	if tags, _ := s.ListTagsForResource(ctx, s.StreamARN("s")); len(tags) != 1 || tags[0] != (Tag{"team", "data"}) {
		t.Errorf("tags after restart = %v", tags)
	}
	if err := s.UpdateStreamMode(ctx, "s", ModeProvisioned, nil); err != nil {
		t.Fatal(err)
	}
	// The 24-hour switch window survives the restart too.
	wantCode(t, s.UpdateStreamMode(ctx, "s", ModeOnDemand, nil), apierr.LimitExceeded)
}

func TestAccountSettings(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openTest(t, "", WithClock(clk.now))
	start := clk.now().UTC()
	steps := []struct {
		advance time.Duration
		enable  bool
		want    AccountSettings
	}{
		{enable: false, want: AccountSettings{Status: CommitmentDisabled}},
		{enable: true, want: AccountSettings{Status: CommitmentEnabled, StartedAt: start, EarliestAllowedEndAt: start.Add(MinCommitment)}},
		{advance: time.Hour, enable: true, want: AccountSettings{Status: CommitmentEnabled, StartedAt: start, EarliestAllowedEndAt: start.Add(MinCommitment)}},
		// Ending before the earliest end schedules it for then.
		{enable: false, want: AccountSettings{Status: CommitmentEnding, StartedAt: start, EarliestAllowedEndAt: start.Add(MinCommitment), EndedAt: start.Add(MinCommitment)}},
		// Enabling again cancels that.
		{advance: time.Hour, enable: true, want: AccountSettings{Status: CommitmentEnabled, StartedAt: start, EarliestAllowedEndAt: start.Add(MinCommitment)}},
		// After the earliest end, ending is immediate.
		{advance: 23 * time.Hour, enable: false, want: AccountSettings{Status: CommitmentDisabled, StartedAt: start, EarliestAllowedEndAt: start.Add(MinCommitment), EndedAt: start.Add(25 * time.Hour)}},
		// A new commitment starts afresh.
		{advance: time.Hour, enable: true, want: AccountSettings{Status: CommitmentEnabled, StartedAt: start.Add(26 * time.Hour), EarliestAllowedEndAt: start.Add(26*time.Hour + MinCommitment)}},
	}
	for i, st := range steps {
		clk.advance(st.advance)
		got, err := s.UpdateAccountSettings(ctx, st.enable)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, st.want) {
			t.Fatalf("step %d: got %+v, want %+v", i, got, st.want)
		}
		if d, _ := s.AccountSettings(ctx); !reflect.DeepEqual(d, got) {
			t.Fatalf("step %d: AccountSettings = %+v, Update answered %+v", i, d, got)
		}
	}
	// A scheduled end happens by itself.
	clk.advance(time.Hour)
	if _, err := s.UpdateAccountSettings(ctx, false); err != nil {
		t.Fatal(err)
	}
	clk.advance(MinCommitment)
	if d, _ := s.AccountSettings(ctx); d.Status != CommitmentDisabled {
		t.Fatalf("after the earliest end: %+v, want DISABLED", d)
	}
}
