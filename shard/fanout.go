package shard

// What enhanced fan-out (SubscribeToShard, served by package kinesisapi)
// needs of the store besides Seek, Read and Wait: a continuation sequence
// number for a cursor, and whether a consumer's reads are held to its own
// throughput.

// ContinuationSequenceNumber is the sequence number from which
// AFTER_SEQUENCE_NUMBER resumes reading at c: that of the record before
// the cursor (which may not exist: counters can skip, and the counter
// before a shard's first record is 0), so it can be handed out even when
// nothing has been read, as SubscribeToShard's ContinuationSequenceNumber
// is.
func (c Cursor) ContinuationSequenceNumber() string {
	ctr := c.next
	if ctr > 0 {
		ctr--
	}
	return formatSeq(c.streamID, c.shard, ctr)
}

// FanOutLimited reports whether an enhanced fan-out consumer's reads of
// the stream are held to a throughput of their own per shard
// (throttle.FanOutShard, which the reader enforces): under
// WithThroughputLimits, for a stream that is not internal. A stream that
// does not exist is not limited (reading it fails anyway).
func (s *Store) FanOutLimited(name string) bool {
	if !s.cfg.limits {
		return false
	}
	s.mu.RLock()
	st, err := s.lookup(name)
	s.mu.RUnlock()
	if err != nil {
		return false
	}
	limited, _ := s.limited(st)
	return limited
}
