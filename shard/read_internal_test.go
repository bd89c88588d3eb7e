package shard

import (
	"fmt"
	"testing"
)

func TestAppendSeqCounterMatchesFormatSeq(t *testing.T) {
	tests := []struct {
		streamID, shard uint32
		ctr             uint64
	}{
		{0, 0, 0},
		{1, 2, 3},
		{4294967295, 4294967295, 18446744073709551615},
		{7, 0, 1234567890123},
	}
	for _, tt := range tests {
		// The layout, spelled out: "49", then the fields zero-padded.
		layout := fmt.Sprintf("49%010d%012d%032d", tt.streamID, tt.shard, tt.ctr)
		if got := string(appendSeq([]byte("x"), tt.streamID, tt.shard, tt.ctr)); got != "x"+layout {
			t.Errorf("appendSeq(x, %d, %d, %d) = %s, want x%s", tt.streamID, tt.shard, tt.ctr, got, layout)
		}
		prefix := appendSeq(nil, tt.streamID, tt.shard, 0)[:SequenceNumberLen-seqCounterDigits]
		got := string(appendSeqCounter(nil, prefix, tt.ctr))
		if want := formatSeq(tt.streamID, tt.shard, tt.ctr); got != want {
			t.Errorf("appendSeqCounter(%d, %d, %d) = %s, want %s", tt.streamID, tt.shard, tt.ctr, got, want)
		}
	}
}

// TestIncrementSeq: incrementing the previous sequence number's digits
// gives what formatting the next counter gives, across carries.
func TestIncrementSeq(t *testing.T) {
	prefix := appendSeq(nil, 7, 3, 0)[:SequenceNumberLen-seqCounterDigits]
	for _, ctr := range []uint64{0, 8, 9, 99, 1999, 123456789, 9999999999999999999, 18446744073709551614} {
		seq := appendSeqCounter(nil, prefix, ctr)
		incrementSeq(seq)
		if got, want := string(seq), formatSeq(7, 3, ctr+1); got != want {
			t.Errorf("next after %d = %s, want %s", ctr, got, want)
		}
	}
}
