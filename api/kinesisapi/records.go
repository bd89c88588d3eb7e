package kinesisapi

import (
	"encoding/base64"
	"math"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/internal/nozero"
	"github.com/spatehq/spate/shard"
)

// The records of a GetRecords reply or a SubscribeToShard event, taken
// from the store's read as it iterates (shard.RecordSink).
//
// Reading shard.Records and then building a recordOut per record for the
// encoders made two structs of pointers per record (the GC scans both),
// and two copies of every record before the reply's own. A recordBlock
// instead copies each record once, as the read hands it over, into one
// buffer without pointers, which the JSON and the CBOR encoders walk: the
// format of the reply is not known when the action reads (awsproto picks
// it from the request), and walking the block is cheaper than anything
// built per record. The replies are byte for byte what they were: the
// tests compare them with encoding/json's and with the model's
// transcoding.
type recordBlock struct {
	// buf holds each record's sequence number, partition key and data,
	// one record after another, in recs' order.
	buf  []byte
	recs []recordMeta
	// jsonLen bounds the records' JSON array, brackets included.
	jsonLen int
	// bytes is the records' data and partition keys, what the fan-out
	// meter charges.
	bytes int
	// cborText is false when a sequence number or partition key is not
	// valid UTF-8, which the CBOR encoder leaves to the transcoding.
	cborText bool
}

// recordMeta is what recordBlock keeps of a record besides its bytes.
type recordMeta struct {
	arrivalMs int64
	dataLen   uint32 // at most shard.MaxRecordSizeLimit
	keyLen    uint16 // 256 characters at most: 1 KiB of UTF-8
	seqLen    uint8  // shard.SequenceNumberLen from the store
	flags     uint8
}

const (
	recordEncrypted = 1 << iota
	// recordPlainKey and recordPlainSeq: the partition key, the sequence
	// number, goes into JSON as it is (plainJSON).
	recordPlainKey
	recordPlainSeq
)

var _ shard.RecordSink = (*recordBlock)(nil)

func newRecordBlock() *recordBlock { return &recordBlock{jsonLen: 2, cborText: true} }

// AppendRecord copies r into the block (shard.RecordSink).
func (b *recordBlock) AppendRecord(r *shard.RecordView) error {
	size := len(r.SequenceNumber) + len(r.PartitionKey) + len(r.Data)
	if len(b.recs) == 0 {
		// Sized for the records the read may still return, as if they
		// were the size of this one, with some room for longer keys:
		// growing instead copies several times the final size. A block
		// that reset kept is used as it is when it is large enough.
		n := min(r.RecordsLeft, shard.MaxGetRecordsLimit, r.BytesLeft/max(r.ValueLen, 1)+1)
		if cap(b.recs) < n {
			b.recs = make([]recordMeta, 0, n)
		}
		if cap(b.buf) < n*(size+8) {
			b.buf = nozero.Bytes(n * (size + 8))
		}
	}
	if cap(b.buf)-len(b.buf) < size {
		grown := nozero.Bytes(max(2*cap(b.buf), len(b.buf)+size))[:len(b.buf)]
		copy(grown, b.buf)
		b.buf = grown
	}
	b.buf = append(b.buf, r.SequenceNumber...)
	b.buf = append(b.buf, r.PartitionKey...)
	b.buf = append(b.buf, r.Data...)
	m := recordMeta{arrivalMs: r.ArrivalMs, dataLen: uint32(len(r.Data)), keyLen: uint16(len(r.PartitionKey)), seqLen: uint8(len(r.SequenceNumber))}
	if r.Encrypted {
		m.flags |= recordEncrypted
	}
	// The store's sequence numbers are decimal digits (shard.RecordView):
	// plain JSON and UTF-8 without looking, which saved a scan of their
	// 56 bytes a record, about a tenth of the server's CPU per record.
	m.flags |= recordPlainSeq
	b.jsonLen += recordFramingLen + base64.StdEncoding.EncodedLen(len(r.Data)) + len(r.SequenceNumber) + 2 +
		b.noteString(r.PartitionKey, &m.flags, recordPlainKey)
	b.recs = append(b.recs, m)
	b.bytes += len(r.PartitionKey) + len(r.Data)
	return nil
}

// noteString sets plain in flags when s goes into JSON as it is, notes
// when it is not valid UTF-8, and returns a bound of its length in JSON.
func (b *recordBlock) noteString(s []byte, flags *uint8, plain uint8) int {
	if plainJSON(s) { // the store's sequence numbers and nearly every key
		*flags |= plain
		return len(s) + 2
	}
	b.cborText = b.cborText && utf8.Valid(s)
	return 6*len(s) + 2 // \u00XX a byte at most
}

// keepAfterReset is the largest buffer reset keeps for the next read.
const keepAfterReset = 256 << 10

// reset empties the block for another read, keeping its buffers unless
// they are large (a subscription reads into one block event after event,
// and most events are small).
func (b *recordBlock) reset() { b.resetKeeping(keepAfterReset) }

// resetKeeping is reset keeping buffers of up to keep bytes.
func (b *recordBlock) resetKeeping(keep int) {
	if cap(b.buf) > keep {
		b.buf, b.recs = nil, nil
	}
	*b = recordBlock{buf: b.buf[:0], recs: b.recs[:0], jsonLen: 2, cborText: true}
}

// recordBlocks recycles the blocks of GetRecords replies once they have
// been written. A catch-up reads 10,000 records a call: a new block each
// time was 1.7 MB allocated a call for 100 B records, and the garbage
// collector it kept running slowed the store's iteration too (write
// barriers). Blocks of up to keepPooled bytes are kept.
type recordBlocks struct{ pool sync.Pool }

// keepPooled is the largest buffer recordBlocks keeps: a full read of
// 10,000 records of up to about 400 bytes.
const keepPooled = 4 << 20

// get returns an empty block.
func (p *recordBlocks) get() *recordBlock {
	if b, ok := p.pool.Get().(*recordBlock); ok {
		return b
	}
	return newRecordBlock()
}

// put takes back b, which nothing uses any more.
func (p *recordBlocks) put(b *recordBlock) {
	if b == nil {
		return
	}
	b.resetKeeping(keepPooled)
	p.pool.Put(b)
}

// HeldBytes counts the block and the reply it will be encoded into
// (shard.RecordSink): the store's read budget holds both until the reply
// has been written.
func (b *recordBlock) HeldBytes() int64 {
	return int64(cap(b.buf)) + int64(cap(b.recs))*int64(unsafe.Sizeof(recordMeta{})) + int64(b.jsonLen)
}

// Len is the number of records.
func (b *recordBlock) Len() int {
	if b == nil {
		return 0
	}
	return len(b.recs)
}

// JSONLen bounds the length of AppendJSON's output.
func (b *recordBlock) JSONLen() int {
	if b == nil {
		return 2
	}
	return b.jsonLen
}

// recordAt is one record of a block, its slices in the block's buffer.
type recordAt struct {
	recordMeta
	seq, key, data []byte
}

// each calls fn with every record in order.
func (b *recordBlock) each(fn func(r *recordAt)) {
	if b == nil {
		return
	}
	var r recordAt
	off := 0
	for _, m := range b.recs {
		r.recordMeta = m
		r.seq = b.buf[off : off+int(m.seqLen)]
		off += int(m.seqLen)
		r.key = b.buf[off : off+int(m.keyLen)]
		off += int(m.keyLen)
		r.data = b.buf[off : off+int(m.dataLen)]
		off += int(m.dataLen)
		fn(&r)
	}
}

// AppendJSON appends the records as a JSON array, exactly as encoding/json
// (without HTML escaping) writes a []recordOut of them.
func (b *recordBlock) AppendJSON(dst []byte) []byte {
	dst = append(dst, '[')
	first := true
	// Records put together share their arrival time: its text is made
	// once a run of them.
	var stamp [maxEpochJSONLen]byte
	stampLen, stampMs := 0, int64(math.MinInt64)
	b.each(func(r *recordAt) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, jsonRecordSeq...)
		dst = appendJSONBytes(dst, r.seq, r.flags&recordPlainSeq != 0)
		dst = append(dst, jsonRecordTime...)
		if r.arrivalMs != stampMs || stampLen == 0 {
			stampLen = len(awsproto.EpochSeconds(time.UnixMilli(r.arrivalMs)).AppendJSON(stamp[:0]))
			stampMs = r.arrivalMs
		}
		dst = append(dst, stamp[:stampLen]...)
		dst = append(dst, jsonRecordData...)
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, r.data) // "" for none: Data is required, never null
		dst = append(dst, '"')
		dst = append(dst, jsonRecordKey...)
		dst = appendJSONBytes(dst, r.key, r.flags&recordPlainKey != 0)
		if r.flags&recordEncrypted != 0 {
			dst = append(dst, jsonRecordEnc...)
			dst = appendJSONString(dst, shard.EncryptionKMS)
		}
		dst = append(dst, '}')
	})
	return append(dst, ']')
}

// AppendCBOR appends the records as a CBOR array, exactly as awsproto
// transcodes AppendJSON's output, or reports false when a string is not
// valid UTF-8 (left to the transcoding).
func (b *recordBlock) AppendCBOR(dst []byte) ([]byte, bool) {
	if b != nil && !b.cborText {
		return nil, false
	}
	dst = awsproto.AppendCBORArray(dst, b.Len())
	b.each(func(r *recordAt) {
		fields := 4
		if r.flags&recordEncrypted != 0 {
			fields++
		}
		dst = awsproto.AppendCBORMap(dst, fields)
		dst = awsproto.AppendCBORText(dst, "SequenceNumber")
		dst = awsproto.AppendCBORText(dst, unsafe.String(unsafe.SliceData(r.seq), len(r.seq)))
		dst = awsproto.AppendCBORText(dst, "ApproximateArrivalTimestamp")
		dst = awsproto.AppendCBORTime(dst, time.UnixMilli(r.arrivalMs))
		dst = awsproto.AppendCBORText(dst, "Data")
		dst = awsproto.AppendCBORBytes(dst, r.data)
		dst = awsproto.AppendCBORText(dst, "PartitionKey")
		dst = awsproto.AppendCBORText(dst, unsafe.String(unsafe.SliceData(r.key), len(r.key)))
		if r.flags&recordEncrypted != 0 {
			dst = awsproto.AppendCBORText(dst, "EncryptionType")
			dst = awsproto.AppendCBORText(dst, shard.EncryptionKMS)
		}
	})
	return dst, true
}

// appendJSONBytes appends s as a JSON string; plain says it needs no
// escaping (plainJSON).
func appendJSONBytes(dst, s []byte, plain bool) []byte {
	if plain {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendJSONSlow(dst, string(s))
}
