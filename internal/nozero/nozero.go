package nozero

import (
	"strings"
	"unsafe"
)

// Bytes returns an empty slice with room for n bytes whose contents are
// undefined until written (see the package's invariant).
func Bytes(n int) []byte {
	if n <= 0 {
		return nil
	}
	var sb strings.Builder
	sb.Grow(n)
	// A string of one byte, so that it has a first byte to point at: the
	// pointer of an empty string is unspecified.
	sb.WriteByte(0)
	return unsafe.Slice(unsafe.StringData(sb.String()), n)[:0]
}
