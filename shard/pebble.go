package shard

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble/v2"
)

// pebbleOptions returns the Pebble configuration for a stream store. The
// listeners hear Pebble's events (a store passes its writeStalls' listener,
// stall.go) on top of Pebble's default handling of them.
func pebbleOptions(cfg config, listeners ...pebble.EventListener) *pebble.Options {
	logger := pebbleLogger{cfg.logger}
	o := &pebble.Options{
		// Larger memtables absorb ingest bursts with fewer flushes; records
		// are written once and read soon after, mostly from the memtable.
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		Logger:                      logger,
		FS:                          cfg.fs, // nil: the OS's file system
	}
	if len(listeners) > 0 {
		// Without a listener Pebble logs background errors through Logger
		// and exits on data corruption. TeeEventListener fills the handlers
		// a listener lacks with ones that do nothing, which would silence
		// those, so the defaults are set explicitly before composing.
		base := pebble.EventListener{}
		base.EnsureDefaults(logger)
		o.EventListener = &base
		for _, l := range listeners {
			o.AddEventListener(l)
		}
	}
	return o
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
