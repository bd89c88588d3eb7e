// Package oracle checks the analytics engine against PostgreSQL, used as an
// independent SQL engine: the same generated events go through
// analytics.Evaluate and into a PostgreSQL table, and the engine's windowed
// results must equal what plain SQL computes there (date_bin for tumbling
// windows, generate_series of window starts for hopping ones,
// gaps-and-islands for sessions).
//
// The package owns the event generator (Generate) and the tests; it owns no
// engine code. The tests need a server: SPATE_TEST_PG_URL names it, and
// `make test` (or scripts/pg-server.sh start) provides one. Without it the
// tests fail rather than skip, so CI can never pass without the oracle.
//
// Invariant: the generator is a pure function of its Config (seed
// included), so every failure reproduces.
package oracle
