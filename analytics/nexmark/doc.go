// Package nexmark generates Nexmark bid events as JSON records, for the
// analytics benchmarks (bench_test.go: q5-, q7- and q11-shaped queries).
//
// Nexmark models an online auction: people, auctions and bids in the
// proportion 1:3:46. Only bids are generated here, but their auction and
// bidder ids follow the benchmark's generator: ids are derived from where
// the bid sits in the notional full event stream, half the bids go to a
// few hot auctions and three quarters come from a few hot bidders, the
// rest spread over the auctions in flight and the active people; half use
// one of four hot channels. Prices are 10^U(0,6) dollars, in cents.
//
// It owns no engine code and no transport: records are bytes for
// analytics.Evaluate or PutRecords.
//
// Invariant: a Generator's output is a pure function of its Config: the
// same seed gives the same bids, byte for byte.
package nexmark
