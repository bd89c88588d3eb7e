package shard

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/spatehq/spate/apierr"
)

const (
	prefixMeta    = 'm'
	prefixSetting = 's'
	prefixRecord  = 'r'
	prefixTime    = 't'
	prefixHigh    = 'h'

	shardPrefixLen = 1 + 4 + 4
	recordKeyLen   = shardPrefixLen + 8
	timeKeyLen     = shardPrefixLen + 8
)

func metaKey(name string) []byte { return append([]byte{prefixMeta}, name...) }

func settingKey(name string) []byte { return append([]byte{prefixSetting}, name...) }

// shardKey writes prefix + streamID + shard into dst[:shardPrefixLen].
func putShardPrefix(dst []byte, prefix byte, streamID, shard uint32) {
	dst[0] = prefix
	binary.BigEndian.PutUint32(dst[1:5], streamID)
	binary.BigEndian.PutUint32(dst[5:9], shard)
}

func recordKey(streamID, shard uint32, ctr uint64) []byte {
	k := make([]byte, recordKeyLen)
	putRecordKey(k, streamID, shard, ctr)
	return k
}

func putRecordKey(dst []byte, streamID, shard uint32, ctr uint64) {
	putShardPrefix(dst, prefixRecord, streamID, shard)
	binary.BigEndian.PutUint64(dst[shardPrefixLen:], ctr)
}

func timeKey(streamID, shard uint32, ms int64) []byte {
	k := make([]byte, timeKeyLen)
	putShardPrefix(k, prefixTime, streamID, shard)
	binary.BigEndian.PutUint64(k[shardPrefixLen:], uint64(ms))
	return k
}

func highKey(streamID, shard uint32) []byte {
	k := make([]byte, shardPrefixLen)
	putShardPrefix(k, prefixHigh, streamID, shard)
	return k
}

// streamSpan returns [start, end) covering every key with the given prefix
// byte for one stream.
func streamSpan(prefix byte, streamID uint32) (start, end []byte) {
	start = []byte{prefix, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(start[1:], streamID)
	end = []byte{prefix, 0, 0, 0, 0}
	if streamID == ^uint32(0) {
		end = []byte{prefix + 1}
	} else {
		binary.BigEndian.PutUint32(end[1:], streamID+1)
	}
	return start, end
}

func counterOfRecordKey(k []byte) uint64 { return binary.BigEndian.Uint64(k[shardPrefixLen:]) }

// encodedRecordLen is the stored size of a record value.
func encodedRecordLen(pk string, data []byte) int {
	return 8 + uvarintLen(uint64(len(pk))) + len(pk) + len(data)
}

// putRecordValue encodes a record value into dst, which must be exactly
// encodedRecordLen bytes long.
func putRecordValue(dst []byte, arrivalMs int64, pk string, data []byte) {
	binary.BigEndian.PutUint64(dst, uint64(arrivalMs))
	n := 8 + binary.PutUvarint(dst[8:], uint64(len(pk)))
	n += copy(dst[n:], pk)
	copy(dst[n:], data)
}

// decodeRecordValue decodes a stored record; the returned data is a copy the
// caller owns.
func decodeRecordValue(v []byte) (arrivalMs int64, pk string, data []byte, err error) {
	arrivalMs, pk, view, err := decodeRecordView(v)
	if err != nil {
		return 0, "", nil, err
	}
	return arrivalMs, pk, append([]byte(nil), view...), nil
}

// decodeRecordView decodes a stored record; data aliases v.
func decodeRecordView(v []byte) (arrivalMs int64, pk string, data []byte, err error) {
	if len(v) < 9 {
		return 0, "", nil, fmt.Errorf("record value too short (%d bytes)", len(v))
	}
	arrivalMs = int64(binary.BigEndian.Uint64(v))
	l, n := binary.Uvarint(v[8:])
	if n <= 0 || uint64(len(v)-8-n) < l {
		return 0, "", nil, fmt.Errorf("corrupt partition key length in record value")
	}
	off := 8 + n
	pk = string(v[off : off+int(l)])
	return arrivalMs, pk, v[off+int(l):], nil
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// SequenceNumberLen is the length of every sequence number.
const SequenceNumberLen = 56

// formatSeq renders a sequence number (see the package doc).
func formatSeq(streamID, shard uint32, ctr uint64) string {
	b := make([]byte, 0, SequenceNumberLen)
	return string(appendSeq(b, streamID, shard, ctr))
}

// appendSeq appends the sequence number of counter ctr of a stream's
// shard: "49", then the stream's id in 10 digits, the shard's index in 12
// and the counter in 32, each padded with zeros. It writes the digits into
// a copy of seqZeros instead of padding digit by digit: the single writer
// formats one per record it stages.
func appendSeq(b []byte, streamID, shard uint32, ctr uint64) []byte {
	n := len(b)
	b = append(b, seqZeros...)
	s := b[n:]
	putDecimal(s[:SequenceNumberLen-seqCounterDigits-12], uint64(streamID))
	putDecimal(s[:SequenceNumberLen-seqCounterDigits], uint64(shard))
	putDecimal(s, ctr)
	return b
}

// seqZeros is the sequence number of stream 0, shard 0, counter 0.
const seqZeros = "49" + "000000000000000000000000000000000000000000000000000000"

// putDecimal writes v in decimal at the end of dst, which holds '0's and
// has room for its digits.
func putDecimal(dst []byte, v uint64) {
	for i := len(dst) - 1; v > 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// parseSeq splits a sequence number into its parts.
func parseSeq(seq string) (streamID, shard uint32, ctr uint64, err error) {
	bad := func(why string) error {
		return apierr.New(apierr.InvalidArgument,
			"StartingSequenceNumber %s is invalid: %s; use a SequenceNumber returned by PutRecord, PutRecords or GetRecords", seq, why)
	}
	if len(seq) != SequenceNumberLen || seq[:2] != "49" {
		return 0, 0, 0, bad(fmt.Sprintf("Spate sequence numbers are %d digits starting with 49", SequenceNumberLen))
	}
	id, err1 := strconv.ParseUint(seq[2:12], 10, 32)
	sh, err2 := strconv.ParseUint(seq[12:24], 10, 32)
	c, err3 := strconv.ParseUint(seq[24:], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, bad("it is not a number this server issued")
	}
	return uint32(id), uint32(sh), c, nil
}

// ShardID renders a shard index the way Kinesis names shards.
func ShardID(index uint32) string { return fmt.Sprintf("shardId-%012d", index) }

// parseShardID accepts "shardId-000000000001" and, as Kinesis does, the bare
// number "1".
func parseShardID(id string) (uint32, bool) {
	num := id
	if len(id) > 8 && id[:8] == "shardId-" {
		num = id[8:]
	}
	if num == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
