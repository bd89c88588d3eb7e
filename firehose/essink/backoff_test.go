package essink

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	c := &Client{cfg: defaultConfig()}
	WithBackoff(100*time.Millisecond, 5*time.Second)(&c.cfg)
	tests := []struct {
		round int
		full  time.Duration // before jitter
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{6, 3200 * time.Millisecond},
		{7, 5 * time.Second}, // capped
		{1000, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.full.String(), func(t *testing.T) {
			for range 200 {
				if got := c.backoff(tt.round); got < tt.full/2 || got > tt.full {
					t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tt.round, got, tt.full/2, tt.full)
				}
			}
		})
	}
}

func TestChunks(t *testing.T) {
	c := &Client{cfg: defaultConfig()}
	WithMaxBulkBytes(120)(&c.cfg) // each small document counts 52 bytes with its action line
	docs := make([]Doc, 5)
	states := make([]docState, 5)
	sizes := []int{10, 10, 200, 10, 10} // the third is larger than a request on its own
	for i := range docs {
		docs[i] = Doc{ID: "i", Index: "x"}
		states[i].body = make([]byte, sizes[i])
	}
	got := c.chunks(docs, states, []int{0, 1, 2, 3, 4})
	want := [][]int{{0, 1}, {2}, {3, 4}}
	if len(got) != len(want) {
		t.Fatalf("chunks = %v, want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("chunks = %v, want %v", got, want)
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("chunks = %v, want %v", got, want)
			}
		}
	}
}
