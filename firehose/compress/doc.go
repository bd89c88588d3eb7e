// Package compress encodes a Firehose batch in one of the delivery stream's
// compression formats (the API's CompressionFormat, plus ZSTD as a Spate
// extension) and decodes it again.
//
// It owns the byte layout of each format and the object-name extension and
// Content-Encoding Firehose pairs with it. It does not know about batches,
// records or object keys: the firehose core passes it the bytes of a batch
// and the name of the ZIP entry.
//
// Invariant: Compress is a pure function of its arguments. The same format,
// entry name and data give byte-identical output on every call, because no
// output carries a wall-clock time, a host name or a random value and every
// encoder runs single-threaded. The firehose core relies on this for
// exactly-once delivery: re-delivering a batch after a crash overwrites its
// object with the same bytes. The guarantee holds for one build of Spate;
// another version of the compression libraries may compress differently.
//
// The formats (each readable by what reads Firehose's objects of that format):
//
//   - Uncompressed: the data as given.
//   - GZIP: one gzip member, no file name, modification time 0.
//   - ZIP: an archive with a single deflated entry whose name the caller
//     gives and whose modification time is fixed at 1980-01-01 00:00:00 UTC.
//   - Snappy: the snappy-java stream format (magic 0x82 "SNAPPY" 0x00, then
//     length-prefixed raw Snappy blocks of 32 KiB of input). Firehose's
//     "Snappy" is this format, not Google's framing format ("sNaPpY");
//     Decompress reads both.
//   - HADOOP_SNAPPY: Hadoop's BlockCompressorStream format, what Hadoop and
//     Spark's SnappyCodec read.
//   - ZSTD: one Zstandard frame that records the content size.
package compress
