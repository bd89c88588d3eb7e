// Package agg owns the aggregate functions of Spate Analytics: the running
// states that window operators fold rows into, merge and checkpoint.
//
// A State is created by New from a Spec and then only grows: Add folds one
// row, Merge folds another state of the same Spec (HOP windows merge their
// panes, sessions merge when a late row bridges them), Result reads the SQL
// value so far, and AppendBinary / Decode turn it into bytes and back for
// checkpoints.
//
// Invariants:
//   - Merge never changes its argument and the receiver never shares mutable
//     memory with it afterwards, so one pane can be merged into many windows.
//   - Folding the same rows, in any grouping into merged states, gives the
//     same Result for every exact aggregate (COUNT, SUM and AVG of
//     integers, MIN, MAX, FIRST_VALUE, LAST_VALUE, DISTINCT variants); a
//     DOUBLE SUM may differ in its last bits with the grouping, as floating
//     point addition does.
//   - Decode(spec, AppendBinary(nil)) gives a state whose Result, and whose
//     Result after any further Add or Merge, equals the original's.
//   - Add of COUNT, SUM, AVG, MIN and MAX allocates nothing for numbers:
//     this is the per-row hot path.
//
// SQL semantics, in one place:
//   - NULL input is ignored by every aggregate but COUNT(*), FIRST_VALUE and
//     LAST_VALUE (which return the NULL if the first or last row has one).
//   - SUM, AVG and APPROX_PERCENTILE read only numbers (BIGINT and DOUBLE):
//     any other input (strings, booleans, timestamps) is ignored as if NULL,
//     since the dialect has no implicit casts in aggregates.
//   - SUM is BIGINT while every input is a BIGINT and the sum fits, DOUBLE
//     otherwise (an overflowing integer sum continues in DOUBLE rather than
//     wrapping); NULL over no input. AVG is DOUBLE, NULL over no input.
//     COUNT over no input is 0, APPROX_COUNT_DISTINCT is 0.
//   - MIN and MAX order by value.Compare; values of kinds that do not compare
//     (a string and a number) order by kind, so the result is deterministic.
//   - FIRST_VALUE is the value of the row with the smallest event time, the
//     first added among ties; LAST_VALUE the largest, the last added among
//     ties. When states merge, the receiver's rows count as added first.
//   - DISTINCT variants are exact: they keep every distinct value (by
//     value.AppendKey, so 3 and 3.0 are one value) and fold them, in key
//     order, when Result is read. DISTINCT does not change MIN, MAX,
//     FIRST_VALUE, LAST_VALUE or APPROX_COUNT_DISTINCT.
//   - APPROX_COUNT_DISTINCT is a HyperLogLog sketch of precision 14 (16384
//     registers, sparse while small) over the value.AppendKey bytes: its
//     standard error is 1.04/sqrt(16384) ≈ 0.81%, so 99.7% of estimates are
//     within ±2.5% of the true count; small counts (below a few hundred)
//     are near exact thanks to the sparse representation.
//   - APPROX_PERCENTILE(x, p) is a DDSketch with 1% relative accuracy: the
//     result r satisfies |r - v| <= 0.01·|v| where v is the exact value of
//     rank floor(p·(n-1)) among the n inputs sorted ascending (the lower
//     percentile). Negative values, zero and positive values are all
//     tracked; magnitudes below about 1e-308 count as zero, NaN and
//     magnitudes beyond about 1e308 are ignored. The sketch keeps at most
//     2048 bins per sign, enough for a ratio of 1e17 between the smallest
//     and the largest magnitude before the smallest collapse.
package agg
