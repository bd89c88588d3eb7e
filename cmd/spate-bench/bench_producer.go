package main

import (
	"github.com/spf13/cobra"

	"github.com/spatehq/spate/bench"
)

// benchProducer runs the producer-SDK measurement (issue 14) and adds it
// to rep.
func benchProducer(cmd *cobra.Command, f benchFlags, rep *bench.Report) error {
	cfg := bench.DefaultProducerConfig()
	if f.quick {
		cfg = bench.QuickProducerConfig()
	}
	cfg.Rounds, cfg.TmpDir, cfg.Log = f.rounds, f.tmpDir, cmd.ErrOrStderr()
	if f.duration > 0 {
		cfg.Duration = f.duration
	}
	res, err := bench.RunProducer(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	rep.Producer = &res
	return nil
}
