package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// liveTable prints result rows as they come, aligned under a header.
//
// Rows arrive one at a time, possibly minutes apart, so the widths cannot
// come from the whole table. The header waits for the first row and takes
// its widths from it (and from the column names); a column is never
// narrower than minCellWidth. Invariant: a column's width only grows. When a
// row is wider than the widths so far, they grow to fit it and the header is
// printed again above that row, so every row lines up with the header
// printed last (as vmstat and iostat repeat theirs). A column is
// right-aligned, header included, when its value in the first row is a
// number.
type liveTable struct {
	w       io.Writer
	cols    []string
	widths  []int
	numeric []bool // per column: right-aligned
	started bool   // the first header has been printed
}

// minCellWidth leaves room for values somewhat wider than the first row's
// (a count going from 9 to 10, a price from 99.5 to 100.25) without
// printing the header again.
const minCellWidth = 8

// cellGap separates columns.
const cellGap = "  "

func newLiveTable(w io.Writer, cols []string) *liveTable {
	return &liveTable{w: w, cols: cols}
}

// cell is one printed value.
type cell struct {
	text    string
	numeric bool
}

// row prints one result row, preceded by the header when it is the first
// row or when it widened a column.
func (t *liveTable) row(cells []cell) error {
	var b strings.Builder
	if t.fit(cells) {
		t.writeHeader(&b)
	}
	t.writeLine(&b, cells, func(i int) bool { return cells[i].numeric })
	_, err := io.WriteString(t.w, b.String())
	return err
}

// fit grows the widths to hold cells and reports whether the header must
// be printed (again). The first row also decides each column's alignment.
func (t *liveTable) fit(cells []cell) (header bool) {
	n := max(len(cells), len(t.cols))
	for len(t.widths) < n {
		i := len(t.widths)
		w := minCellWidth
		if i < len(t.cols) {
			w = max(w, utf8.RuneCountInString(t.cols[i]))
		}
		t.widths = append(t.widths, w)
		t.numeric = append(t.numeric, i < len(cells) && cells[i].numeric)
		header = true // a new column (or the first row)
	}
	for i, c := range cells {
		if w := utf8.RuneCountInString(c.text); w > t.widths[i] {
			t.widths[i] = w
			header = true
		}
	}
	if !t.started {
		t.started, header = true, true
	}
	return header
}

func (t *liveTable) writeHeader(b *strings.Builder) {
	cells := make([]cell, len(t.widths))
	for i := range cells {
		if i < len(t.cols) {
			cells[i].text = strings.ToUpper(t.cols[i])
		}
	}
	t.writeLine(b, cells, func(i int) bool { return t.numeric[i] })
}

// writeLine writes cells padded to the widths, right-aligned where right
// says so, without trailing blanks.
func (t *liveTable) writeLine(b *strings.Builder, cells []cell, right func(int) bool) {
	var line strings.Builder
	for i, c := range cells {
		if i > 0 {
			line.WriteString(cellGap)
		}
		pad := strings.Repeat(" ", t.widths[i]-utf8.RuneCountInString(c.text))
		if right(i) {
			line.WriteString(pad + c.text)
		} else {
			line.WriteString(c.text + pad)
		}
	}
	b.WriteString(strings.TrimRight(line.String(), " "))
	b.WriteByte('\n')
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
// numbers for people (formatNumber), booleans as written, objects and
// arrays as compact JSON.
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
		return cell{text: formatNumber(string(raw)), numeric: true}
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return cell{text: b.String()}
	}
	return cell{text: string(raw)}
}

// displayDigits is how many significant digits a fractional number shows
// in the table. A DOUBLE carries about 16, and the last one or two are
// noise from binary fractions and from summing (0.1 + 0.2 is
// 0.30000000000000004; an AVG over n values can be off by n units in the
// last place). Twelve hide that noise for sums of up to about ten thousand
// values even in the worst case, and still show amounts of money to the
// cent below ten billion. The JSON output (--output json) keeps every digit.
const displayDigits = 12

// formatNumber formats a JSON number literal for people. Integers (no
// fraction, no exponent) are printed as written, every digit kept, however
// long. Other numbers are rounded to displayDigits significant digits and
// printed in the shortest form that shows those (trailing zeros dropped):
// 185.78000000000003 as 185.78, -0.19999999999999998 as -0.2, 2.50 as
// 2.5; in exponent form below 1e-4 and from 1e12 on (1.5e+15), where
// plain digits would mislead.
func formatNumber(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		return lit
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return lit // out of float64's range: show what the server sent
	}
	if f == 0 {
		return "0" // not "-0"
	}
	return strconv.FormatFloat(f, 'g', displayDigits, 64)
}
