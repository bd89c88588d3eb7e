// Package nozero allocates byte buffers without clearing them first.
//
// make([]byte, 0, n) clears n bytes that a caller about to overwrite them
// never reads: for the read path's megabyte buffers (the store's record
// arena, an encoded GetRecords reply) the clearing was a tenth of a read's
// CPU. The standard library allocates such memory only inside itself
// (strings.Builder.Grow, bytes.Join); Bytes reaches it through
// strings.Builder.
//
// Invariant: a caller reads only bytes it has written; what lies beyond is
// whatever the memory held.
package nozero
