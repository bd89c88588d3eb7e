package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/spatehq/spate/shard"
)

// TestFunctionsClearScratchAtStart: instance scratch directories a kill -9
// left in DATA-DIR/functions-run are removed when the server starts, so
// they cannot pile up across crashes.
func TestFunctionsClearScratchAtStart(t *testing.T) {
	cfg := testServeConfig(t)
	left := filepath.Join(cfg.dataDir, "functions-run", "instance-123", "tmp", "big")
	if err := os.MkdirAll(filepath.Dir(left), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(left, []byte("left by a killed instance"), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := shard.Open(filepath.Join(cfg.dataDir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	fn, err := newFunctions(store, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer fn.close()
	if _, err := os.Stat(filepath.Join(cfg.dataDir, "functions-run", "instance-123")); !os.IsNotExist(err) {
		t.Errorf("scratch directory of a killed instance still there after start: stat err %v", err)
	}
}
