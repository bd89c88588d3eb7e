package analytics

import (
	"context"

	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/analytics/value"
	"github.com/spatehq/spate/analytics/window"
)

// EvalRecord is one input record of Evaluate.
type EvalRecord struct {
	Data      []byte
	ArrivalMs int64 // also the processing time PROCTIME() sees
}

// EvalResult is everything Evaluate's script produced.
type EvalResult struct {
	Columns  []string
	Rows     [][]value.Column
	Late     int64    // rows dropped as later than the allowed lateness
	Bad      int64    // records that are not JSON objects or lack a usable event time
	LateRows [][]byte // the late records, in input order
}

// Evaluate runs script over a finite list of records as if they arrived in
// order on a one-shard stream, then raises the watermark past every window
// so each fires. It runs the pipeline that live applications run, which
// makes it the entry point of the oracle tests and the benchmarks.
func Evaluate(ctx context.Context, script string, records []EvalRecord) (EvalResult, error) {
	plan, err := query.Compile(script)
	if err != nil {
		return EvalResult{}, err
	}
	p, err := newPipeline(plan, 1, nil)
	if err != nil {
		return EvalResult{}, err
	}
	out := &collectSink{}
	changes := plan.Window != nil && plan.Settings.Emit == window.EmitChanges
	for i, r := range records {
		if i%4096 == 0 && ctx.Err() != nil {
			return EvalResult{}, ctx.Err()
		}
		p.process(0, r.Data, "eval", r.ArrivalMs, r.ArrivalMs, out)
		if changes {
			p.flush(out)
		}
	}
	p.finish(out)
	return EvalResult{Columns: plan.Columns, Rows: out.rows, Late: p.late, Bad: p.bad, LateRows: out.late}, nil
}

// collectSink keeps copies of everything emitted.
type collectSink struct {
	rows [][]value.Column
	late [][]byte
}

func (c *collectSink) row(cols []value.Column, _ string) {
	c.rows = append(c.rows, append([]value.Column(nil), cols...))
}

func (c *collectSink) lateRow(data []byte) { c.late = append(c.late, append([]byte(nil), data...)) }
