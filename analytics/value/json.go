package value

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// AppendJSON appends v as a JSON value: NULL as null, timestamps as
// FormatTime strings, non-finite floats as null (JSON has no NaN).
func AppendJSON(dst []byte, v Value) []byte {
	switch v.Kind {
	case KindNull:
		return append(dst, "null"...)
	case KindBool:
		if v.I != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case KindInt:
		return strconv.AppendInt(dst, v.I, 10)
	case KindFloat:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, v.F, 'g', -1, 64)
	case KindTime:
		return strconv.AppendQuote(dst, FormatTime(v.I))
	}
	b, _ := json.Marshal(v.S) // escapes like encoding/json (HTML-safe), never fails for a string
	return append(dst, b...)
}

// Column is one named value of a result row.
type Column struct {
	Name  string
	Value Value
}

// AppendObject appends cols as a JSON object whose keys keep their order.
func AppendObject(dst []byte, cols []Column) []byte {
	dst = append(dst, '{')
	for i, c := range cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		b, _ := json.Marshal(c.Name)
		dst = append(dst, b...)
		dst = append(dst, ':')
		dst = AppendJSON(dst, c.Value)
	}
	return append(dst, '}')
}

// FromJSON converts a decoded encoding/json value (with UseNumber or
// float64 numbers) into a Value. Objects and arrays become their JSON text
// as VARCHAR.
func FromJSON(x any) Value {
	switch t := x.(type) {
	case nil:
		return Null
	case bool:
		return Bool(t)
	case string:
		return String(t)
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return Int(int64(t))
		}
		return Float(t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return Int(i)
		}
		f, _ := t.Float64()
		return Float(f)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return String(fmt.Sprint(x))
	}
	return String(string(b))
}
