// Package window owns the group-window operator of Spate Analytics: it
// folds rows into per-key aggregate states of TUMBLE, HOP and SESSION
// windows, fires windows as the watermark passes them, and snapshots its
// whole state for checkpoints. It does not compute watermarks, evaluate
// expressions or encode rows: the engine hands it group keys, event times
// and aggregate arguments, and the watermark.
//
// Windows are [start, end) in epoch milliseconds, TUMBLE and HOP aligned to
// the Unix epoch (floor division, so negative times align too).
//
// HOP works on panes of gcd(slide, size) ms: each row is folded into exactly
// one pane, and a window's result merges its size/pane panes when it is
// emitted; no row is ever copied into size/slide windows. TUMBLE is the
// HOP whose slide, size and pane are equal, which needs no merge.
//
// SESSION is per group key: a key keeps an ordered set of disjoint
// sessions {first row time, last row time, states}; a row joins a session
// when it is less than gap from one of its rows, a row within gap of two
// sessions merges them, and a session is [first, last+gap).
//
// Invariants:
//   - The watermark never goes down. A window fires when
//     end + AllowedLateness <= watermark and its state is dropped then (a
//     HOP pane when the last window containing it has fired), so at any time
//     a window has fired iff end + lateness <= watermark.
//   - A row is accepted iff some window containing it has not fired: for
//     TUMBLE and HOP iff (end of the last window containing it) + lateness >
//     watermark, for SESSION iff ts + gap + lateness > watermark. A row that
//     is not accepted changes nothing. A HOP row accepted while its earlier
//     windows have fired counts only in the windows that have not.
//   - Emission order is a function of the state and the calls alone: within
//     one Advance or Flush, results come sorted by End, then Start, then
//     group key bytes. Restore(cfg, op.AppendBinary(nil)) gives an operator
//     whose emissions, for the same later calls, are identical.
//
// Emit modes. EmitFinal emits each window once, from Advance, when it fires.
// EmitChanges emits from Flush the current result of every live window that
// received rows since the last Flush, and from Advance the pending changes
// of the windows it closes (so no update is lost when the caller advances
// before flushing). Nothing is ever retracted: when a session grows to the
// left or two sessions merge, the superseded [start, end) rows already
// emitted stay as they were and the new session is emitted with its own
// start; consumers keyed by (key, start) see the old rows as stale.
//
// An Operator is not safe for concurrent use.
package window
