// Package query is the SQL front end of Spate Analytics: it parses a
// script with github.com/xwb1989/sqlparser (MySQL grammar, wrapped here so
// it can be replaced), rejects what the engine cannot run, and compiles
// the rest into a Plan of closures that the engine evaluates per record.
//
// It owns the dialect, the validation and expression evaluation. It does
// not own windows, aggregation state or watermarks (packages window, agg
// and analytics do); it tells them what to compute through Plan.Window,
// Plan.Aggs, Input and Group.
//
// Invariant: Compile accepts a script only if every construct in it is
// supported; it never panics, and every error is an *Error that points at
// the offending token (line and column, in characters) and says what to
// write instead. A compiled Plan is immutable; an Evaluator reads each
// record with one fastjson parse, extracting only the fields the plan
// references, and allocates nothing per record for numbers.
//
// # Scripts
//
// Zero or more SET statements, then exactly one query, separated by ';':
//
//	SET watermark_delay = INTERVAL '5' SECOND;   -- default 0
//	SET allowed_lateness = INTERVAL '1' MINUTE;  -- default 0
//	SET max_skew = INTERVAL '1' MINUTE;          -- default 1 minute
//	SET emit = 'final';                          -- or 'changes'
//	SET start_position = 'TRIM_HORIZON';         -- or 'LATEST'
//	SET late_rows = 'late-stream';               -- optional
//	INSERT INTO out SELECT ... FROM in ...;      -- or a bare SELECT
//
// Durations are INTERVAL 'n' unit or INTERVAL n unit, n a whole number,
// unit MILLISECOND, SECOND, MINUTE, HOUR or DAY (or plurals); a SET also
// takes a bare number of milliseconds.
//
// # Names and values
//
// Columns are the top-level fields of the JSON record, matched by exact
// (case-sensitive) name; quote unusual names with backquotes (`my-field`).
// Double quotes are rejected: MySQL reads "x" as a string. Nested values
// are read with col->>'$.a.b', col->'$.a[0]' or JSON_EXTRACT(col, '$.a'),
// which all give the same value (the path must be a constant and col a
// record field). JSON numbers become BIGINT when integral, else DOUBLE;
// strings VARCHAR; true/false BOOLEAN; null and missing fields NULL;
// objects and arrays their JSON text. ROWTIME is the record's arrival time
// (it shadows a field of that name); PROCTIME() and NOW() the processing
// time. Timestamps are RFC 3339 strings or epoch milliseconds.
//
// # Expressions
//
// Arithmetic + - * / DIV % (MOD): BIGINT op BIGINT stays BIGINT (wrapping
// on overflow) except '/', which is always DOUBLE as in MySQL; division by
// zero is NULL; TIMESTAMP ± number (an INTERVAL is milliseconds) is a
// TIMESTAMP and TIMESTAMP - TIMESTAMP is milliseconds. Comparisons, AND,
// OR, NOT with three-valued logic; a string compared with a number is read
// as a number. IN / NOT IN (lists), BETWEEN, LIKE / NOT LIKE with % and _
// (case-sensitive, ESCAPE supported), REGEXP, IS [NOT] NULL/TRUE/FALSE,
// CASE in both forms, CAST(x AS BIGINT|DOUBLE|VARCHAR|BOOLEAN|TIMESTAMP|
// DATE) and MySQL's type names (SIGNED, DECIMAL, CHAR, DATETIME).
//
// Functions: UPPER, LOWER, LENGTH (bytes), CHAR_LENGTH, SUBSTRING/SUBSTR/
// MID (also FROM ... FOR), LEFT, RIGHT, CONCAT, TRIM, LTRIM, RTRIM,
// REPLACE, LOCATE, POSITION(a IN b), INSTR, COALESCE, IFNULL, NULLIF, IF,
// GREATEST, LEAST, ABS, SIGN, SQRT, LN, LOG10, EXP, POWER, MOD, ROUND,
// FLOOR, CEIL; time functions (all UTC): CURRENT_TIMESTAMP, NOW,
// CURRENT_DATE, TO_TIMESTAMP(ms or string), UNIX_MILLIS(ts),
// UNIX_TIMESTAMP(ts) (seconds), FROM_UNIXTIME(seconds), YEAR, QUARTER,
// MONTH, WEEK, DAY, DAYOFWEEK, DAYOFYEAR, HOUR, MINUTE, SECOND,
// MILLISECOND, EXTRACT(unit FROM ts), FLOOR/CEIL(ts TO unit),
// FLOOR(ts, INTERVAL ...), DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s'), and
// TIMESTAMP '2026-01-02T03:04:05Z' literals.
//
// # Windows and aggregates
//
// A query without a window in GROUP BY is a stateless filter/projection
// (no aggregates, no GROUP BY, no HAVING: those would be unbounded). A
// windowed query has exactly one of TUMBLE(t, size), STEP(t, size) (the
// same), HOP(t, slide, size) or SESSION(t, gap) in GROUP BY, beside any
// number of key expressions; t is an event-time expression, ROWTIME or
// PROCTIME(). Its select list and HAVING may use the keys (matched by
// their text), aggregates (COUNT(*), COUNT([DISTINCT] x), SUM, AVG, MIN,
// MAX, FIRST_VALUE, LAST_VALUE, APPROX_COUNT_DISTINCT,
// APPROX_PERCENTILE(x, p)), window_start, window_end and
// TUMBLE_START/END, HOP_START/END, SESSION_START/END with the window's own
// arguments, and expressions over them. HAVING may also name select-list
// aliases. Identical aggregates are computed once.
//
// Top-K: SELECT cols FROM (windowed subquery) AS t [WHERE ...] ORDER BY
// ... LIMIT k ranks each window's rows and keeps the first k (ties broken
// by the rows' values). The outer query may use *, the subquery's columns
// and expressions over them. It is rejected over SESSION windows (their
// windows are per key, so there is no common set of rows to rank) and
// with emit = 'changes' (partial rows cannot be ranked). SELECT * is
// rejected elsewhere: a stream's columns are not known in advance.
//
// # Output names
//
// AS names a column. Otherwise a column is named by its name, a JSON
// path by its last key, a function call or aggregate by its lowercased
// name (COUNT(*) is "count"), anything else by its text; a repeated
// default name gets a suffix (_2, _3).
//
// # Limits
//
// A script is at most MaxScriptBytes (100 KiB, Kinesis Analytics' limit on
// application code; MaxBytes changes it), and an expression nests at most
// MaxDepth (128) levels, each operator, parenthesis, function call, CASE
// and subquery being one: a chain a + b + ... is as deep as it is long.
// Every walk of a script (sqlparser's parser, String and Walk, the
// compiler, the compiled closures) recurses once per level, so the limits
// are checked first: the size, then parentheses, CASE and prefix-operator
// runs on the tokens (the error points at the token past the limit), then
// the AST's depth with an explicit stack (the error points at the start
// of the too-deep expression). Within them, compile time and memory are
// linear in the script's length.
//
// FROM and INSERT INTO take Kinesis stream names, so internal streams
// ("firehose:orders", a delivery stream's buffer) cannot be named.
//
// # Error positions
//
// sqlparser's AST has no positions. Compile lexes the script itself and
// walks its tokens in step with the AST: clauses are found by keyword at
// the SELECT's parenthesis depth, and each column or function is looked
// for from the last one found, so an error points at the construct that
// caused it (or, failing that, at the closest one located before it).
// Syntax errors come from sqlparser's byte offset, mapped to the token it
// fell on. Standard-SQL forms sqlparser cannot read (CAST to non-MySQL
// types, EXTRACT, FLOOR ... TO, POSITION ... IN, SUBSTRING of an
// expression, STEP ... BY, TIMESTAMP literals) are rewritten into function
// calls first, with an offset map back to the script as written.
package query
