package prefix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itchyny/gojq"
)

// ErrorCodeMetadataExtraction is the error code Firehose reports for a record
// whose partition keys could not be extracted (lastErrorCode in the error
// record it writes under ErrorOutputPrefix).
const ErrorCodeMetadataExtraction = "DynamicPartitioning.MetadataExtractionFailed"

// Defaults of the Extractor's bounds; see WithMaxSteps and WithTimeout.
const (
	DefaultMaxSteps = 1_000_000
	DefaultTimeout  = time.Second
)

// ExtractError reports why the partition keys of one record could not be
// extracted. It is a property of the record (and the query), not of the
// server: the caller routes the record to ErrorOutputPrefix with
// error-output-type MetadataExtractionFailed and error code
// ErrorCodeMetadataExtraction, and carries on with the other records.
type ExtractError struct {
	Reason string
}

func (e *ExtractError) Error() string { return "metadata extraction failed: " + e.Reason }

// QueryError reports a MetadataExtractionQuery that does not compile. Offset
// is the byte offset in the query near which the error was found, or -1.
type QueryError struct {
	Query  string
	Offset int
	Err    error
}

func (e *QueryError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("invalid MetadataExtractionQuery at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("invalid MetadataExtractionQuery: %v", e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// Extractor evaluates a MetadataExtractionQuery (a JQ expression such as
// {customer_id: .customer_id, region: .device.region}) against records to get
// their partition keys. It is safe for concurrent use.
type Extractor struct {
	code     *gojq.Code
	maxSteps int64
	timeout  time.Duration
}

// ExtractorOption configures an Extractor.
type ExtractorOption func(*Extractor)

// WithMaxSteps bounds the number of JQ virtual-machine steps one record may
// take (default DefaultMaxSteps). The bound is deterministic: a record that
// exceeds it always does, so a re-delivery puts it under the same prefix.
func WithMaxSteps(n int) ExtractorOption {
	return func(e *Extractor) { e.maxSteps = int64(n) }
}

// WithTimeout bounds the wall time one record may take (default
// DefaultTimeout). It is a backstop for single steps that are slow (say,
// arithmetic on huge numbers); the step bound is what normally stops a
// runaway query.
func WithTimeout(d time.Duration) ExtractorOption {
	return func(e *Extractor) { e.timeout = d }
}

// guards replaces the JQ builtins whose result depends on the clock or the
// server's time zone: a partition key must be a function of the record, or a
// re-delivery would write a different object.
const guards = `def now: error("now is not supported: partition keys must not depend on the clock");` +
	`def localtime: error("localtime is not supported: use gmtime");` +
	`def strflocaltime($f): error("strflocaltime is not supported: use strftime");` +
	`.`

// NewExtractor compiles query once. Errors are *QueryError.
//
// The query runs with jq semantics as implemented by gojq (Firehose runs
// jq 1.6); $ENV and env are empty, input/inputs are not allowed, and now,
// localtime and strflocaltime fail.
func NewExtractor(query string, opts ...ExtractorOption) (*Extractor, error) {
	e := &Extractor{maxSteps: DefaultMaxSteps, timeout: DefaultTimeout}
	for _, o := range opts {
		o(e)
	}
	if strings.TrimSpace(query) == "" {
		return nil, &QueryError{Query: query, Offset: 0, Err: errors.New("empty query")}
	}
	q, err := gojq.Parse(query)
	if err != nil {
		qe := &QueryError{Query: query, Offset: -1, Err: err}
		var pe *gojq.ParseError
		if errors.As(err, &pe) {
			qe.Offset = pe.Offset
		}
		return nil, qe
	}
	if len(q.Imports) > 0 || q.Meta != nil {
		return nil, &QueryError{Query: query, Offset: -1, Err: errors.New("modules (import, include, module) are not supported")}
	}
	g, err := gojq.Parse(guards)
	if err != nil {
		panic("prefix: guards do not parse: " + err.Error()) // a bug in this file
	}
	// The guards are definitions in an outer scope: the user's own
	// definitions of the same names still win.
	q.FuncDefs = append(g.FuncDefs, q.FuncDefs...)
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, &QueryError{Query: query, Offset: -1, Err: err}
	}
	e.code = code
	return e, nil
}

// Extract evaluates the query against one record and returns its partition
// keys. The record must be one JSON object (surrounding whitespace allowed);
// the query must yield exactly one object whose values are strings, numbers
// or booleans. Numbers are rendered as jq's tostring renders them: integers
// exactly (even past 2^53, where jq 1.6 would round them to a double), other
// numbers in the shortest form that round-trips, as gojq prints them. A null
// value, which is what a missing field gives, is an error, as is any nested
// array or object.
//
// Per-record failures are *ExtractError. The record is not retained.
func (e *Extractor) Extract(record []byte) (map[string]string, error) {
	v, err := decodeObject(record)
	if err != nil {
		return nil, &ExtractError{Reason: err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	sc := &stepContext{Context: ctx, budget: e.maxSteps}
	it := e.code.RunWithContext(sc, v)

	first, ok := it.Next()
	if !ok {
		return nil, &ExtractError{Reason: "query yielded no value"}
	}
	if err := resultErr(first, sc); err != nil {
		return nil, err
	}
	if second, ok := it.Next(); ok {
		if err := resultErr(second, sc); err != nil {
			return nil, err
		}
		return nil, &ExtractError{Reason: "query yielded more than one value"}
	}
	obj, ok := first.(map[string]any)
	if !ok {
		return nil, &ExtractError{Reason: fmt.Sprintf("query yielded %s, want an object of partition keys", typeName(first))}
	}
	keys := make(map[string]string, len(obj))
	for k, val := range obj {
		s, err := keyString(val)
		if err != nil {
			return nil, &ExtractError{Reason: fmt.Sprintf("partition key %q: %v", k, err)}
		}
		keys[k] = s
	}
	return keys, nil
}

// resultErr turns an error yielded by the query into an *ExtractError.
func resultErr(v any, sc *stepContext) error {
	err, ok := v.(error)
	if !ok {
		return nil
	}
	switch {
	case sc.exhausted:
		return &ExtractError{Reason: fmt.Sprintf("query exceeded %d steps", sc.budget)}
	case errors.Is(err, context.DeadlineExceeded):
		return &ExtractError{Reason: "query timed out"}
	}
	return &ExtractError{Reason: "query failed: " + err.Error()}
}

// stepContext is a context whose Done channel is closed after budget calls.
// gojq checks Done once per virtual-machine step, so this counts steps. It is
// used by one goroutine (the one running the query), so it needs no locking.
type stepContext struct {
	context.Context
	budget    int64
	steps     int64
	exhausted bool
	closed    chan struct{} // made and closed when the budget runs out
}

func (c *stepContext) Done() <-chan struct{} {
	c.steps++
	if c.steps > c.budget {
		if !c.exhausted {
			c.exhausted = true
			c.closed = make(chan struct{})
			close(c.closed)
		}
		return c.closed
	}
	return c.Context.Done()
}

func (c *stepContext) Err() error {
	if c.exhausted {
		return errStepBudget
	}
	return c.Context.Err()
}

var errStepBudget = errors.New("step budget exhausted")

// decodeObject decodes a record that must be exactly one JSON object, with
// numbers kept as json.Number so that integers survive exactly.
func decodeObject(record []byte) (map[string]any, error) {
	if !utf8.Valid(record) {
		return nil, errors.New("record is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(record, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("non-JSON record provided: a record must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("non-JSON record provided: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("non-JSON record provided: data after the JSON object (one record must hold one object)")
	}
	return obj, nil
}

// keyString renders one partition key value.
func keyString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	case int:
		return fmt.Sprint(v), nil
	case *big.Int:
		return v.String(), nil
	case float64:
		return floatString(v)
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			if i, ok := new(big.Int).SetString(s, 10); ok {
				return i.String(), nil
			}
		}
		f, err := v.Float64()
		if err != nil && !math.IsInf(f, 0) {
			return "", fmt.Errorf("bad number %s", s)
		}
		return floatString(f)
	case nil:
		return "", errors.New("value is null (is the field missing from the record?)")
	}
	return "", fmt.Errorf("value is %s, want a string, number or boolean", typeName(v))
}

func floatString(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("value is %v, not a finite number", f)
	}
	b, err := gojq.Marshal(f)
	return string(b), err
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case error:
		return "an error"
	}
	return "a number"
}
