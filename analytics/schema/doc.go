// Package schema proposes a SQL schema for a stream of JSON records:
// `spate stream schema STREAM` and the schema-discovery API.
//
// Discover samples the most recent records of every shard of a stream;
// Infer turns a sample into columns, each with the SQL expression that
// reads it (a top-level field by name, a nested one as
// col->>'$.a.b'), a SQL type, whether it can be NULL, how often it is
// present and an example value.
//
// Types are proposed from the JSON values seen, in this order:
//   - only true/false: BOOLEAN;
//   - only whole numbers: BIGINT, or TIMESTAMP when the field's name looks
//     like a time (time, date, ts, ..._at, ..._ms) and every value lies
//     between 2001 and 2286 as epoch milliseconds (1e12 to 1e13); values
//     that look like epoch seconds stay BIGINT with a note;
//   - numbers with a fraction or exponent (possibly mixed with whole
//     ones): DOUBLE;
//   - only strings that parse as timestamps (RFC 3339, or
//     "2006-01-02 15:04:05" in UTC; digit-only strings do not count):
//     TIMESTAMP;
//   - other strings, arrays (as JSON text) and any mix of kinds: VARCHAR.
//
// These are proposals for a person to read: a sample can miss a field or a
// value that breaks the rule, so Nullable and Presence say how much was
// seen.
//
// Invariant: Discover only reads, and never past the records each shard
// held when it started, so a busy stream cannot keep it reading; it reads
// back in time only as far as it takes to find limit records.
package schema
