package query

import (
	"errors"
	"math"
	"sort"
	"time"

	"github.com/spatehq/spate/analytics/value"
	"github.com/valyala/fastjson"
)

// Input is what a plan needs from one record. Its slices are owned by the
// Evaluator and valid until its next call.
type Input struct {
	EventTime int64          // windowed plans: the row's time per Plan.Time
	Timed     bool           // EventTime is set: a windowed plan, also when WHERE rejected the row
	Key       []byte         // windowed: value.AppendKey of each GROUP BY key (not the window)
	Keys      []value.Value  // windowed: the key values
	Args      []value.Value  // windowed: Args[i] is the argument of Plan.Aggs[i] (COUNT(*): value.Int(1))
	Row       []value.Column // stateless: the projected output row
}

// Group is one window result from the window operator: the key values,
// the aggregate results in Plan.Aggs order, and the window's bounds.
type Group struct {
	Keys       []value.Value
	Aggs       []value.Value
	Start, End int64
}

var (
	errNotObject = errors.New("record is not a JSON object")
	errNoTime    = errors.New("record's event time is missing or not a timestamp (RFC 3339 or epoch milliseconds)")
)

// Evaluator evaluates a Plan. It reuses its buffers and JSON parser from
// call to call, so it is not safe for concurrent use: make one per
// goroutine with Plan.NewEvaluator.
type Evaluator struct {
	p       *Plan
	parser  fastjson.Parser
	rec     []value.Value // scopeRow slots: the fields the plan reads
	grp     []value.Value // scopeGroup slots: keys, start, end, aggregates
	top     []value.Column
	arrival int64
	now     int64 // processing time, for NOW() and PROCTIME()
	num     []byte

	key  []byte
	keys []value.Value
	args []value.Value
	row  []value.Column
}

// NewEvaluator returns an Evaluator of p for one goroutine.
func (p *Plan) NewEvaluator() *Evaluator {
	ev := &Evaluator{
		p:    p,
		rec:  make([]value.Value, p.nslots),
		keys: make([]value.Value, len(p.keyExprs)),
		args: make([]value.Value, len(p.argExprs)),
		// For a top-K, proj is the subquery's select list: Output
		// returns its rows, TopRows allocates the outer ones.
		row: make([]value.Column, len(p.proj)),
		grp: make([]value.Value, len(p.keyExprs)+2+len(p.Aggs)),
	}
	return ev
}

// Input decodes one record (a JSON object) and evaluates what the plan
// needs from it. keep is false when WHERE rejected the record; err is set
// when the record is not a JSON object or, for a plan windowed by event
// time, its time is missing or unparsable.
func (e *Evaluator) Input(data []byte, arrivalMs, procMs int64) (in Input, keep bool, err error) {
	p := e.p
	e.arrival, e.now = arrivalMs, procMs
	if err := e.decode(data); err != nil {
		return Input{}, false, err
	}
	if p.Window == nil {
		if p.where != nil {
			if t, k := truth(p.where.eval(e)); !k || !t {
				return Input{}, false, nil
			}
		}
		for i, n := range p.proj {
			e.row[i] = value.Column{Name: p.Columns[i], Value: n.eval(e)}
		}
		return Input{Row: e.row}, true, nil
	}
	// The event time comes before WHERE: a row the filter drops still
	// moves the watermark, as it would at a Flink source.
	timed := true
	switch p.Time {
	case TimeColumn:
		ms, ok := p.timeExpr.eval(e).AsTime()
		in.EventTime, timed = ms, ok
	case TimeRowtime:
		in.EventTime = arrivalMs
	default:
		in.EventTime = procMs
	}
	in.Timed = timed
	if p.where != nil {
		if t, k := truth(p.where.eval(e)); !k || !t {
			return in, false, nil
		}
	}
	if !timed {
		return Input{}, false, errNoTime
	}
	e.key = e.key[:0]
	for i, n := range p.keyExprs {
		v := n.eval(e)
		e.keys[i] = v
		e.key = value.AppendKey(e.key, v)
	}
	for i, n := range p.argExprs {
		if n == nil {
			e.args[i] = value.Int(1)
			continue
		}
		e.args[i] = n.eval(e)
	}
	in.Key, in.Keys, in.Args = e.key, e.keys, e.args
	return in, true, nil
}

// decode parses data once and fills the slots of the fields the plan reads.
func (e *Evaluator) decode(data []byte) error {
	v, err := e.parser.ParseBytes(data)
	if err != nil {
		return err
	}
	o, err := v.Object()
	if err != nil {
		return errNotObject
	}
	for i := range e.p.fields {
		f := &e.p.fields[i]
		fv := o.Get(f.name)
		if f.slot >= 0 {
			e.rec[f.slot] = e.convert(fv)
		}
		for _, s := range f.subs {
			e.rec[s.slot] = e.convert(fv.Get(s.path...))
		}
	}
	return nil
}

// convert maps a JSON value to a SQL value: numbers to BIGINT when
// integral (and within ±2^53 when written with a fraction or exponent),
// else DOUBLE; objects and arrays to their JSON text.
func (e *Evaluator) convert(v *fastjson.Value) value.Value {
	if v == nil {
		return value.Null
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		e.num = v.MarshalTo(e.num[:0])
		if i, ok := parseInt(e.num); ok {
			return value.Int(i)
		}
		f, err := v.Float64()
		if err != nil {
			return value.Null
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return value.Int(int64(f))
		}
		return value.Float(f)
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return value.String(string(b))
	case fastjson.TypeTrue:
		return value.Bool(true)
	case fastjson.TypeFalse:
		return value.Bool(false)
	case fastjson.TypeNull:
		return value.Null
	}
	e.num = v.MarshalTo(e.num[:0])
	return value.String(string(e.num))
}

// parseInt parses a JSON integer literal of up to 18 digits.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// Output applies HAVING and the select list to a window result. keep is
// false when HAVING rejected it. The row is valid until the next call.
func (e *Evaluator) Output(g Group) (row []value.Column, keep bool) {
	p := e.p
	e.now = time.Now().UnixMilli()
	nk := copy(e.grp, g.Keys)
	e.grp[nk] = value.Time(g.Start)
	e.grp[nk+1] = value.Time(g.End)
	copy(e.grp[nk+2:], g.Aggs)
	if p.having != nil {
		if t, k := truth(p.having.eval(e)); !k || !t {
			return nil, false
		}
	}
	names := p.Columns
	if p.top != nil {
		names = p.innerCols
	}
	for i, n := range p.proj {
		e.row[i] = value.Column{Name: names[i], Value: n.eval(e)}
	}
	return e.row, true
}

// TopRows ranks the rows one window emitted (the subquery's rows, as
// Output returned them, all of the same window) and returns at most
// Plan.TopK of them, projected to the outer select list. Rows rejected by
// the outer WHERE are dropped first. Ties in the ORDER BY keys are broken
// by the rows' values, so the result does not depend on arrival order.
// The returned rows are newly allocated.
func (e *Evaluator) TopRows(rows [][]value.Column) [][]value.Column {
	p := e.p
	tp := p.top
	if tp == nil {
		return nil
	}
	e.now = time.Now().UnixMilli()
	type ranked struct {
		row  []value.Column
		keys []value.Value
	}
	cand := make([]ranked, 0, len(rows))
	for _, r := range rows {
		e.top = r
		if tp.where != nil {
			if t, k := truth(tp.where.eval(e)); !k || !t {
				continue
			}
		}
		keys := make([]value.Value, len(tp.order))
		for i, o := range tp.order {
			keys[i] = o.key.eval(e)
		}
		cand = append(cand, ranked{row: r, keys: keys})
	}
	sort.SliceStable(cand, func(i, j int) bool {
		a, b := cand[i], cand[j]
		for k, o := range tp.order {
			c := orderCmp(a.keys[k], b.keys[k])
			if c != 0 {
				if o.desc {
					return c > 0
				}
				return c < 0
			}
		}
		for k := range a.row {
			if k < len(b.row) {
				if c := orderCmp(a.row[k].Value, b.row[k].Value); c != 0 {
					return c < 0
				}
			}
		}
		return false
	})
	if len(cand) > p.TopK {
		cand = cand[:p.TopK]
	}
	out := make([][]value.Column, len(cand))
	for i, c := range cand {
		e.top = c.row
		row := make([]value.Column, len(tp.proj))
		for j, n := range tp.proj {
			row[j] = value.Column{Name: p.Columns[j], Value: n.eval(e)}
		}
		out[i] = row
	}
	e.top = nil
	return out
}

// orderCmp orders values for ORDER BY: NULLs first, then by
// value.Compare (which orders unlike kinds by kind).
func orderCmp(a, b value.Value) int {
	r, _ := value.Compare(a, b)
	return r
}
