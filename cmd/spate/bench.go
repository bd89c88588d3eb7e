package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"
)

// benchBinary is the program `spate bench` runs. The benchmark lives in its
// own binary (cmd/spate-bench) so that the peers it measures against
// (kfake, the NATS client) are not linked into the server.
const benchBinary = "spate-bench"

func newBenchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "bench [flags]",
		Short: "Measure Spate beside raw Pebble, kfake, NATS JetStream and kinesalite (runs spate-bench)",
		Long: `Run spate-bench, the benchmark binary that make bench builds next to this one
(bin/spate-bench), with these arguments. It is looked for beside this binary
first, then on PATH. 'spate bench --help' prints its flags; see
docs/benchmarks.md.`,
		DisableFlagParsing: true, // every argument, --help included, is spate-bench's
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := findBenchBinary()
			if err != nil {
				if wantsHelp(args) {
					// Help must work without the benchmark built: print
					// this command's usage and where spate-bench comes from.
					fmt.Fprintf(cmd.ErrOrStderr(), "%v\n\n", err)
					return cmd.Help()
				}
				return err
			}
			c := exec.CommandContext(cmd.Context(), path, args...)
			c.Stdin, c.Stdout, c.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			if err := c.Run(); err != nil {
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					// spate-bench printed its own error.
					return fmt.Errorf("%s exited with status %d", benchBinary, exit.ExitCode())
				}
				return fmt.Errorf("run %s: %w", path, err)
			}
			return nil
		},
	}
}

// findBenchBinary returns spate-bench beside the running executable, else
// the one on PATH.
func findBenchBinary() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), benchBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(benchBinary); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found beside this binary or on PATH: build it with 'make bench' or 'go build -o bin/%s ./cmd/%s'",
		benchBinary, benchBinary, benchBinary)
}

// wantsHelp reports whether args ask for help rather than a run.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "help" {
			return true
		}
	}
	return false
}
