package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// deleteTimeout bounds the delete of a temporary application after Ctrl-C.
const deleteTimeout = 5 * time.Second

func newSQLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "Run or check a SQL query over a stream",
		Long: `Run ad-hoc continuous SQL over the streams of a Spate server (--grpc-addr), or
check a script without running it. A script is SET statements followed by one
SELECT (or INSERT INTO ... SELECT); see docs/analytics.md for the dialect.`,
	}
	cmd.AddCommand(newSQLRunCmd(), newSQLValidateCmd())
	return cmd
}

func newSQLRunCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "run FILE|-",
		Short: "Run a query and print its results as they come",
		Long: `Run the bare SELECT in FILE (or stdin with -) as a temporary application and
print its rows as the server emits them (a windowed query emits when its
windows close), as an aligned table: the header comes with the first row,
and again whenever a wider value makes a column grow, so each row lines up
with the header above it. Integers print in full; other numbers are rounded
to 12 significant digits for reading (185.78, not 185.78000000000003).
With --output json each row is printed as the server sent it, one JSON
object per line, every digit kept.

Ctrl-C deletes the application and exits 0. The application also goes away
on its own when this command is gone.`,
		Example: `  spate sql run top.sql
  echo "SELECT ticker_symbol, price FROM stock_ticker WHERE price > 500" | spate sql run -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			file, script, err := readScript(cmd, args[0])
			if err != nil {
				return err
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			return runSQL(cmd.Context(), c, file, script, output == "json", cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text (a table) or json (one object per row, full precision)")
	return cmd
}

// runSQL creates a temporary application for script, prints its results
// until ctx ends, then deletes it.
func runSQL(ctx context.Context, c *apiConn, file, script string, asJSON bool, out, errOut io.Writer) error {
	api := spatev1.NewAnalyticsServiceClient(c.cc)
	name := "sql-run-" + strings.ToLower(rand.Text()[:10])
	resp, err := api.CreateApplication(ctx, &spatev1.CreateApplicationRequest{ApplicationName: name, Sql: script, Temporary: true})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return sqlError(c, "run", file, err)
	}
	d := resp.GetApplicationDescription()
	fmt.Fprintf(errOut, "running %s over stream %s; Ctrl-C to stop\n", name, d.GetSource())

	err = printResults(ctx, api, name, asJSON, out)
	// Deleting is tidy, not required: the server deletes a temporary
	// application when its last reader leaves.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if _, derr := api.DeleteApplication(dctx, &spatev1.DeleteApplicationRequest{ApplicationName: name}); derr != nil &&
		!apierr.Is(grpcapi.FromStatus(derr), apierr.ResourceNotFound) && err == nil && ctx.Err() == nil {
		err = c.fail("delete application "+name, derr)
	}
	if ctx.Err() != nil {
		return nil // interrupted: the normal way to stop
	}
	return err
}

// printResults follows the Results stream of an application and prints it
// as a table (or, asJSON, as one JSON object per line) until ctx ends or the
// stream does.
func printResults(ctx context.Context, api spatev1.AnalyticsServiceClient, name string, asJSON bool, out io.Writer) error {
	stream, err := api.Results(ctx, &spatev1.ResultsRequest{ApplicationName: name})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	var t *liveTable
	for {
		msg, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("results of %s: %w", name, grpcapi.FromStatus(err))
		}
		if t == nil {
			t = newLiveTable(out, msg.GetColumns())
			continue
		}
		if asJSON {
			// The row as the server wrote it: every digit of every number.
			if _, err := io.WriteString(out, msg.GetRow()+"\n"); err != nil {
				return err
			}
			continue
		}
		cells, err := rowCells([]byte(msg.GetRow()))
		if err != nil {
			return fmt.Errorf("results of %s: row %q: %w", name, msg.GetRow(), err)
		}
		if err := t.row(cells); err != nil {
			return err
		}
	}
}

func newSQLValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|-",
		Short: "Check a script without running it",
		Long: `Compile the script in FILE (or stdin with -) on the server and print what it
would do: the stream it reads, where its rows go and its columns. An invalid
script is reported as FILE:LINE:COLUMN: message, and the command exits 1.`,
		Example: `  spate sql validate top.sql`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, script, err := readScript(cmd, args[0])
			if err != nil {
				return err
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			api := spatev1.NewAnalyticsServiceClient(c.cc)
			resp, err := api.ValidateSql(cmd.Context(), &spatev1.ValidateSqlRequest{Sql: script})
			if err != nil {
				return sqlError(c, "validate", file, err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "ok: "+summary(resp.GetApplicationDescription()))
			return err
		},
	}
}

// summary says what an application reads, writes and produces.
func summary(d *spatev1.ApplicationDescription) string {
	target := "writes rows to the caller (a bare SELECT: use 'spate sql run')"
	if d.GetTarget() != "" {
		target = "writes " + d.GetTarget()
	}
	return fmt.Sprintf("reads %s, %s, columns %s", d.GetSource(), target, strings.Join(d.GetColumns(), ", "))
}

// sqlError reports an RPC error about a script: a SQL error as
// FILE:LINE:COLUMN: message (as compilers do), anything else as usual.
func sqlError(c *apiConn, op, file string, err error) error {
	line, col, ok := grpcapi.SQLPosition(err)
	if !ok {
		return c.fail(op+" "+file, err)
	}
	msg := apierr.MessageOf(grpcapi.FromStatus(err))
	msg = strings.TrimPrefix(msg, fmt.Sprintf("line %d, column %d: ", line, col))
	return fmt.Errorf("%s:%d:%d: %s", file, line, col, msg)
}

// readScript reads a script from a file, or from stdin for "-"; it returns
// the name to report errors with.
func readScript(cmd *cobra.Command, arg string) (file, script string, err error) {
	var b []byte
	if arg == "-" {
		file = "<stdin>"
		b, err = io.ReadAll(cmd.InOrStdin())
	} else {
		file = arg
		b, err = os.ReadFile(arg)
	}
	if err != nil {
		return "", "", fmt.Errorf("read the script: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", "", fmt.Errorf("%s: the script is empty", file)
	}
	return file, string(b), nil
}
