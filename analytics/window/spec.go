package window

// Kind is the shape of a group window.
type Kind uint8

// The group windows of the SQL dialect.
const (
	Tumble  Kind = iota + 1 // TUMBLE(ts, size) and STEP(ts, size)
	Hop                     // HOP(ts, slide, size)
	Session                 // SESSION(ts, gap)
)

// Spec is a group window in milliseconds. Tumble uses Size; Hop uses Slide
// and Size; Session uses Gap.
type Spec struct {
	Kind  Kind
	Size  int64
	Slide int64
	Gap   int64
}

// Emit says when a window's result is written.
type Emit uint8

const (
	// EmitFinal writes each window once, when the watermark passes its end
	// plus the allowed lateness.
	EmitFinal Emit = iota
	// EmitChanges writes a window's current result at every Flush in which
	// it changed.
	EmitChanges
)
