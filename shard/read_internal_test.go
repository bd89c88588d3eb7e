package shard

import "testing"

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
		prefix := appendSeq(nil, tt.streamID, tt.shard, 0)[:SequenceNumberLen-seqCounterDigits]
		got := string(appendSeqCounter(nil, prefix, tt.ctr))
		if want := formatSeq(tt.streamID, tt.shard, tt.ctr); got != want {
			t.Errorf("appendSeqCounter(%d, %d, %d) = %s, want %s", tt.streamID, tt.shard, tt.ctr, got, want)
		}
	}
}
