package compress

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
)

const mib = 1 << 20

// jsonLines returns about n bytes of newline-delimited JSON records that look
// like clickstream events, the same bytes for the same n.
func jsonLines(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	events := []string{"click", "view", "purchase", "scroll", "signup"}
	paths := []string{"/", "/products", "/products/42", "/cart", "/checkout", "/search?q=shoes"}
	var b bytes.Buffer
	b.Grow(n + 256)
	ts := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"ts":"%s","user":"user-%d","event":%q,"path":%q,"value":%.2f,"session":"%016x"}`+"\n",
			i, ts.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), rng.IntN(10000),
			events[rng.IntN(len(events))], paths[rng.IntN(len(paths))], rng.Float64()*100, rng.Uint64())
	}
	return b.Bytes()[:n]
}

// randomBytes returns n incompressible bytes, the same for the same n.
func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 0, n+8)
	for len(b) < n {
		b = binary.LittleEndian.AppendUint64(b, rng.Uint64())
	}
	return b[:n]
}

type input struct {
	name string
	data []byte
}

func inputs() []input {
	return []input{
		{"empty", []byte{}},
		{"small", []byte(`{"hello":"world"}` + "\n")},
		{"one-block", jsonLines(snappyBlockSize)},
		{"one-block-plus-one", jsonLines(snappyBlockSize + 1)},
		{"json-5MiB", jsonLines(5 * mib)},
		{"random-5MiB", randomBytes(5 * mib)},
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{in: "UNCOMPRESSED", want: Uncompressed},
		{in: "GZIP", want: Gzip},
		{in: "ZIP", want: Zip},
		{in: "Snappy", want: Snappy},
		{in: "HADOOP_SNAPPY", want: HadoopSnappy},
		{in: "ZSTD", want: Zstd},
		{in: "SNAPPY", wantErr: true},
		{in: "gzip", wantErr: true},
		{in: "", wantErr: true},
		{in: "LZ4", wantErr: true},
		{in: " GZIP", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseFormat(%q) = %q, want an error", tt.in, got)
				}
				for _, f := range Formats() {
					if !strings.Contains(err.Error(), string(f)) {
						t.Errorf("error %q does not list %s", err, f)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if !got.Valid() {
				t.Errorf("%q.Valid() = false", got)
			}
		})
	}
}

func TestExtensionAndContentEncoding(t *testing.T) {
	tests := []struct {
		f        Format
		ext, enc string
	}{
		{Uncompressed, "", ""},
		{Gzip, ".gz", "gzip"},
		{Zip, ".zip", "zip"},
		{Snappy, ".snappy", "snappy-java"},
		{HadoopSnappy, ".snappy", "hadoop-snappy"},
		{Zstd, ".zst", "zstd"},
		{Format("LZ4"), "", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.f), func(t *testing.T) {
			if got := tt.f.Extension(); got != tt.ext {
				t.Errorf("Extension() = %q, want %q", got, tt.ext)
			}
			if got := tt.f.ContentEncoding(); got != tt.enc {
				t.Errorf("ContentEncoding() = %q, want %q", got, tt.enc)
			}
		})
	}
	if len(Formats()) != 6 {
		t.Errorf("Formats() has %d formats, the table above 6", len(Formats()))
	}
}

func TestRoundTrip(t *testing.T) {
	ins := inputs()
	for _, f := range Formats() {
		for _, in := range ins {
			t.Run(string(f)+"/"+in.name, func(t *testing.T) {
				packed, err := Compress(f, "batch.json", in.data)
				if err != nil {
					t.Fatalf("Compress: %v", err)
				}
				got, err := Decompress(f, packed)
				if err != nil {
					t.Fatalf("Decompress: %v", err)
				}
				if !bytes.Equal(got, in.data) {
					t.Fatalf("round trip changed the data: %d bytes in, %d out", len(in.data), len(got))
				}
				if f != Uncompressed && in.name == "json-5MiB" && len(packed) > len(in.data)/2 {
					t.Errorf("%s packs 5 MiB of JSON into %d bytes, expected under half", f, len(packed))
				}
			})
		}
	}
}

func TestCompressIsDeterministic(t *testing.T) {
	ins := inputs()
	for _, f := range Formats() {
		for _, in := range ins {
			t.Run(string(f)+"/"+in.name, func(t *testing.T) {
				first, err := Compress(f, "batch.json", in.data)
				if err != nil {
					t.Fatal(err)
				}
				first = bytes.Clone(first)
				// A copy at another address: nothing may depend on it.
				again, err := Compress(f, "batch.json", bytes.Clone(in.data))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first, again) {
					t.Fatalf("two compressions of the same input differ (%d and %d bytes)", len(first), len(again))
				}
			})
		}
	}
}

// TestNewWriter writes the same input in one write and in writes of random
// sizes: the two outputs must be equal, must decode, and except for Zstd must
// equal Compress's.
func TestNewWriter(t *testing.T) {
	data := jsonLines(2*mib + 12345)
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			whole := stream(t, f, data, []int{len(data)})
			rng := rand.New(rand.NewPCG(5, 6))
			var sizes []int
			for left := len(data); left > 0; {
				n := min(left, rng.IntN(3*snappyBlockSize))
				sizes = append(sizes, n)
				left -= n
			}
			pieces := stream(t, f, data, sizes)
			if !bytes.Equal(whole, pieces) {
				t.Fatalf("output depends on how the input is split into writes")
			}
			got, err := Decompress(f, pieces)
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("round trip changed the data")
			}
			if f == Zstd {
				return
			}
			want, err := Compress(f, "batch.json", data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(whole, want) {
				t.Fatalf("NewWriter's output differs from Compress's")
			}
		})
	}
}

func stream(t *testing.T, f Format, data []byte, sizes []int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(f, &buf, "batch.json")
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for _, n := range sizes {
		if m, err := w.Write(data[:n]); err != nil || m != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
		}
		data = data[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func TestUnknownFormat(t *testing.T) {
	f := Format("LZ4")
	if _, err := Compress(f, "x", []byte("x")); err == nil {
		t.Error("Compress accepted an unknown format")
	}
	if _, err := Decompress(f, []byte("x")); err == nil {
		t.Error("Decompress accepted an unknown format")
	}
	if _, err := NewWriter(f, io.Discard, "x"); err == nil {
		t.Error("NewWriter accepted an unknown format")
	}
	if f.Valid() {
		t.Error("Valid() = true for an unknown format")
	}
}

func TestGzipHeaderHasNoTimeOrName(t *testing.T) {
	out, err := Compress(Gzip, "batch.json", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	// RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS.
	if out[0] != 0x1f || out[1] != 0x8b || out[2] != 8 {
		t.Fatalf("not a deflate gzip member: % x", out[:3])
	}
	if flg := out[3]; flg != 0 {
		t.Errorf("FLG = %#x, want 0 (no name, comment or extra field)", flg)
	}
	if mtime := binary.LittleEndian.Uint32(out[4:8]); mtime != 0 {
		t.Errorf("MTIME = %d, want 0", mtime)
	}
}

func TestZipEntry(t *testing.T) {
	data := jsonLines(100 << 10)
	out, err := Compress(Zip, "stream-1-2026-11-22-01-02-03-abc", data)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("archive has %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "stream-1-2026-11-22-01-02-03-abc" {
		t.Errorf("entry name = %q", f.Name)
	}
	if f.Method != zip.Deflate {
		t.Errorf("method = %d, want Deflate", f.Method)
	}
	if want := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC); !f.Modified.Equal(want) {
		t.Errorf("modified = %v, want %v", f.Modified, want)
	}
	if f.UncompressedSize64 != uint64(len(data)) {
		t.Errorf("uncompressed size = %d, want %d", f.UncompressedSize64, len(data))
	}
	if _, err := Compress(Zip, "", data); err == nil {
		t.Error("Compress(Zip) accepted an empty entry name")
	}
}

// TestSnappyGolden checks the exact bytes of both Snappy formats for a
// literal-only block: the bytes snappy-java writes for "Hello world!".
func TestSnappyGolden(t *testing.T) {
	block := "0c2c" + hex.EncodeToString([]byte("Hello world!"))
	tests := []struct {
		name string
		f    Format
		in   string
		want string
	}{
		{"snappy-java", Snappy, "Hello world!", "82534e415050590000000001000000010000000e" + block},
		{"snappy-java-empty", Snappy, "", "82534e41505059000000000100000001"},
		{"hadoop", HadoopSnappy, "Hello world!", "0000000c0000000e" + block},
		{"hadoop-empty", HadoopSnappy, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Compress(tt.f, "", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(out); got != tt.want {
				t.Fatalf("Compress = %s, want %s", got, tt.want)
			}
			back, err := Decompress(tt.f, out)
			if err != nil || string(back) != tt.in {
				t.Fatalf("Decompress = %q, %v", back, err)
			}
		})
	}
}

// TestSnappyBlocksAreStandard walks the blocks of both formats and decodes
// each with a strict standard-Snappy decoder (no S2 extensions), as
// snappy-java and Hadoop would.
func TestSnappyBlocksAreStandard(t *testing.T) {
	data := jsonLines(mib + 7)
	for _, f := range []Format{Snappy, HadoopSnappy} {
		t.Run(string(f), func(t *testing.T) {
			out, err := Compress(f, "", data)
			if err != nil {
				t.Fatal(err)
			}
			if f == Snappy {
				out = out[len(snappyJavaHeader):]
			}
			var got []byte
			for len(out) > 0 {
				raw := -1
				if f == HadoopSnappy {
					raw = int(binary.BigEndian.Uint32(out))
					out = out[4:]
				}
				n := binary.BigEndian.Uint32(out)
				block := out[4 : 4+n]
				out = out[4+n:]
				dec, err := snappy.DecodeStrict(nil, block)
				if err != nil {
					t.Fatalf("block %d: %v", len(got)/snappyBlockSize, err)
				}
				if len(dec) > snappyBlockSize {
					t.Fatalf("block of %d bytes, want at most %d", len(dec), snappyBlockSize)
				}
				if raw >= 0 && raw != len(dec) {
					t.Fatalf("hadoop block header says %d bytes, block holds %d", raw, len(dec))
				}
				got = append(got, dec...)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("blocks do not add up to the input")
			}
		})
	}
}

func TestSnappyDecodesOtherLayouts(t *testing.T) {
	a, b := jsonLines(40000), []byte("second part\n")
	cat := func(f Format) []byte {
		x, _ := Compress(f, "", a)
		y, _ := Compress(f, "", b)
		return append(bytes.Clone(x), y...)
	}
	var framed bytes.Buffer
	w := snappy.NewBufferedWriter(&framed)
	w.Write(a)
	w.Close()
	// One Hadoop block whose uncompressed length is split over two chunks.
	chunked := binary.BigEndian.AppendUint32(nil, uint32(len(a)+len(b)))
	for _, part := range [][]byte{a, b} {
		enc := snappy.Encode(nil, part)
		chunked = binary.BigEndian.AppendUint32(chunked, uint32(len(enc)))
		chunked = append(chunked, enc...)
	}

	tests := []struct {
		name string
		f    Format
		in   []byte
		want []byte
	}{
		{"snappy-java-concatenated", Snappy, cat(Snappy), append(bytes.Clone(a), b...)},
		{"framing-format", Snappy, framed.Bytes(), a},
		{"hadoop-concatenated", HadoopSnappy, cat(HadoopSnappy), append(bytes.Clone(a), b...)},
		{"hadoop-two-chunks-one-block", HadoopSnappy, chunked, append(bytes.Clone(a), b...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decompress(tt.f, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("decoded %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestZstdEmptyIsAFrame(t *testing.T) {
	out, err := Compress(Zstd, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 4 || binary.LittleEndian.Uint32(out) != 0xFD2FB528 {
		t.Fatalf("Compress(Zstd, empty) = % x, want a zstd frame", out)
	}
}

func TestDecompressRejectsDamage(t *testing.T) {
	data := jsonLines(100 << 10)
	for _, f := range Formats() {
		if f == Uncompressed {
			continue
		}
		packed, err := Compress(f, "batch.json", data)
		if err != nil {
			t.Fatal(err)
		}
		damaged := map[string][]byte{
			"truncated":  packed[:len(packed)-3],
			"half":       packed[:len(packed)/2],
			"not-packed": []byte("plain text, not compressed at all"),
		}
		if f != Zip {
			flipped := bytes.Clone(packed)
			flipped[len(flipped)/2] ^= 0xff
			damaged["flipped"] = flipped
		}
		for name, in := range damaged {
			t.Run(string(f)+"/"+name, func(t *testing.T) {
				got, err := Decompress(f, in)
				if err == nil && bytes.Equal(got, data) {
					t.Fatal("damaged input decoded to the original")
				}
				if err == nil && name != "flipped" {
					t.Fatalf("Decompress accepted damaged input (%d bytes out)", len(got))
				}
			})
		}
	}
}

func BenchmarkCompress(b *testing.B) {
	data := jsonLines(5 * mib)
	for _, f := range Formats() {
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var out []byte
			for b.Loop() {
				var err error
				if out, err = Compress(f, "batch.json", data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(out))/float64(len(data)), "ratio")
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	data := jsonLines(5 * mib)
	for _, f := range Formats() {
		packed, err := Compress(f, "batch.json", data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Decompress(f, packed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
