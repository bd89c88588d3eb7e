package kpl

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Magic is the prefix of every aggregated record.
var Magic = [4]byte{0xF3, 0x89, 0x9A, 0xC2}

// Overhead is what an aggregate adds around its protobuf message: the magic
// prefix and the MD5 trailer.
const Overhead = len(Magic) + md5.Size

// Field numbers of the format (see the package doc).
const (
	fieldPartitionKeyTable    protowire.Number = 1
	fieldExplicitHashKeyTable protowire.Number = 2
	fieldRecords              protowire.Number = 3

	fieldPartitionKeyIndex    protowire.Number = 1
	fieldExplicitHashKeyIndex protowire.Number = 2
	fieldData                 protowire.Number = 3
)

var (
	// ErrNotAggregated is returned by Deaggregate for data that does not
	// start with Magic or is too short to hold an aggregate: a plain
	// record.
	ErrNotAggregated = errors.New("kpl: not an aggregated record")
	// ErrCorrupt is wrapped by the errors of Deaggregate for data that
	// starts with Magic but is not a valid aggregate (wrong MD5, bad
	// protobuf, a table index out of range, a required field missing).
	ErrCorrupt = errors.New("kpl: corrupt aggregated record")
)

// Record is a user record.
type Record struct {
	PartitionKey string
	// ExplicitHashKey is the decimal hash key that overrides the hash of
	// PartitionKey; "" when there is none.
	ExplicitHashKey string
	Data            []byte
}

// IsAggregated reports whether data has the shape of an aggregated record:
// Magic and room for the MD5 trailer. It does not check the contents.
func IsAggregated(data []byte) bool {
	return len(data) >= Overhead && bytes.Equal(data[:len(Magic)], Magic[:])
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Deaggregate decodes the user records of an aggregated record, in order:
// the i-th has sub-sequence number i. It returns ErrNotAggregated for a
// plain record and an error wrapping ErrCorrupt for a damaged one; an
// aggregate of no records is valid and yields none.
//
// Each Record's Data is a sub-slice of data (capacity-limited, so appending
// to it copies): data must not be modified while the records are in use.
func Deaggregate(data []byte) ([]Record, error) {
	if !IsAggregated(data) {
		return nil, ErrNotAggregated
	}
	msg := data[len(Magic) : len(data)-md5.Size]
	if sum := md5.Sum(msg); !bytes.Equal(sum[:], data[len(data)-md5.Size:]) {
		return nil, corrupt("MD5 trailer does not match the message")
	}
	// The tables may come after the records in the message (protobuf allows
	// any order), so the first pass reads the tables and counts the
	// records, the second decodes the records.
	var pks, ehks []string
	count := 0
	err := eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldPartitionKeyTable:
			pks = append(pks, string(v))
		case fieldExplicitHashKeyTable:
			ehks = append(ehks, string(v))
		case fieldRecords:
			count++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, count)
	err = eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != fieldRecords || typ != protowire.BytesType {
			return nil
		}
		r, err := decodeRecord(v, pks, ehks)
		if err != nil {
			return fmt.Errorf("record %d: %w", len(out), err)
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachField calls fn for every field of msg with its number, wire type and
// value: v is the payload of a length-delimited field, x the value of a
// varint. A field of a wire type the schema does not give it is skipped by
// the callers, as protobuf parsers skip unknown fields.
func eachField(msg []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return corrupt("field tag: %v", protowire.ParseError(n))
		}
		msg = msg[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(msg)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return corrupt("field %d: %v", num, protowire.ParseError(n))
		}
		msg = msg[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// decodeRecord decodes one Record message against the tables. A repeated
// scalar field keeps its last value, as in protobuf.
func decodeRecord(msg []byte, pks, ehks []string) (Record, error) {
	var r Record
	var pkIndex, ehkIndex uint64
	var havePK, haveEHK, haveData bool
	err := eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == fieldPartitionKeyIndex && typ == protowire.VarintType:
			pkIndex, havePK = x, true
		case num == fieldExplicitHashKeyIndex && typ == protowire.VarintType:
			ehkIndex, haveEHK = x, true
		case num == fieldData && typ == protowire.BytesType:
			r.Data, haveData = v[:len(v):len(v)], true
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	if !havePK {
		return r, corrupt("no partition_key_index")
	}
	if !haveData {
		return r, corrupt("no data")
	}
	if pkIndex >= uint64(len(pks)) {
		return r, corrupt("partition_key_index %d, table of %d", pkIndex, len(pks))
	}
	r.PartitionKey = pks[pkIndex]
	if haveEHK {
		if ehkIndex >= uint64(len(ehks)) {
			return r, corrupt("explicit_hash_key_index %d, table of %d", ehkIndex, len(ehks))
		}
		r.ExplicitHashKey = ehks[ehkIndex]
	}
	return r, nil
}
