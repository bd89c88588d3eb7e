// Package value is the SQL value model of Spate Analytics: the typed values
// that expressions compute, aggregates fold and result rows carry.
//
// A Value is a small struct passed by value, never a pointer or an
// interface, so evaluating an expression allocates nothing for numbers.
// Timestamps are milliseconds since the Unix epoch in UTC (KindTime); they
// compare with each other and with numbers (read as epoch milliseconds).
//
// The package owns one more invariant: AppendKey writes a value in a form
// that is equal for equal values (an Int 3 and a Float 3.0 give the same
// bytes), so group keys built from it group the way SQL equality does.
package value
