package nexmark

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestDeterministic(t *testing.T) {
	a, _ := New(Config{Seed: 7}).Records(5000)
	b, _ := New(Config{Seed: 7}).Records(5000)
	c, _ := New(Config{Seed: 8}).Records(5000)
	same, differ := true, false
	for i := range a {
		same = same && bytes.Equal(a[i], b[i])
		differ = differ || !bytes.Equal(a[i], c[i])
	}
	if !same {
		t.Error("the same seed gave different records")
	}
	if !differ {
		t.Error("different seeds gave the same records")
	}
}

func TestRecordsAreNexmarkBids(t *testing.T) {
	const n = 40_000
	g := New(Config{Seed: 1, BidsPerSecond: 400})
	data, arrival := g.Records(n)
	type bid struct {
		Auction  *int64  `json:"auction"`
		Bidder   *int64  `json:"bidder"`
		Price    *int64  `json:"price"`
		Channel  *string `json:"channel"`
		URL      *string `json:"url"`
		DateTime *string `json:"date_time"`
		Extra    *string `json:"extra"`
	}
	auctions := map[int64]int{}
	bidders := map[int64]int{}
	hotChannel := 0
	var prev int64
	for i, d := range data {
		var b bid
		if err := json.Unmarshal(d, &b); err != nil {
			t.Fatalf("record %d %s: %v", i, d, err)
		}
		if b.Auction == nil || b.Bidder == nil || b.Price == nil || b.Channel == nil || b.URL == nil || b.DateTime == nil || b.Extra == nil {
			t.Fatalf("record %d lacks a field: %s", i, d)
		}
		ts, err := time.Parse(time.RFC3339Nano, *b.DateTime)
		if err != nil || ts.UnixMilli() != arrival[i] {
			t.Fatalf("record %d: date_time %q, arrival %d", i, *b.DateTime, arrival[i])
		}
		if arrival[i] < prev {
			t.Fatalf("record %d goes back in time", i)
		}
		prev = arrival[i]
		if *b.Price < 100 || *b.Price > 100_000_000 || *b.Auction < firstAuctionID || *b.Bidder < firstPersonID {
			t.Fatalf("record %d out of range: %s", i, d)
		}
		auctions[*b.Auction]++
		bidders[*b.Bidder]++
		for _, h := range hotChannels {
			if *b.Channel == h {
				hotChannel++
			}
		}
	}
	// 400 bids a second for 100 s.
	if got := time.Duration(arrival[n-1]-arrival[0]) * time.Millisecond; got < 99*time.Second || got > 100*time.Second {
		t.Errorf("the bids span %v, want 100 s", got)
	}
	// Skew as in Nexmark: about half the bids go to hot auctions (one per
	// 100 auctions), three quarters come from hot bidders, half use hot
	// channels; so the busiest 1 % of auctions and bidders take a share
	// far above 1 %.
	if s := topShare(auctions, len(auctions)/100+1); s < 0.4 {
		t.Errorf("the top 1%% of %d auctions have %.0f%% of the bids, want at least 40%%", len(auctions), s*100)
	}
	if s := topShare(bidders, len(bidders)/100+1); s < 0.6 {
		t.Errorf("the top 1%% of %d bidders have %.0f%% of the bids, want at least 60%%", len(bidders), s*100)
	}
	if f := float64(hotChannel) / n; f < 0.45 || f > 0.55 {
		t.Errorf("%.0f%% of bids use a hot channel, want about 50%%", f*100)
	}
}

// topShare is the fraction of all counts held by the k largest.
func topShare(counts map[int64]int, k int) float64 {
	var all []int
	total := 0
	for _, c := range counts {
		all = append(all, c)
		total += c
	}
	// partial selection is plenty for a test
	top := 0
	for range k {
		best := 0
		for i, c := range all {
			if c > all[best] {
				best = i
			}
		}
		top += all[best]
		all[best] = 0
	}
	return float64(top) / float64(total)
}
