// Package demo generates the stock-ticker stream of the Spate Analytics
// demo: trades of about thirty well-known tickers with their sectors, whose
// prices follow a random walk, shaped like the records of the Kinesis Data
// Analytics demo stream ({"ticker_symbol", "sector", "price", "change",
// "event_time"}).
//
// It owns the generator (Generator), the pacing of a generator at a rate
// (Feed) and an in-process runner that appends to a store (Run). It does not
// own a transport: `spate demo stock-ticker` feeds the same generator to a
// server's PutRecords over gRPC.
//
// Invariant: a Generator's sequence of tickers, prices and changes depends
// only on its seed; event times come from the clock the caller passes to
// Next, so a seed and a list of times always give the same records.
package demo
