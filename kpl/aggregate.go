package kpl

import (
	"crypto/md5"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// DefaultMaxSize is the size limit of an Aggregator without WithMaxSize:
// the Kinesis record limit of 1 MiB, counted as Kinesis counts it (data plus
// partition key). The KPL's own default (AggregationMaxSize) is 51,200.
const DefaultMaxSize = 1 << 20

var (
	// ErrFull is returned by Aggregator.Add when the record does not fit
	// beside those already added: drain the aggregator and add it again.
	ErrFull = errors.New("kpl: aggregate full")
	// ErrTooLarge is returned by Aggregator.Add when the record does not
	// fit even in an empty aggregate.
	ErrTooLarge = errors.New("kpl: record too large for an aggregate")
)

// Aggregated is an aggregate ready to be put to Kinesis: Data is the
// aggregated record, PartitionKey and ExplicitHashKey are those of its first
// user record (as the KPL does), so the aggregate lands on that record's
// shard.
type Aggregated struct {
	PartitionKey    string
	ExplicitHashKey string // "" when the first user record has none
	Data            []byte
	Records         int // user records in Data
}

// Option configures NewAggregator.
type Option func(*Aggregator)

// WithMaxSize limits the Kinesis record an aggregate becomes (data plus
// partition key) to n bytes (default DefaultMaxSize). Streams with a larger
// maximum record size (UpdateMaxRecordSize) can use more.
func WithMaxSize(n int) Option { return func(a *Aggregator) { a.maxSize = n } }

// Aggregator packs user records into aggregates one by one, so a producer
// can stop before a size limit. The zero value is not usable: call
// NewAggregator. It is not safe for concurrent use.
//
// Records whose partition keys or explicit hash keys lead to different
// shards should not share an aggregate: the whole aggregate goes to the
// shard of its first record.
type Aggregator struct {
	maxSize int

	// The three parts of the AggregatedRecord message, each already
	// encoded as its fields, in the KPL's order: tables, then records.
	pkTable, ehkTable, records []byte
	pkIndex, ehkIndex          map[string]uint64
	n                          int
	firstPK, firstEHK          string
}

// NewAggregator returns an empty aggregator.
func NewAggregator(opts ...Option) *Aggregator {
	a := &Aggregator{maxSize: DefaultMaxSize}
	for _, o := range opts {
		o(a)
	}
	a.reset()
	return a
}

func (a *Aggregator) reset() {
	a.pkTable, a.ehkTable, a.records = nil, nil, nil
	a.pkIndex, a.ehkIndex = map[string]uint64{}, map[string]uint64{}
	a.n, a.firstPK, a.firstEHK = 0, "", ""
}

// Len is the number of user records added since the last Drain.
func (a *Aggregator) Len() int { return a.n }

// Size is the size, as Kinesis counts it (data plus partition key), of the
// record Drain would return now; 0 when empty.
func (a *Aggregator) Size() int {
	if a.n == 0 {
		return 0
	}
	return Overhead + len(a.pkTable) + len(a.ehkTable) + len(a.records) + len(a.firstPK)
}

// Add appends r to the aggregate. It returns ErrFull, and adds nothing, when
// the aggregate would exceed the size limit with r, and ErrTooLarge when r
// alone would. It copies what it keeps of r.
func (a *Aggregator) Add(r Record) error {
	grow := 0
	pkIdx, pkKnown := a.pkIndex[r.PartitionKey]
	if !pkKnown {
		pkIdx = uint64(len(a.pkIndex))
		grow += tableEntrySize(fieldPartitionKeyTable, r.PartitionKey)
	}
	var ehkIdx uint64
	ehkKnown := true
	if r.ExplicitHashKey != "" {
		ehkIdx, ehkKnown = a.ehkIndex[r.ExplicitHashKey]
		if !ehkKnown {
			ehkIdx = uint64(len(a.ehkIndex))
			grow += tableEntrySize(fieldExplicitHashKeyTable, r.ExplicitHashKey)
		}
	}
	inner := protowire.SizeTag(fieldPartitionKeyIndex) + protowire.SizeVarint(pkIdx) +
		protowire.SizeTag(fieldData) + protowire.SizeBytes(len(r.Data))
	if r.ExplicitHashKey != "" {
		inner += protowire.SizeTag(fieldExplicitHashKeyIndex) + protowire.SizeVarint(ehkIdx)
	}
	grow += protowire.SizeTag(fieldRecords) + protowire.SizeBytes(inner)
	size := a.Size() + grow
	if a.n == 0 {
		size += Overhead + len(r.PartitionKey)
	}
	if size > a.maxSize {
		if a.n == 0 {
			return fmt.Errorf("%w: %d bytes aggregated, limit %d", ErrTooLarge, size, a.maxSize)
		}
		return ErrFull
	}
	if !pkKnown {
		a.pkIndex[r.PartitionKey] = pkIdx
		a.pkTable = protowire.AppendTag(a.pkTable, fieldPartitionKeyTable, protowire.BytesType)
		a.pkTable = protowire.AppendString(a.pkTable, r.PartitionKey)
	}
	if !ehkKnown {
		a.ehkIndex[r.ExplicitHashKey] = ehkIdx
		a.ehkTable = protowire.AppendTag(a.ehkTable, fieldExplicitHashKeyTable, protowire.BytesType)
		a.ehkTable = protowire.AppendString(a.ehkTable, r.ExplicitHashKey)
	}
	a.records = protowire.AppendTag(a.records, fieldRecords, protowire.BytesType)
	a.records = protowire.AppendVarint(a.records, uint64(inner))
	a.records = protowire.AppendTag(a.records, fieldPartitionKeyIndex, protowire.VarintType)
	a.records = protowire.AppendVarint(a.records, pkIdx)
	if r.ExplicitHashKey != "" {
		a.records = protowire.AppendTag(a.records, fieldExplicitHashKeyIndex, protowire.VarintType)
		a.records = protowire.AppendVarint(a.records, ehkIdx)
	}
	a.records = protowire.AppendTag(a.records, fieldData, protowire.BytesType)
	a.records = protowire.AppendBytes(a.records, r.Data)
	if a.n == 0 {
		a.firstPK, a.firstEHK = r.PartitionKey, r.ExplicitHashKey
	}
	a.n++
	return nil
}

func tableEntrySize(num protowire.Number, s string) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

// Drain returns the aggregate of the records added since the last Drain and
// empties the aggregator; ok is false, and nothing is returned, when no
// record was added. Data is newly allocated and owned by the caller.
//
// Drain always aggregates, even a single record; the KPL puts a lone record
// as a plain record instead, which a producer may do by checking Len.
func (a *Aggregator) Drain() (agg Aggregated, ok bool) {
	if a.n == 0 {
		return Aggregated{}, false
	}
	msgLen := len(a.pkTable) + len(a.ehkTable) + len(a.records)
	data := make([]byte, 0, Overhead+msgLen)
	data = append(data, Magic[:]...)
	data = append(data, a.pkTable...)
	data = append(data, a.ehkTable...)
	data = append(data, a.records...)
	sum := md5.Sum(data[len(Magic):])
	data = append(data, sum[:]...)
	agg = Aggregated{PartitionKey: a.firstPK, ExplicitHashKey: a.firstEHK, Data: data, Records: a.n}
	a.reset()
	return agg, true
}

// Aggregate encodes records as one aggregated record, with no size limit
// (the caller checks the result against its stream's maximum record size).
func Aggregate(records []Record) []byte {
	a := NewAggregator(WithMaxSize(int(^uint(0) >> 1)))
	for _, r := range records {
		_ = a.Add(r) // never full: the limit is the largest int
	}
	if agg, ok := a.Drain(); ok {
		return agg.Data
	}
	// No records: an empty message between magic and MD5.
	sum := md5.Sum(nil)
	return append(append([]byte(nil), Magic[:]...), sum[:]...)
}
