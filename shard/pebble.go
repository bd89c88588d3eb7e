package shard

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble/v2"
)

// pebbleOptions returns the Pebble configuration for a stream store.
func pebbleOptions(cfg config) *pebble.Options {
	return &pebble.Options{
		// Larger memtables absorb ingest bursts with fewer flushes; records
		// are written once and read soon after, mostly from the memtable.
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		Logger:                      pebbleLogger{cfg.logger},
	}
}

// pebbleLogger routes Pebble's own messages to the store's logger at debug
// level (Pebble is chatty about routine flushes) and errors at error level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Log(context.Background(), slog.LevelDebug, fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	os.Exit(1)
}
