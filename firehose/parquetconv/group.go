package parquetconv

import (
	"reflect"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// group is a parquet group node whose fields keep the order they were given
// in. parquet.Group is a map and sorts its fields by name; a table's columns
// should appear in the file in the order the schema declares them.
type group []parquet.Field

var _ parquet.Node = group(nil)

func newGroup(names []string, nodes []parquet.Node) group {
	g := make(group, len(names))
	for i := range names {
		g[i] = &groupField{Node: nodes[i], name: names[i]}
	}
	return g
}

func (g group) ID() int { return 0 }

func (g group) String() string {
	var b strings.Builder
	b.WriteString("group {")
	for i, f := range g {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Name())
	}
	b.WriteString("}")
	return b.String()
}

// Type returns the type of parquet groups (no physical or logical type).
func (g group) Type() parquet.Type                      { return parquet.Group(nil).Type() }
func (g group) Optional() bool                          { return false }
func (g group) Repeated() bool                          { return false }
func (g group) Required() bool                          { return true }
func (g group) Leaf() bool                              { return false }
func (g group) Fields() []parquet.Field                 { return g }
func (g group) Encoding() encoding.Encoding             { return nil }
func (g group) Compression() compress.Codec             { return nil }
func (g group) GoType() reflect.Type                    { return reflect.TypeFor[map[string]any]() }
func (f *groupField) Name() string                      { return f.name }
func (f *groupField) Value(reflect.Value) reflect.Value { return reflect.Value{} }

// groupField is a named field of a group. Rows are assembled by hand (see
// shred), so Value, which maps Go values onto the schema, is never used.
type groupField struct {
	parquet.Node
	name string
}
