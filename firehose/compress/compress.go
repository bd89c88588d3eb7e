package compress

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// zipModified returns the modification time of every ZIP entry:
// 1980-01-01 00:00:00 UTC, the earliest time a ZIP entry can carry. It is
// fixed so that the archive is a function of its content alone.
func zipModified() time.Time { return time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC) }

// Compress returns data encoded in format f. entryName names the single
// entry of a ZIP archive and must not be empty for Zip; the other formats
// ignore it.
//
// The output is deterministic: the same arguments always give the same
// bytes (see the package documentation). For Uncompressed the result is data
// itself, not a copy; otherwise it is a new slice, and the caller may modify
// data after Compress returns.
func Compress(f Format, entryName string, data []byte) ([]byte, error) {
	switch f {
	case Uncompressed:
		return data, nil
	case Snappy:
		out := make([]byte, 0, snappyBound(len(data)))
		out = append(out, snappyJavaHeader...)
		return appendSnappyBlocks(out, data, false), nil
	case HadoopSnappy:
		return appendSnappyBlocks(make([]byte, 0, snappyBound(len(data))), data, true), nil
	case Zstd:
		enc, err := newZstdEncoder(nil)
		if err != nil {
			return nil, err
		}
		defer enc.Close()
		return enc.EncodeAll(data, make([]byte, 0, len(data)/2+64)), nil
	case Gzip, Zip:
		// Deflate rarely gets JSON below a third; start there.
		var buf bytes.Buffer
		buf.Grow(len(data)/3 + 512)
		w, err := NewWriter(f, &buf, entryName)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, fmt.Errorf("compress %s: %w", f, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("compress %s: %w", f, err)
		}
		return buf.Bytes(), nil
	default:
		return nil, unknown(f)
	}
}

// Decompress returns the data that data encodes in format f. For Zip the
// archive must hold exactly one entry; its content is returned. For Snappy
// it reads the snappy-java stream format and also Google's framing format.
// For Uncompressed the result is data itself.
//
// Decompress reads the whole result into memory with no size limit: use it
// on data from a trusted source (tests, objects Spate wrote).
func Decompress(f Format, data []byte) ([]byte, error) {
	out, err := decompress(f, data)
	if err != nil {
		return nil, fmt.Errorf("decompress %s: %w", f, err)
	}
	return out, nil
}

func decompress(f Format, data []byte) ([]byte, error) {
	switch f {
	case Uncompressed:
		return data, nil
	case Gzip:
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(r)
	case Zip:
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, err
		}
		zr.RegisterDecompressor(zip.Deflate, flate.NewReader)
		if len(zr.File) != 1 {
			return nil, fmt.Errorf("archive has %d entries, want 1", len(zr.File))
		}
		rc, err := zr.File[0].Open()
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", zr.File[0].Name, err)
		}
		defer rc.Close()
		out, err := io.ReadAll(rc)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", zr.File[0].Name, err)
		}
		return out, nil
	case Snappy:
		return decodeSnappy(data)
	case HadoopSnappy:
		return decodeHadoopSnappy(data)
	case Zstd:
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer dec.Close()
		return dec.DecodeAll(data, nil)
	default:
		return nil, unknown(f)
	}
}

// NewWriter returns a writer that compresses what is written to it in
// format f onto w. Close finishes the format's stream (it does not close w);
// until then the output is incomplete. entryName is as for Compress.
//
// The output is deterministic in the same way as Compress's and does not
// depend on how the input is split into writes. It decodes with Decompress.
// For every format except Zstd it is byte-identical to Compress's; a Zstd
// stream does not record the content size, which Compress's frame does.
func NewWriter(f Format, w io.Writer, entryName string) (io.WriteCloser, error) {
	switch f {
	case Uncompressed:
		return nopCloser{w}, nil
	case Gzip:
		gw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		if err != nil {
			return nil, err
		}
		// No name or comment; MTIME 0 ("no time stamp"). The epoch must be
		// set: this gzip writes uint32(ModTime.Unix()), which for the zero
		// time.Time is not 0.
		gw.ModTime = time.Unix(0, 0)
		return gw, nil
	case Zip:
		return newZipWriter(w, entryName)
	case Snappy:
		return newSnappyWriter(w, false), nil
	case HadoopSnappy:
		return newSnappyWriter(w, true), nil
	case Zstd:
		return newZstdEncoder(w)
	default:
		return nil, unknown(f)
	}
}

func unknown(f Format) error {
	return fmt.Errorf("unknown compression format %q: must be one of %s", string(f), allowed())
}

// newZstdEncoder returns a single-threaded encoder: with more than one
// goroutine a stream's block boundaries could depend on timing.
func newZstdEncoder(w io.Writer) (*zstd.Encoder, error) {
	enc, err := zstd.NewWriter(w,
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		// Empty input still gets a frame, so a .zst object is never a
		// zero-byte file that zstd(1) rejects.
		zstd.WithZeroFrames(true))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	return enc, nil
}

var (
	_ io.WriteCloser = nopCloser{}
	_ io.WriteCloser = (*zipWriter)(nil)
	_ io.WriteCloser = (*snappyWriter)(nil)
)

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// zipWriter writes an archive with one entry. Close closes the entry and
// writes the central directory.
type zipWriter struct {
	zw    *zip.Writer
	entry io.Writer
}

func newZipWriter(w io.Writer, name string) (*zipWriter, error) {
	if name == "" {
		return nil, errors.New("zip: the entry name must not be empty")
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.DefaultCompression)
	})
	entry, err := zw.CreateHeader(&zip.FileHeader{
		Name:     name,
		Method:   zip.Deflate,
		Modified: zipModified(),
	})
	if err != nil {
		return nil, fmt.Errorf("zip entry %q: %w", name, err)
	}
	return &zipWriter{zw: zw, entry: entry}, nil
}

func (z *zipWriter) Write(p []byte) (int, error) { return z.entry.Write(p) }

func (z *zipWriter) Close() error { return z.zw.Close() }
