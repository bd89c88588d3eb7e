package nozero

import (
	"bytes"
	"testing"
)

func TestBytes(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 7, 4096, 1<<20 + 3} {
		b := Bytes(n)
		if len(b) != 0 || cap(b) < max(n, 0) {
			t.Fatalf("Bytes(%d): len %d cap %d, want 0 and at least %d", n, len(b), cap(b), n)
		}
		want := bytes.Repeat([]byte{0xab}, max(n, 0))
		b = append(b, want...)
		if !bytes.Equal(b, want) {
			t.Fatalf("Bytes(%d): what was appended did not stay", n)
		}
	}
	// Two buffers never share memory.
	a, b := Bytes(64)[:64], Bytes(64)[:64]
	for i := range a {
		a[i] = 1
	}
	for i := range b {
		b[i] = 2
	}
	if bytes.Contains(a, []byte{2}) {
		t.Fatal("two buffers share memory")
	}
}
