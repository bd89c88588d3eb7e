package shard

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/membudget"
	"github.com/spatehq/spate/internal/throttle"
)

// Cursor is an in-process read position in one shard: the next record to
// read. It is a value; Read returns the cursor to continue from.
type Cursor struct {
	Stream   string
	ShardID  string
	streamID uint32
	shard    uint32
	next     uint64
}

// SequenceNumber is the sequence number of the next record the cursor
// reads (it may not exist yet). Seek with AT_SEQUENCE_NUMBER resumes there.
func (c Cursor) SequenceNumber() string { return formatSeq(c.streamID, c.shard, c.next) }

// ReadResult is what Read returns.
type ReadResult struct {
	Records []Record
	Next    Cursor
	// MillisBehindLatest is 0 when the read reached the tip of the shard,
	// otherwise the age of the next unread record.
	MillisBehindLatest int64
	// ShardEnded is set when the shard is closed and every record has been
	// read; ChildShards then names the shards that continue it.
	ShardEnded  bool
	ChildShards []ChildShard
}

// resolveShard finds an ACTIVE stream's shard. The caller holds s.mu.
func (s *Store) resolveShard(name, shardID string) (*stream, *shardState, error) {
	st, err := s.lookupActive(name)
	if err != nil {
		return nil, nil, err
	}
	idx, ok := parseShardID(shardID)
	if !ok || int(idx) >= len(st.shards) || st.shards[idx].gone.Load() {
		return nil, nil, apierr.New(apierr.ResourceNotFound,
			"Shard %s in stream %s under account %s does not exist; list shards with ListShards", shardID, name, s.cfg.accountID)
	}
	return st, st.shards[idx], nil
}

// Seek returns a cursor at pos in a shard of an ACTIVE stream.
func (s *Store) Seek(ctx context.Context, name, shardID string, pos Position) (Cursor, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return Cursor{}, errClosed
	}
	s.mu.RLock()
	st, sh, err := s.resolveShard(name, shardID)
	s.mu.RUnlock()
	if err != nil {
		return Cursor{}, err
	}
	next, err := s.positionCounter(st, sh, pos)
	if err != nil {
		return Cursor{}, err
	}
	return Cursor{Stream: name, ShardID: sh.id, streamID: sh.streamID, shard: sh.index, next: next}, nil
}

func (s *Store) positionCounter(st *stream, sh *shardState, pos Position) (uint64, error) {
	if err := checkPositionArgs(pos); err != nil {
		return 0, err
	}
	switch pos.Type {
	case TrimHorizon:
		return 0, nil
	case Latest:
		return sh.next.Load(), nil
	case AtSequenceNumber, AfterSequenceNumber:
		if pos.SequenceNumber == "" {
			return 0, apierr.New(apierr.InvalidArgument,
				"StartingSequenceNumber is required with ShardIteratorType %s", pos.Type)
		}
		id, idx, ctr, err := parseSeq(pos.SequenceNumber)
		if err != nil {
			return 0, err
		}
		if id != st.id || idx != sh.index {
			return 0, apierr.New(apierr.InvalidArgument,
				"StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream and shard.",
				pos.SequenceNumber, sh.id, st.name, s.cfg.accountID)
		}
		// AT may name the next number (Cursor.SequenceNumber does); AFTER
		// may not, or the record that gets it would be skipped.
		if ctr > sh.next.Load() || (pos.Type == AfterSequenceNumber && ctr == sh.next.Load() && ctr != 0) {
			return 0, apierr.New(apierr.InvalidArgument,
				"StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s is invalid: no record with that number has been written yet.",
				pos.SequenceNumber, sh.id, st.name)
		}
		if pos.Type == AfterSequenceNumber {
			ctr++
		}
		return ctr, nil
	case AtTimestamp:
		if pos.Timestamp.IsZero() {
			return 0, apierr.New(apierr.InvalidArgument, "Timestamp is required with ShardIteratorType AT_TIMESTAMP")
		}
		return s.counterAtTime(sh, toMillis(pos.Timestamp))
	case "":
		return 0, apierr.New(apierr.InvalidArgument, "ShardIteratorType is required: use TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP")
	}
	return 0, apierr.New(apierr.InvalidArgument,
		"ShardIteratorType %q is invalid: use TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP", pos.Type)
}

// checkPositionArgs rejects a starting sequence number or timestamp given
// with an iterator type that does not use it, as Kinesis does.
func checkPositionArgs(pos Position) error {
	usesSeq := pos.Type == AtSequenceNumber || pos.Type == AfterSequenceNumber
	if pos.SequenceNumber != "" && !usesSeq {
		return apierr.New(apierr.InvalidArgument,
			"StartingSequenceNumber is only allowed with ShardIteratorType AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER, not %s", pos.Type)
	}
	if !pos.Timestamp.IsZero() && pos.Type != AtTimestamp {
		return apierr.New(apierr.InvalidArgument,
			"Timestamp is only allowed with ShardIteratorType AT_TIMESTAMP, not %s", pos.Type)
	}
	return nil
}

// counterAtTime returns the counter of the first record that arrived at or
// after ms, through the time index (one seek), or the shard's tip when none
// has yet.
func (s *Store) counterAtTime(sh *shardState, ms int64) (uint64, error) {
	if ms < 0 {
		ms = 0
	}
	lower := timeKey(sh.streamID, sh.index, ms)
	upper := timeKey(sh.streamID, sh.index+1, 0)[:shardPrefixLen] // shard indexes never reach 2^32-1
	tip := sh.next.Load()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, fmt.Errorf("seek time index of %s: %w", sh.id, err)
	}
	defer it.Close()
	if it.First() {
		return min(binary.BigEndian.Uint64(it.Value()), tip), it.Error()
	}
	return tip, it.Error()
}

// lookupCursor finds the stream and shard of a cursor.
func (s *Store) lookupCursor(c Cursor) (*stream, *shardState, error) {
	s.mu.RLock()
	st, ok := s.byID[c.streamID]
	var shards []*shardState // replaced whole by a reshard (reshard.go)
	if ok {
		shards = st.shards
	}
	s.mu.RUnlock()
	if !ok || st.deleted.Load() || int(c.shard) >= len(shards) {
		if c.Stream != "" {
			return nil, nil, apierr.New(apierr.ResourceNotFound,
				"Shard %s in stream %s under account %s does not exist: the stream was deleted", ShardID(c.shard), c.Stream, s.cfg.accountID)
		}
		return nil, nil, apierr.New(apierr.ResourceNotFound,
			"Shard %s under account %s does not exist: the stream this iterator belongs to was deleted", ShardID(c.shard), s.cfg.accountID)
	}
	return st, shards[c.shard], nil
}

// Read returns up to limit records (and at most maxBytes of data, but always
// at least one record when one is available) from the cursor on. It never
// blocks; use Wait to block until records arrive.
//
// Under a read budget (WithReadBudget) it waits, as long as ctx allows, for
// the memory the read may take, and gives it back before it returns.
func (s *Store) Read(ctx context.Context, c Cursor, limit, maxBytes int) (ReadResult, error) {
	res, hold, err := s.read(ctx, c, limit, maxBytes, admitInternal)
	hold.Release()
	return res, err
}

// read is Read admitted under the read budget as adm says. The hold it
// returns (nil without a budget) is what the result's records cost; the
// caller releases it once they are no longer used.
func (s *Store) read(ctx context.Context, c Cursor, limit, maxBytes int, adm readAdmission) (ReadResult, *membudget.Hold, error) {
	var sink arenaSink
	res, hold, err := s.readInto(ctx, c, limit, maxBytes, adm, &sink)
	if err == nil {
		res.Records = sink.finish()
	}
	return res.ReadResult, hold, err
}

// readInto is read with the records handed to sink instead of returned.
// The hold covers what sink holds (RecordSink.HeldBytes); with any sink but
// the arena of read, that is the encoded reply itself, so adm.reply counts
// nothing more.
func (s *Store) readInto(ctx context.Context, c Cursor, limit, maxBytes int, adm readAdmission, sink RecordSink) (readResult, *membudget.Hold, error) {
	if s.closed.Load() {
		return readResult{}, nil, errClosed
	}
	st, sh, err := s.lookupCursor(c)
	if err != nil {
		return readResult{}, nil, err
	}
	c.Stream = st.name
	c.ShardID = sh.id
	tip := sh.next.Load()
	want := 0
	if c.next < tip && limit > 0 {
		want = int(min(uint64(limit), tip-c.next))
	}
	// Admitted before closeMu: a read queued for memory must not hold up
	// Close (a waiting writer of an RWMutex blocks new readers too).
	hold, err := s.admitRead(ctx, st, sh, c, want, maxBytes, adm)
	if err != nil {
		return readResult{}, nil, err
	}
	res, err := s.readAdmitted(ctx, st, sh, c, tip, want, maxBytes, sink)
	if err != nil {
		hold.Release()
		return readResult{}, nil, err
	}
	if _, ok := sink.(*arenaSink); !ok {
		adm.reply = false
	}
	hold.Shrink(readCost(sink.HeldBytes(), int64(res.dataBytes), int64(res.records), adm))
	return res, hold, nil
}

// readResult is a ReadResult (without its records, which went to a sink)
// with the number of records read and the bytes of data and partition keys
// they hold.
type readResult struct {
	ReadResult
	records   int
	dataBytes int
}

// readAdmitted reads up to want records (tip is the shard's high-water mark
// when the read was admitted) into sink.
func (s *Store) readAdmitted(ctx context.Context, st *stream, sh *shardState, c Cursor, tip uint64, want, maxBytes int, sink RecordSink) (readResult, error) {
	// Close waits for reads in progress, and a read after Close fails
	// cleanly instead of touching a closed database.
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return readResult{}, errClosed
	}
	res := ReadResult{Next: c}
	outBytes := 0 // data plus partition keys, for the metrics and the budget
	n := 0
	if want > 0 {
		lower := recordKey(c.streamID, c.shard, c.next)
		upper := recordKey(c.streamID, c.shard, tip)
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			return readResult{}, fmt.Errorf("read %s: %w", sh.id, err)
		}
		bytes := 0
		var prevCtr uint64
		var sealed *opener // opens sealed records (encryption.go); made at the first one
		var seqBuf [SequenceNumberLen]byte
		seqPrefix := appendSeq(nil, c.streamID, c.shard, 0)[:SequenceNumberLen-seqCounterDigits]
		var r RecordView
		it.First()
		for ; it.Valid(); it.Next() {
			v := it.Value()
			if n == want || (n > 0 && bytes+len(v) > maxBytes) {
				arrival := arrivalOf(v)
				res.MillisBehindLatest = max(0, s.cfg.now().UnixMilli()-arrival)
				break
			}
			ctr := counterOfRecordKey(it.Key())
			r.Encrypted = isSealed(v)
			if !r.Encrypted {
				r.ArrivalMs, r.PartitionKey, r.Data, err = decodeRecordBytes(v)
			} else {
				if sealed == nil {
					sealed = new(opener)
				}
				r.ArrivalMs, r.PartitionKey, r.Data, err = sealed.open(s, st, it.Key(), v)
			}
			if err != nil {
				_ = it.Close()
				return readResult{}, fmt.Errorf("read %s counter %d: %w", sh.id, ctr, err)
			}
			// Consecutive counters (the common case) get the previous
			// sequence number plus one instead of formatting it again.
			if n > 0 && ctr == prevCtr+1 {
				incrementSeq(r.SequenceNumber) // seqBuf, which sinks do not keep
			} else {
				r.SequenceNumber = appendSeqCounter(seqBuf[:0], seqPrefix, ctr)
			}
			prevCtr = ctr
			r.RecordsLeft, r.BytesLeft, r.ValueLen = want-n, maxBytes-bytes, len(v)
			if err := sink.AppendRecord(&r); err != nil {
				_ = it.Close()
				return readResult{}, fmt.Errorf("read %s counter %d: %w", sh.id, ctr, err)
			}
			n++
			bytes += len(v)
			outBytes += len(r.PartitionKey) + len(r.Data)
			res.Next.next = ctr + 1
		}
		reachedTip := !it.Valid()
		if err := it.Close(); err != nil {
			return readResult{}, fmt.Errorf("read %s: %w", sh.id, err)
		}
		if reachedTip {
			res.Next.next = tip
		}
	}
	if end, closed := sh.ending(); closed && res.Next.next > end && res.Next.next >= tip {
		res.ShardEnded = true
		res.ChildShards = s.childShards(st, sh)
	}
	s.noteRead(ctx, sh, n, outBytes, res.MillisBehindLatest)
	return readResult{ReadResult: res, records: n, dataBytes: outBytes}, nil
}

// childShards lists the shards whose parent or adjacent parent is sh.
func (s *Store) childShards(st *stream, sh *shardState) []ChildShard {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []ChildShard
	for _, m := range st.meta.Shards {
		isChild := (m.Parent != nil && *m.Parent == sh.index) || (m.AdjacentParent != nil && *m.AdjacentParent == sh.index)
		if !isChild {
			continue
		}
		c := ChildShard{ShardID: ShardID(m.Index), HashKeyRange: HashKeyRange{Start: m.HashStart, End: m.HashEnd}}
		for _, p := range []*uint32{m.Parent, m.AdjacentParent} {
			if p != nil {
				c.ParentShards = append(c.ParentShards, ShardID(*p))
			}
		}
		out = append(out, c)
	}
	return out
}

// Wait blocks until the shard has a record at or after the cursor, the shard
// or stream ends, or ctx is done. It does not poll: appends wake it.
func (s *Store) Wait(ctx context.Context, c Cursor) error {
	for {
		st, sh, err := s.lookupCursor(c)
		if err != nil {
			return err
		}
		// Take the channel before checking anything, so an append or a
		// deletion between the checks and the select still wakes us.
		ch := sh.waitCh()
		if st.deleted.Load() || sh.next.Load() > c.next || sh.drained() {
			return nil // Read reports the deletion
		}
		select {
		case <-ch:
		case <-s.closing:
			return errClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Subscribe reads a shard from pos and calls fn with every batch of records
// as they are appended, until ctx is done, fn returns an error, or the shard
// ends (then fn gets a final result with ShardEnded set).
func (s *Store) Subscribe(ctx context.Context, name, shardID string, pos Position, fn func(ReadResult) error) error {
	return s.subscribe(ctx, name, shardID, pos, func() RecordSink { return new(arenaSink) },
		func(res ReadResult, sink RecordSink) error {
			res.Records = sink.(*arenaSink).finish()
			return fn(res)
		})
}

// SubscribeInto is Subscribe with each batch's records handed to a sink
// from newSink (one a batch) instead of returned: fn gets the batch (its
// Records empty) and the sink that took its records, and the batch holds
// the read budget until fn returns.
func (s *Store) SubscribeInto(ctx context.Context, name, shardID string, pos Position, newSink func() RecordSink, fn func(ReadResult, RecordSink) error) error {
	return s.subscribe(ctx, name, shardID, pos, newSink, fn)
}

func (s *Store) subscribe(ctx context.Context, name, shardID string, pos Position, newSink func() RecordSink, fn func(ReadResult, RecordSink) error) error {
	c, err := s.Seek(ctx, name, shardID, pos)
	if err != nil {
		return err
	}
	for {
		// Each batch holds the read budget until fn has sent it.
		sink := newSink()
		res, hold, err := s.readInto(ctx, c, MaxGetRecordsLimit, MaxGetRecordsBytes, admitSubscribe, sink)
		if err != nil {
			return err
		}
		if res.records > 0 || res.ShardEnded {
			err = fn(res.ReadResult, sink)
		}
		hold.Release()
		if err != nil {
			return err
		}
		if res.ShardEnded {
			return nil
		}
		c = res.Next
		if res.MillisBehindLatest == 0 && res.records < MaxGetRecordsLimit {
			if err := s.Wait(ctx, c); err != nil {
				return err
			}
		}
	}
}

// Shard iterators are opaque tokens:
//
//	version (1) | stream ID (4) | shard (4) | next counter (8) | issued ms (8) | HMAC-SHA256 prefix (16)
//
// base64url-encoded. The HMAC key is a random secret kept in the database,
// so iterators survive a restart but cannot be forged or altered.
const (
	iteratorVersion = 1
	iteratorBody    = 1 + 4 + 4 + 8 + 8
	iteratorMACLen  = 16
)

func (s *Store) encodeIterator(c Cursor, issuedMs int64) string {
	var b [iteratorBody + iteratorMACLen]byte
	b[0] = iteratorVersion
	binary.BigEndian.PutUint32(b[1:], c.streamID)
	binary.BigEndian.PutUint32(b[5:], c.shard)
	binary.BigEndian.PutUint64(b[9:], c.next)
	binary.BigEndian.PutUint64(b[17:], uint64(issuedMs))
	mac := hmac.New(sha256.New, s.iterSecret)
	mac.Write(b[:iteratorBody])
	copy(b[iteratorBody:], mac.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Store) decodeIterator(tok string) (Cursor, error) {
	invalid := apierr.New(apierr.InvalidArgument,
		"Invalid ShardIterator: it was not issued by this server or was altered; get one with GetShardIterator")
	b, err := base64.RawURLEncoding.DecodeString(tok)
	// Only the canonical encoding is accepted (the decoder would also skip
	// newlines and ignore trailing bits), so one iterator has one spelling.
	if err != nil || len(b) != iteratorBody+iteratorMACLen || b[0] != iteratorVersion ||
		base64.RawURLEncoding.EncodeToString(b) != tok {
		return Cursor{}, invalid
	}
	mac := hmac.New(sha256.New, s.iterSecret)
	mac.Write(b[:iteratorBody])
	if !hmac.Equal(mac.Sum(nil)[:iteratorMACLen], b[iteratorBody:]) {
		return Cursor{}, invalid
	}
	issued := int64(binary.BigEndian.Uint64(b[17:]))
	now := s.cfg.now().UnixMilli()
	if now-issued > s.cfg.iteratorTTL.Milliseconds() {
		return Cursor{}, apierr.New(apierr.ExpiredIterator,
			"Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds. Get a new one with GetShardIterator.",
			fromMillis(issued).Format("Mon Jan 02 15:04:05 UTC 2006"), fromMillis(now).Format("Mon Jan 02 15:04:05 UTC 2006"), s.cfg.iteratorTTL.Milliseconds())
	}
	return Cursor{
		streamID: binary.BigEndian.Uint32(b[1:]),
		shard:    binary.BigEndian.Uint32(b[5:]),
		next:     binary.BigEndian.Uint64(b[9:]),
	}, nil
}

// ShardIterator returns an opaque shard iterator at pos, valid for five
// minutes (GetShardIterator).
func (s *Store) ShardIterator(ctx context.Context, name, shardID string, pos Position) (string, error) {
	c, err := s.Seek(ctx, name, shardID, pos)
	if err != nil {
		return "", err
	}
	return s.encodeIterator(c, s.cfg.now().UnixMilli()), nil
}

// GetRecords reads up to limit records (0 means 10,000) and at most 10 MiB
// from a shard iterator and returns the iterator to continue from.
//
// Under a read budget (WithReadBudget) it queues for the memory the read and
// its reply may take for at most the budget's wait, and otherwise fails with
// ProvisionedThroughputExceededException; the output then holds that memory
// until its Release, which the caller must call once it has written the
// reply.
func (s *Store) GetRecords(ctx context.Context, iterator string, limit int) (GetRecordsOutput, error) {
	var sink arenaSink
	out, err := s.getRecords(ctx, iterator, limit, &sink)
	if err == nil {
		out.Records = sink.finish()
	}
	return out, err
}

// GetRecordsInto is GetRecords with the records handed to sink instead of
// returned (the output's Records is empty). The output holds the read
// budget that sink holds until its Release, which the caller must call once
// it has written the reply built in sink.
func (s *Store) GetRecordsInto(ctx context.Context, iterator string, limit int, sink RecordSink) (GetRecordsOutput, error) {
	return s.getRecords(ctx, iterator, limit, sink)
}

func (s *Store) getRecords(ctx context.Context, iterator string, limit int, sink RecordSink) (GetRecordsOutput, error) {
	if limit == 0 {
		limit = MaxGetRecordsLimit
	}
	if limit < 1 || limit > MaxGetRecordsLimit {
		return GetRecordsOutput{}, apierr.New(apierr.InvalidArgument,
			"Limit must be 1 to %d (got %d)", MaxGetRecordsLimit, limit)
	}
	c, err := s.decodeIterator(iterator)
	if err != nil {
		return GetRecordsOutput{}, err
	}
	var meter *throttle.Meter // limits.go
	if s.cfg.gated {
		if meter, err = s.gateGetRecords(ctx, c); err != nil {
			return GetRecordsOutput{}, err
		}
	}
	res, hold, err := s.readInto(ctx, c, limit, MaxGetRecordsBytes, admitGetRecords, sink)
	if err != nil {
		return GetRecordsOutput{}, err
	}
	if meter != nil {
		meter.Charge(s.cfg.now(), res.dataBytes)
	}
	out := GetRecordsOutput{MillisBehindLatest: res.MillisBehindLatest, ChildShards: res.ChildShards, hold: hold}
	if !res.ShardEnded {
		out.NextIterator = s.encodeIterator(res.Next, s.cfg.now().UnixMilli())
	}
	return out, nil
}

// decodeRecordBytes is decodeRecordView without the partition key's string
// conversion: pk and data both alias v, so Read can copy them into its
// per-call buffers instead of allocating per record.
func decodeRecordBytes(v []byte) (arrivalMs int64, pk, data []byte, err error) {
	if len(v) < 9 {
		return 0, nil, nil, fmt.Errorf("record value too short (%d bytes)", len(v))
	}
	arrivalMs = int64(binary.BigEndian.Uint64(v))
	l, n := binary.Uvarint(v[8:])
	if n <= 0 || uint64(len(v)-8-n) < l {
		return 0, nil, nil, fmt.Errorf("corrupt partition key length in record value")
	}
	off := 8 + n
	return arrivalMs, v[off : off+int(l)], v[off+int(l):], nil
}

// seqCounterDigits is the width of the counter at the end of a sequence
// number (see appendSeq).
const seqCounterDigits = 32

// appendSeqCounter appends the sequence number of counter ctr given the
// stream's and shard's part of it (prefix): appendSeq without formatting the
// same prefix again for every record of a read.
func appendSeqCounter(b, prefix []byte, ctr uint64) []byte {
	b = append(b, prefix...)
	n := len(b)
	b = append(b, seqZeros[SequenceNumberLen-seqCounterDigits:]...)
	putDecimal(b[n:], ctr)
	return b
}

// incrementSeq turns seq into the sequence number that follows it (the
// same stream and shard, counter plus one) by adding one to its decimal
// digits in place: the common case in a read, where counters are
// consecutive, and several times cheaper than formatting the counter again.
func incrementSeq(seq []byte) {
	i := SequenceNumberLen - 1
	for ; i >= SequenceNumberLen-seqCounterDigits && seq[i] == '9'; i-- {
		seq[i] = '0'
	}
	seq[i]++ // cannot carry out of the counter: it is a uint64 in 32 digits
}
