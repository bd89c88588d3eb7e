package main

import "testing"

func TestByteSizeFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"256MiB", 256 << 20, false},
		{"2GiB", 2 << 30, false},
		{"500MB", 500_000_000, false},
		{"1048576", 1 << 20, false},
		{"0", 0, false},
		{"lots", 0, true},
		{"-1GiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b byteSize
			err := b.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set(%q) = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && uint64(b) != tt.want {
				t.Fatalf("Set(%q) = %d, want %d", tt.in, b, tt.want)
			}
		})
	}
	var def byteSize = 256 << 20
	if got := def.String(); got != "256 MiB" {
		t.Errorf("String = %q", got)
	}
}
