package throttle

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// at is t0 plus ms milliseconds: the fake clock of these tests.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// step is one call at a time on the fake clock and what it must answer.
type step struct {
	ms   int
	size int // bytes of the record (Write) or read (Charge after Read)
	want bool
}

func TestMeterWrite(t *testing.T) {
	const kib = 1 << 10
	tests := []struct {
		name  string
		rates Rates
		steps []step
	}{
		{"a full second of records passes at once, the next waits for a refill", ProvisionedShard, func() []step {
			var s []step
			for range 1000 {
				s = append(s, step{0, 1, true})
			}
			return append(s, step{0, 1, false}, step{1, 1, true}, step{1, 1, false}, step{3, 1, true})
		}()},
		{"a second of bytes passes, then 1 KiB per ms comes back", ProvisionedShard, []step{
			{0, 1024 * kib, true}, {0, 1, false}, {1, kib, true}, {1, 100, false}, {2, kib, true},
		}},
		{"a record larger than the bucket passes when it is full and leaves a debt", ProvisionedShard, []step{
			{0, 10 << 20, true}, {1000, 1, false}, {8999, 1, false}, {9001, 1, true},
		}},
		{"a record larger than the bucket waits for it to be full", ProvisionedShard, []step{
			{0, 1, true}, {0, 2 << 20, false}, {1, 2 << 20, true},
		}},
		{"a refused record takes nothing", ProvisionedShard, []step{
			{0, 1000 * kib, true}, {0, 100 * kib, false}, {0, 24 * kib, true},
		}},
		{"an idle bucket holds one second, not more", ProvisionedShard, []step{
			{60_000, 1024 * kib, true}, {60_000, 1, false},
		}},
		{"a clock that steps back earns nothing", ProvisionedShard, []step{
			{1000, 1024 * kib, true}, {0, 1, false}, {1000, 1, false}, {1001, 1, true},
		}},
		{"the on-demand stream takes four shards' worth", OnDemandStream, []step{
			{0, 4 << 20, true}, {0, 1, false}, {250, 1 << 20, true},
		}},
		{"a zero rate is no limit", Rates{ReadCalls: 5}, []step{
			{0, 100 << 20, true}, {0, 100 << 20, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMeter(tt.rates, t0)
			for i, s := range tt.steps {
				if got := m.Write(at(s.ms), s.size); got != s.want {
					t.Fatalf("step %d (%d ms, %d bytes): Write = %v, want %v", i, s.ms, s.size, got, s.want)
				}
			}
		})
	}
}

func TestMeterRead(t *testing.T) {
	tests := []struct {
		name  string
		rates Rates
		steps []step // size: bytes the admitted call read
	}{
		{"five calls a second", ProvisionedShard, []step{
			{0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, false},
			{199, 0, false}, {200, 0, true}, {200, 0, false},
		}},
		{"10 MiB read refuses the next calls until the debt is paid", ProvisionedShard, []step{
			{0, 10 << 20, true}, {1000, 0, false}, {3999, 0, false}, {4001, 0, true},
		}},
		{"2 MiB a second in small reads passes", ProvisionedShard, []step{
			{0, 400 << 10, true}, {200, 400 << 10, true}, {400, 400 << 10, true}, {600, 400 << 10, true},
			{800, 400 << 10, true}, {1000, 400 << 10, true}, {1200, 400 << 10, true},
		}},
		{"a call refused for the bytes still counts as a call", ProvisionedShard, []step{
			{0, 2 << 20, true}, {0, 0, false}, {0, 0, false}, {0, 0, false}, {0, 0, false},
			{1, 0, false}, // the debt is paid (1 ms earns 2 KiB) but the calls are spent
			{200, 0, true},
		}},
		{"a meter without a byte rate limits calls only", Rates{ReadCalls: 5}, []step{
			{0, 100 << 20, true}, {0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMeter(tt.rates, t0)
			for i, s := range tt.steps {
				got := m.Read(at(s.ms))
				if got != s.want {
					t.Fatalf("step %d (%d ms): Read = %v, want %v", i, s.ms, got, s.want)
				}
				if got {
					m.Charge(at(s.ms), s.size)
				}
			}
		})
	}
}

func TestActions(t *testing.T) {
	a := NewActions(map[string]float64{"DescribeStream": 10, "DescribeLimits": 1}, t0)
	for i := range 10 {
		if !a.Allow(t0, "DescribeStream") {
			t.Fatalf("call %d of the first second refused", i)
		}
	}
	steps := []struct {
		ms     int
		action string
		want   bool
	}{
		{0, "DescribeStream", false},
		{0, "DescribeLimits", true}, // its own bucket
		{0, "DescribeLimits", false},
		{0, "ListShards", true}, // no rate: no limit
		{99, "DescribeStream", false},
		{100, "DescribeStream", true},
		{999, "DescribeLimits", false},
		{1000, "DescribeLimits", true},
	}
	for i, s := range steps {
		if got := a.Allow(at(s.ms), s.action); got != s.want {
			t.Fatalf("step %d (%d ms, %s): Allow = %v, want %v", i, s.ms, s.action, got, s.want)
		}
	}
	if a.Rate("DescribeStream") != 10 || a.Rate("ListShards") != 0 {
		t.Fatalf("Rate: %v, %v", a.Rate("DescribeStream"), a.Rate("ListShards"))
	}
}

func TestReadDelay(t *testing.T) {
	m := NewMeter(FanOutShard, t0)
	if d := m.ReadDelay(t0); d != 0 {
		t.Fatalf("a full bucket: ReadDelay = %v, want 0", d)
	}
	// 2 MiB fills the bucket's second; 3 MiB more is 1.5 s of debt.
	m.Charge(t0, 5<<20)
	if d := m.ReadDelay(t0); d < 1500*time.Millisecond || d > 1500*time.Millisecond+time.Microsecond {
		t.Fatalf("1.5 s of debt: ReadDelay = %v", d)
	}
	if d := m.ReadDelay(t0.Add(time.Second)); d < 500*time.Millisecond || d > 500*time.Millisecond+time.Microsecond {
		t.Fatalf("a second later: ReadDelay = %v, want 0.5 s", d)
	}
	if d := m.ReadDelay(t0.Add(1500*time.Millisecond + time.Microsecond)); d != 0 {
		t.Fatalf("once paid back: ReadDelay = %v, want 0", d)
	}
	if d := NewMeter(Rates{}, t0).ReadDelay(t0); d != 0 {
		t.Fatalf("no limit: ReadDelay = %v, want 0", d)
	}
}
