package compress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/s2"
)

// Both Snappy formats cut the input into blocks of snappyBlockSize bytes (the
// last one shorter) and compress each block on its own into a raw Snappy
// block (the block format, not the framing format). They differ in what
// precedes the blocks.
//
// Snappy (snappy-java's SnappyOutputStream, what Firehose writes):
//
//	header   8 bytes  magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
//	         4 bytes  version, big-endian uint32, 1
//	         4 bytes  minimum compatible version, big-endian uint32, 1
//	block    4 bytes  compressed length n, big-endian uint32
//	         n bytes  raw Snappy block
//	block    ...
//
// The header is written even for empty input (16 bytes in all). A reader
// also accepts a header in place of a block, which is what concatenating
// two streams produces.
//
// HADOOP_SNAPPY (Hadoop's BlockCompressorStream with SnappyCodec, as
// snappy-java's SnappyHadoopCompatibleOutputStream writes it):
//
//	block    4 bytes  uncompressed length u, big-endian uint32
//	         4 bytes  compressed length n, big-endian uint32
//	         n bytes  raw Snappy block of u bytes
//	block    ...
//
// There is no header; empty input is empty output. Hadoop allows one
// uncompressed length to be followed by several compressed chunks that add
// up to it; the reader accepts that, the writer always writes one chunk.
//
// 32 KiB is snappy-java's block size for both streams. It also keeps Hadoop
// readers safe: their decompressor buffer is 256 KiB by default and a block
// must fit in it.
const snappyBlockSize = 32 << 10

// snappyJavaHeader is the 16-byte header of a snappy-java stream: magic,
// version 1, minimum compatible version 1.
const snappyJavaHeader = "\x82SNAPPY\x00" + "\x00\x00\x00\x01" + "\x00\x00\x00\x01"

// snappyJavaMagic is the first 8 bytes of snappyJavaHeader.
const snappyJavaMagic = "\x82SNAPPY\x00"

// snappyFramedMagic starts a stream in Google's framing format: a stream
// identifier chunk (type 0xff, length 6, "sNaPpY").
const snappyFramedMagic = "\xff\x06\x00\x00sNaPpY"

// snappyBound returns an upper bound of the encoded size of n bytes in either
// Snappy format.
func snappyBound(n int) int {
	blocks := (n + snappyBlockSize - 1) / snappyBlockSize
	full := n / snappyBlockSize
	bound := len(snappyJavaHeader) + blocks*8 + full*s2.MaxEncodedLen(snappyBlockSize)
	if rest := n % snappyBlockSize; rest > 0 {
		bound += s2.MaxEncodedLen(rest)
	}
	return bound
}

// appendSnappyBlocks appends data to dst as blocks of at most snappyBlockSize
// input bytes, each with the Hadoop preamble (uncompressed and compressed
// length) when hadoop is true and the snappy-java one (compressed length)
// otherwise.
func appendSnappyBlocks(dst, data []byte, hadoop bool) []byte {
	for len(data) > 0 {
		n := min(len(data), snappyBlockSize)
		dst = appendSnappyBlock(dst, data[:n], hadoop)
		data = data[n:]
	}
	return dst
}

func appendSnappyBlock(dst, chunk []byte, hadoop bool) []byte {
	preamble := 4
	if hadoop {
		preamble = 8
	}
	off := len(dst)
	need := preamble + s2.MaxEncodedLen(len(chunk))
	if cap(dst)-off < need {
		grown := make([]byte, off, 2*cap(dst)+need)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:off+need]
	// EncodeSnappy writes into dst because the room it gets is at least
	// MaxEncodedLen; block aliases dst.
	block := s2.EncodeSnappy(dst[off+preamble:], chunk)
	if hadoop {
		binary.BigEndian.PutUint32(dst[off:], uint32(len(chunk)))
		off += 4
	}
	binary.BigEndian.PutUint32(dst[off:], uint32(len(block)))
	return dst[:off+4+len(block)]
}

var errTruncated = errors.New("truncated stream")

// decodeSnappy decodes the Snappy format: a snappy-java stream, or for
// compatibility a stream in Google's framing format. Empty input decodes to
// empty output.
func decodeSnappy(data []byte) ([]byte, error) {
	switch {
	case len(data) == 0:
		return []byte{}, nil
	case bytes.HasPrefix(data, []byte(snappyJavaMagic)):
		return decodeSnappyJava(data)
	case bytes.HasPrefix(data, []byte(snappyFramedMagic)):
		out, err := io.ReadAll(s2.NewReader(bytes.NewReader(data)))
		if err != nil {
			return nil, fmt.Errorf("snappy framing format: %w", err)
		}
		return out, nil
	default:
		return nil, errors.New("not a Snappy stream: no snappy-java header and no framing-format stream identifier")
	}
}

func decodeSnappyJava(data []byte) ([]byte, error) {
	out := []byte{}
	for len(data) > 0 {
		// A block's length is below 2^31, so its first byte is never 0x82:
		// a magic here is the header of a concatenated stream.
		if bytes.HasPrefix(data, []byte(snappyJavaMagic)) {
			if len(data) < len(snappyJavaHeader) {
				return nil, fmt.Errorf("snappy-java header: %w", errTruncated)
			}
			data = data[len(snappyJavaHeader):]
			continue
		}
		block, rest, err := cutLength(data)
		if err != nil {
			return nil, fmt.Errorf("snappy-java block at byte %d: %w", len(out), err)
		}
		if out, err = appendDecoded(out, block); err != nil {
			return nil, fmt.Errorf("snappy-java block: %w", err)
		}
		data = rest
	}
	return out, nil
}

func decodeHadoopSnappy(data []byte) ([]byte, error) {
	out := []byte{}
	for len(data) > 0 {
		if len(data) < 4 {
			return nil, fmt.Errorf("hadoop-snappy block length: %w", errTruncated)
		}
		want := int(binary.BigEndian.Uint32(data))
		data = data[4:]
		start := len(out)
		for len(out)-start < want {
			block, rest, err := cutLength(data)
			if err != nil {
				return nil, fmt.Errorf("hadoop-snappy chunk: %w", err)
			}
			if out, err = appendDecoded(out, block); err != nil {
				return nil, fmt.Errorf("hadoop-snappy chunk: %w", err)
			}
			data = rest
		}
		if got := len(out) - start; got != want {
			return nil, fmt.Errorf("hadoop-snappy block decodes to %d bytes, its header says %d", got, want)
		}
	}
	return out, nil
}

// cutLength splits a big-endian uint32 length n and the n bytes after it off
// data.
func cutLength(data []byte) (block, rest []byte, err error) {
	if len(data) < 4 {
		return nil, nil, errTruncated
	}
	n := binary.BigEndian.Uint32(data)
	data = data[4:]
	if uint64(n) > uint64(len(data)) {
		return nil, nil, fmt.Errorf("length %d with %d bytes left: %w", n, len(data), errTruncated)
	}
	return data[:n], data[n:], nil
}

// appendDecoded decodes one raw Snappy block onto the end of dst.
func appendDecoded(dst, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, err
	}
	off := len(dst)
	if cap(dst)-off < n {
		grown := make([]byte, off, 2*cap(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	if _, err := s2.Decode(dst[off:off+n], block); err != nil {
		return nil, err
	}
	return dst[:off+n], nil
}

// snappyWriter streams either Snappy format. It buffers input up to a whole
// block, so its output is the same however the input is split into writes.
type snappyWriter struct {
	w       io.Writer
	hadoop  bool
	pending []byte // input not yet compressed, shorter than a block
	scratch []byte // one encoded block with its preamble
	started bool   // the snappy-java header is written
	closed  bool
	err     error // sticky: the first write error
}

func newSnappyWriter(w io.Writer, hadoop bool) *snappyWriter {
	return &snappyWriter{
		w:       w,
		hadoop:  hadoop,
		pending: make([]byte, 0, snappyBlockSize),
		scratch: make([]byte, 0, len(snappyJavaHeader)+8+s2.MaxEncodedLen(snappyBlockSize)),
	}
}

func (s *snappyWriter) Write(p []byte) (int, error) {
	if s.closed {
		return 0, errors.New("write after Close")
	}
	if s.err != nil {
		return 0, s.err
	}
	written := 0
	for len(p) > 0 {
		if len(s.pending) == 0 && len(p) >= snappyBlockSize {
			if err := s.writeBlock(p[:snappyBlockSize]); err != nil {
				return written, err
			}
			p = p[snappyBlockSize:]
			written += snappyBlockSize
			continue
		}
		n := min(snappyBlockSize-len(s.pending), len(p))
		s.pending = append(s.pending, p[:n]...)
		p = p[n:]
		written += n
		if len(s.pending) == snappyBlockSize {
			if err := s.writeBlock(s.pending); err != nil {
				return written, err
			}
			s.pending = s.pending[:0]
		}
	}
	return written, nil
}

func (s *snappyWriter) writeBlock(chunk []byte) error {
	out := s.header(s.scratch[:0])
	if len(chunk) > 0 {
		out = appendSnappyBlock(out, chunk, s.hadoop)
	}
	s.scratch = out[:0]
	if len(out) == 0 {
		return nil
	}
	if _, err := s.w.Write(out); err != nil {
		s.err = err
		return err
	}
	return nil
}

// header appends the snappy-java header to dst if it is not written yet.
func (s *snappyWriter) header(dst []byte) []byte {
	if s.hadoop || s.started {
		return dst
	}
	s.started = true
	return append(dst, snappyJavaHeader...)
}

// Close writes the last, short block (and the snappy-java header if nothing
// was written yet). It does not close the underlying writer.
func (s *snappyWriter) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	if s.err != nil {
		return s.err
	}
	return s.writeBlock(s.pending)
}
