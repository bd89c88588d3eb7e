package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

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
	return &cobra.Command{
		Use:   "run FILE|-",
		Short: "Run a query and print its results as they come",
		Long: `Run the bare SELECT in FILE (or stdin with -) as a temporary application and
print its rows as an aligned table: the header once, then each row as the
server emits it (a windowed query emits when its windows close).

Ctrl-C deletes the application and exits 0. The application also goes away
on its own when this command is gone.`,
		Example: `  spate sql run top.sql
  echo "SELECT ticker_symbol, price FROM stock_ticker WHERE price > 500" | spate sql run -`,
		Args: cobra.ExactArgs(1),
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
			return runSQL(cmd.Context(), c, file, script, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

// runSQL creates a temporary application for script, prints its results
// until ctx ends, then deletes it.
func runSQL(ctx context.Context, c *apiConn, file, script string, out, errOut io.Writer) error {
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

	err = printResults(ctx, api, name, out)
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
// as a table until ctx ends or the stream does.
func printResults(ctx context.Context, api spatev1.AnalyticsServiceClient, name string, out io.Writer) error {
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
			if err := t.header(); err != nil {
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

// liveTable prints rows as they come, aligned under a header printed once.
// A column is as wide as its header (at least minCellWidth) and grows when
// a wider value arrives, so later rows may shift right.
type liveTable struct {
	w      io.Writer
	cols   []string
	widths []int
}

// minCellWidth keeps short headers from making a ragged table of the first
// rows.
const minCellWidth = 8

func newLiveTable(w io.Writer, cols []string) *liveTable {
	t := &liveTable{w: w, cols: cols, widths: make([]int, len(cols))}
	for i, c := range cols {
		t.widths[i] = max(minCellWidth, utf8.RuneCountInString(c))
	}
	return t
}

func (t *liveTable) header() error {
	cells := make([]cell, len(t.cols))
	for i, c := range t.cols {
		cells[i] = cell{text: strings.ToUpper(c)}
	}
	return t.row(cells)
}

// cell is one printed value; numbers are right-aligned.
type cell struct {
	text    string
	numeric bool
}

func (t *liveTable) row(cells []cell) error {
	var b strings.Builder
	for i, c := range cells {
		if i >= len(t.widths) {
			t.widths = append(t.widths, minCellWidth)
		}
		n := utf8.RuneCountInString(c.text)
		t.widths[i] = max(t.widths[i], n)
		pad := strings.Repeat(" ", t.widths[i]-n)
		if i > 0 {
			b.WriteString("  ")
		}
		if c.numeric {
			b.WriteString(pad + c.text)
		} else if i < len(cells)-1 {
			b.WriteString(c.text + pad)
		} else {
			b.WriteString(c.text) // no trailing blanks
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.w, b.String())
	return err
}

// rowCells reads a result row (a JSON object) into cells in key order: the
// select-list order, even when two columns share a name.
func rowCells(row []byte) ([]cell, error) {
	dec := json.NewDecoder(bytes.NewReader(row))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var cells []cell
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the key
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		cells = append(cells, cellOf(raw))
	}
	return cells, nil
}

// cellOf prints a JSON value: strings without quotes, null as NULL,
// numbers and booleans as written, objects and arrays as compact JSON.
func cellOf(raw json.RawMessage) cell {
	switch {
	case len(raw) == 0:
		return cell{text: ""}
	case string(raw) == "null":
		return cell{text: "NULL"}
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return cell{text: s}
		}
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		return cell{text: string(raw), numeric: true}
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return cell{text: b.String()}
	}
	return cell{text: string(raw)}
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
