package analytics

import (
	"math"

	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/analytics/value"
	"github.com/spatehq/spate/analytics/window"
)

// noWatermark is the watermark before any row has been seen.
const noWatermark = math.MinInt64

// pipeline is the processing core of one application, free of any store:
// records go in, result rows come out. Live applications and Evaluate run
// the same pipeline, so what the oracle tests check is what runs.
//
// Invariant: the watermark only rises, and a row is judged late against the
// watermark of the rows before it (never its own).
type pipeline struct {
	plan *query.Plan
	ev   *query.Evaluator
	op   *window.Operator // nil for a stateless query

	// shardMax[i] is the highest capped event time read from input i
	// (noWatermark before any); shardIdle[i] whether input i has given no
	// windowed row for a while, so it does not hold the watermark back.
	shardMax  []int64
	shardIdle []bool

	rowsIn, rowsOut, late, bad int64

	// window results collected by one Advance or Flush, to group rows of
	// one window for top-K.
	pending [][]value.Column
	pendKey [2]int64
}

// sink receives what a pipeline emits. Row slices are valid only during the
// call.
type sink interface {
	row(cols []value.Column, partitionKey string)
	lateRow(data []byte)
}

func newPipeline(plan *query.Plan, inputs int, state []byte) (*pipeline, error) {
	p := &pipeline{plan: plan, ev: plan.NewEvaluator(), shardMax: make([]int64, inputs), shardIdle: make([]bool, inputs)}
	for i := range p.shardMax {
		p.shardMax[i] = noWatermark
	}
	if plan.Window == nil {
		return p, nil
	}
	cfg := window.Config{Spec: *plan.Window, Aggs: plan.Aggs, AllowedLateness: plan.Settings.AllowedLateness, Emit: plan.Settings.Emit}
	var err error
	if state != nil {
		p.op, err = window.Restore(cfg, state)
	} else {
		p.op, err = window.New(cfg)
	}
	return p, err
}

// process takes one record of input shard. partitionKey is the record's,
// which stateless results keep. It reports whether the record carried an
// event time for a windowed query, which tells where the shard is; a row
// that WHERE rejects still does (it moves the watermark, as at a Flink
// source), a bad record does not.
func (p *pipeline) process(shard int, data []byte, partitionKey string, arrivalMs, procMs int64, out sink) (timed bool) {
	p.rowsIn++
	in, keep, err := p.ev.Input(data, arrivalMs, procMs)
	if err != nil {
		p.bad++
		return false
	}
	if p.op == nil {
		if keep {
			p.rowsOut++
			out.row(in.Row, partitionKey)
		}
		return false
	}
	if !in.Timed {
		return false
	}
	p.shardIdle[shard] = false
	if keep && !p.op.Add(in.Key, in.Keys, in.EventTime, in.Args) {
		p.late++
		out.lateRow(data)
		return true
	}
	// The watermark cannot be dragged forward by a row stamped in the
	// future: its event time counts at most max_skew past its arrival.
	capped := in.EventTime
	if p.plan.Time == query.TimeColumn {
		if limit := arrivalMs + p.plan.Settings.MaxSkew; capped > limit {
			capped = limit
		}
	}
	if capped > p.shardMax[shard] {
		p.shardMax[shard] = capped
		p.advance(p.watermark(), out)
	}
	return true
}

// addInput adds an input (a child shard, once its parents are read) whose
// highest event time starts at max (noWatermark for none), and returns its
// index.
func (p *pipeline) addInput(max int64) int {
	p.shardMax = append(p.shardMax, max)
	p.shardIdle = append(p.shardIdle, false)
	return len(p.shardMax) - 1
}

// removeInput drops input i (a parent whose children are read now): it no
// longer holds the watermark back. Inputs after it move down by one.
func (p *pipeline) removeInput(i int, out sink) {
	p.shardMax = append(p.shardMax[:i], p.shardMax[i+1:]...)
	p.shardIdle = append(p.shardIdle[:i], p.shardIdle[i+1:]...)
	if p.op != nil {
		p.advance(p.watermark(), out)
	}
}

// idle marks input shard as having no unread records: it no longer holds
// the watermark back.
func (p *pipeline) idle(shard int, out sink) {
	if p.shardIdle[shard] {
		return
	}
	p.shardIdle[shard] = true
	if p.op != nil {
		p.advance(p.watermark(), out)
	}
}

// watermark is the lowest event time still expected, minus the delay: the
// minimum over busy inputs of their highest event time, or over all inputs
// when every one is idle.
func (p *pipeline) watermark() int64 {
	wm := int64(math.MaxInt64)
	busy := false
	for i, m := range p.shardMax {
		if p.shardIdle[i] {
			continue
		}
		busy = true
		wm = min(wm, m)
	}
	if !busy {
		wm = noWatermark
		for _, m := range p.shardMax {
			wm = max(wm, m)
		}
	}
	if wm == noWatermark {
		return noWatermark
	}
	return wm - p.plan.Settings.WatermarkDelay
}

// advanceClock moves processing-time windows on with the wall clock, so
// they fire without new rows.
func (p *pipeline) advanceClock(nowMs int64, out sink) {
	if p.op != nil && p.plan.Time == query.TimeProctime {
		p.advance(nowMs-p.plan.Settings.WatermarkDelay, out)
	}
}

func (p *pipeline) advance(wm int64, out sink) {
	if wm == noWatermark || wm <= p.op.Watermark() {
		return
	}
	p.op.Advance(wm, func(r window.Result) { p.result(r, out) })
	p.flushTop(out)
}

// flush emits changed windows in 'changes' mode.
func (p *pipeline) flush(out sink) {
	if p.op == nil {
		return
	}
	p.op.Flush(func(r window.Result) { p.result(r, out) })
	p.flushTop(out)
}

// finish fires every window: the end of a finite input.
func (p *pipeline) finish(out sink) {
	if p.op == nil {
		return
	}
	p.flush(out)
	p.op.Advance(math.MaxInt64, func(r window.Result) { p.result(r, out) })
	p.flushTop(out)
}

func (p *pipeline) result(r window.Result, out sink) {
	row, keep := p.ev.Output(query.Group{Keys: r.Keys, Aggs: r.Aggs, Start: r.Start, End: r.End})
	if !keep {
		return
	}
	if p.plan.TopK <= 0 {
		p.rowsOut++
		out.row(row, groupPartitionKey(r.Keys))
		return
	}
	// Top-K: rows of one window arrive together (the operator emits in
	// window order), so collect them until the window changes.
	if len(p.pending) > 0 && (p.pendKey != [2]int64{r.Start, r.End}) {
		p.flushTop(out)
	}
	p.pendKey = [2]int64{r.Start, r.End}
	p.pending = append(p.pending, append([]value.Column(nil), row...))
}

func (p *pipeline) flushTop(out sink) {
	if len(p.pending) == 0 {
		return
	}
	for _, row := range p.ev.TopRows(p.pending) {
		p.rowsOut++
		out.row(row, "top")
	}
	p.pending = p.pending[:0]
}

// groupPartitionKey is the partition key of a window result: its group
// key's text, so results of one key land on one shard of the output.
func groupPartitionKey(keys []value.Value) string {
	if len(keys) == 0 {
		return "all"
	}
	var b []byte
	for i, k := range keys {
		if i > 0 {
			b = append(b, '|')
		}
		b = append(b, k.Text()...)
	}
	if len(b) == 0 {
		return "all"
	}
	if len(b) > 256 {
		b = b[:256]
	}
	return string(b)
}
