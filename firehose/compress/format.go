package compress

import (
	"fmt"
	"strings"
)

// Format is a compression format. Its value is the Firehose API's
// CompressionFormat spelling, so a Format converts to and from the API's
// string as is.
type Format string

// The formats. Spellings are case-sensitive, as in the Firehose API.
const (
	Uncompressed Format = "UNCOMPRESSED"
	Gzip         Format = "GZIP"
	Zip          Format = "ZIP"
	Snappy       Format = "Snappy"
	HadoopSnappy Format = "HADOOP_SNAPPY"
	// Zstd is a Spate extension; Amazon Data Firehose has no ZSTD.
	Zstd Format = "ZSTD"
)

// Formats returns every format in the order the Firehose API lists them,
// with the Zstd extension last.
func Formats() []Format {
	return []Format{Uncompressed, Gzip, Zip, Snappy, HadoopSnappy, Zstd}
}

// ParseFormat returns the Format spelled s. Spellings are matched exactly
// ("Snappy", not "SNAPPY"), as Firehose matches them. The empty string is an
// error: a caller whose configuration omits the format applies Firehose's
// default, Uncompressed, itself.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown compression format %q: must be one of %s", s, allowed())
}

func allowed() string {
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// Valid reports whether f is one of the formats.
func (f Format) Valid() bool {
	_, err := ParseFormat(string(f))
	return err == nil
}

// String returns the API spelling.
func (f Format) String() string { return string(f) }

// Extension returns the suffix Firehose appends to the names of objects in
// this format: "" for Uncompressed, ".gz", ".zip", ".snappy", ".zst".
//
// HadoopSnappy also gets ".snappy". Firehose's object-name documentation
// lists ".hsnappy" for it, but the service names the objects ".snappy"
// (observed on delivered objects); only the Content-Encoding tells the two
// Snappy formats apart. Spate follows the service.
func (f Format) Extension() string {
	switch f {
	case Gzip:
		return ".gz"
	case Zip:
		return ".zip"
	case Snappy, HadoopSnappy:
		return ".snappy"
	case Zstd:
		return ".zst"
	default:
		return ""
	}
}

// ContentEncoding returns the Content-Encoding Firehose sets on objects in
// this format ("" for Uncompressed): "gzip", "zip", "snappy-java",
// "hadoop-snappy", and "zstd" for the extension.
func (f Format) ContentEncoding() string {
	switch f {
	case Gzip:
		return "gzip"
	case Zip:
		return "zip"
	case Snappy:
		return "snappy-java"
	case HadoopSnappy:
		return "hadoop-snappy"
	case Zstd:
		return "zstd"
	default:
		return ""
	}
}
