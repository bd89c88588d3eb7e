package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"github.com/spatehq/spate/shard"
)

// byteSize is a flag value of bytes written as a size: "256MiB", "2GiB",
// "500MB" (powers of ten), "1048576". It prints in binary units.
type byteSize uint64

var _ pflag.Value = (*byteSize)(nil)

func (b *byteSize) String() string { return humanize.IBytes(uint64(*b)) }

func (b *byteSize) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return fmt.Errorf("%q is not a size such as 256MiB or 2GiB", s)
	}
	*b = byteSize(n)
	return nil
}

func (*byteSize) Type() string { return "size" }

// addDiskFlags adds the flags of the data directory's disk to serve's.
func addDiskFlags(f *pflag.FlagSet, cfg *serveConfig) {
	cfg.minFreeDisk = shard.DefaultMinFreeDisk
	f.Var(&cfg.minFreeDisk, "min-free-disk",
		"refuse writes (HTTP 503 ServiceUnavailable, gRPC RESOURCE_EXHAUSTED) that would leave less free space than this on --data-dir's file system; reads and deletes go on, and writes resume once space returns; 0 turns it off (see docs/durability.md)")
}
