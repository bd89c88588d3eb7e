package prefix

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Values of !{firehose:error-output-type}. The first four are the values the
// Firehose developer guide lists (s3-prefixes.html, "firehose namespace");
// MetadataExtractionFailed is what Firehose is observed to use for records
// whose partition keys could not be extracted (see the package doc).
const (
	ProcessingFailed         = "processing-failed"
	ElasticsearchFailed      = "elasticsearch-failed"
	SplunkFailed             = "splunk-failed"
	FormatConversionFailed   = "format-conversion-failed"
	MetadataExtractionFailed = "metadata-extraction-failed"
)

// MaxEvaluatedLen is the longest an evaluated Prefix or ErrorOutputPrefix may
// be ("Neither Prefix nor ErrorOutputPrefix can be greater than 512 characters
// after they're evaluated", s3-prefixes.html, semantic rules).
const MaxEvaluatedLen = 512

// RandomStringLen is the length of !{firehose:random-string} ("Evaluates to a
// random string of 11 characters").
const RandomStringLen = 11

// defaultTimePath is what Firehose appends to a Prefix that has no timestamp
// expression, and the whole Prefix when none is given.
const defaultTimePath = "!{timestamp:yyyy/MM/dd/HH/}"

// SyntaxError reports an invalid prefix expression. Offset is the byte offset
// in the string given to Compile or CompileErrorOutput.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid prefix at offset %d: %s", e.Offset, e.Msg)
}

type partKind uint8

const (
	partLiteral partKind = iota
	partTimestamp
	partKey       // !{partitionKeyFromQuery:NAME}
	partLambdaKey // !{partitionKeyFromLambda:NAME}
	partRandom
	partErrorType
)

type part struct {
	kind partKind
	text string    // literal text (partLiteral) or key name (partKey, partLambdaKey)
	ts   []tsField // partTimestamp
}

// Template is a compiled Prefix or ErrorOutputPrefix. It is immutable and safe
// for concurrent use.
type Template struct {
	src   string // effective source, after Firehose's defaults were applied
	parts []part
	keys  []string // partitionKeyFromQuery names, in order of first use
	// lambdaKeys are the partitionKeyFromLambda names, in order of first use.
	lambdaKeys []string
}

// Input is what a template is evaluated against.
type Input struct {
	// ArrivalTime is the approximate arrival time of the oldest record in the
	// object; every !{timestamp:...} in the template evaluates to it.
	ArrivalTime time.Time
	// Location is the time zone of timestamps (the destination's
	// CustomTimeZone); nil means UTC.
	Location *time.Location
	// Keys holds the partition keys of the object's records, by name: what
	// the MetadataExtraction query extracted (!{partitionKeyFromQuery:NAME}).
	Keys map[string]string
	// LambdaKeys holds the partition keys the Lambda processor returned in
	// the record's metadata.partitionKeys (!{partitionKeyFromLambda:NAME}).
	LambdaKeys map[string]string
	// RandomString is the value of the first !{firehose:random-string}; later
	// ones in the same template are derived from it (see Render). The caller
	// supplies it so that a re-delivery renders the same key; RandomString
	// derives one from a seed.
	RandomString string
	// ErrorOutputType is the value of !{firehose:error-output-type}, one of
	// the constants above.
	ErrorOutputType string
}

// DefaultPrefix is the prefix Firehose uses when Prefix is empty: the arrival
// time as YYYY/MM/dd/HH/ in UTC.
func DefaultPrefix(t time.Time) string {
	return t.UTC().Format("2006/01/02/15/")
}

// RandomString derives a !{firehose:random-string} value from seed: 11
// lowercase hex digits of its SHA-256. The same seed always gives the same
// string, which keeps object keys stable across re-deliveries.
func RandomString(seed []byte) string {
	sum := sha256.Sum256(seed)
	return hex.EncodeToString(sum[:])[:RandomStringLen]
}

// Compile compiles the Prefix of an S3 destination, applying Firehose's rules
// (s3-prefixes.html, semantic rules):
//   - an empty prefix is YYYY/MM/dd/HH/ of the arrival time;
//   - a prefix with neither a timestamp nor a partition key expression gets
//     !{timestamp:yyyy/MM/dd/HH/} appended, with no separator ("logs" renders
//     as "logs2024/01/02/03/", so end it with a slash);
//   - !{firehose:error-output-type} is not allowed in a Prefix.
//
// A prefix with !{partitionKeyFromQuery:...} gets no time path appended: with
// dynamic partitioning the prefix is used as written (the example in
// dynamic-partitioning.html renders keys only).
func Compile(prefix string) (*Template, error) {
	return checked(compile(prefix))
}

func compile(prefix string) (*Template, error) {
	if prefix == "" {
		return parse(defaultTimePath)
	}
	t, err := parse(prefix)
	if err != nil {
		return nil, err
	}
	if i := t.find(partErrorType); i >= 0 {
		return nil, &SyntaxError{Offset: i, Msg: "!{firehose:error-output-type} can only be used in ErrorOutputPrefix"}
	}
	if t.find(partTimestamp) < 0 && len(t.keys) == 0 && len(t.lambdaKeys) == 0 {
		return parse(prefix + defaultTimePath)
	}
	return t, nil
}

// checked applies checkSafe to what compiled.
func checked(t *Template, err error) (*Template, error) {
	if err != nil {
		return nil, err
	}
	if err := t.checkSafe(); err != nil {
		return nil, err
	}
	return t, nil
}

// CompileErrorOutput compiles the ErrorOutputPrefix of an S3 destination
// whose Prefix is prefix, applying Firehose's rules (s3-prefixes.html,
// semantic rules):
//   - an empty ErrorOutputPrefix is allowed only when Prefix has no
//     expressions, and then evaluates to
//     <Prefix><error-output-type>/YYYY/MM/dd/HH/;
//   - an ErrorOutputPrefix with expressions must use
//     !{firehose:error-output-type};
//   - an ErrorOutputPrefix without expressions gets
//     !{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/} appended, as
//     for an empty one (the guide does not say; this keeps error objects
//     apart by type and hour).
//
// Partition keys are not allowed: the records that land here are often the
// ones whose keys could not be extracted.
func CompileErrorOutput(errorOutputPrefix, prefix string) (*Template, error) {
	return checked(compileErrorOutput(errorOutputPrefix, prefix))
}

func compileErrorOutput(errorOutputPrefix, prefix string) (*Template, error) {
	if errorOutputPrefix == "" {
		p, err := parse(prefix)
		if err != nil {
			return nil, fmt.Errorf("prefix: %w", err)
		}
		if len(p.parts) > 0 && (len(p.parts) > 1 || p.parts[0].kind != partLiteral) {
			return nil, errors.New("ErrorOutputPrefix is required when Prefix contains expressions")
		}
		return parse(prefix + "!{firehose:error-output-type}/" + defaultTimePath)
	}
	t, err := parse(errorOutputPrefix)
	if err != nil {
		return nil, err
	}
	if len(t.keys) > 0 || len(t.lambdaKeys) > 0 {
		return nil, &SyntaxError{Offset: max(t.find(partKey), t.find(partLambdaKey)), Msg: "partition keys cannot be used in ErrorOutputPrefix"}
	}
	if len(t.parts) == 1 && t.parts[0].kind == partLiteral {
		return parse(errorOutputPrefix + "!{firehose:error-output-type}/" + defaultTimePath)
	}
	if t.find(partErrorType) < 0 {
		return nil, &SyntaxError{Offset: 0, Msg: "an ErrorOutputPrefix with expressions must include !{firehose:error-output-type}"}
	}
	return t, nil
}

// find returns the offset in t.src of the first expression of kind k, or -1.
// It re-scans the source, which is fine: it runs only while compiling.
func (t *Template) find(k partKind) int {
	if !slices.ContainsFunc(t.parts, func(p part) bool { return p.kind == k }) {
		return -1
	}
	var needle string
	switch k {
	case partTimestamp:
		needle = "!{timestamp:"
	case partKey:
		needle = "!{partitionKeyFromQuery:"
	case partLambdaKey:
		needle = "!{partitionKeyFromLambda:"
	case partRandom:
		needle = "!{firehose:random-string}"
	case partErrorType:
		needle = "!{firehose:error-output-type}"
	}
	return strings.Index(t.src, needle)
}

// parse compiles the expression syntax of s without applying any Firehose
// field rule.
func parse(s string) (*Template, error) {
	t := &Template{src: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{kind: partLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '!' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, &SyntaxError{Offset: i, Msg: fmt.Sprintf("unterminated expression %q: missing '}'", truncate(s[i:]))}
			}
			body := s[i+2 : i+2+end]
			if j := strings.Index(body, "!{"); j >= 0 {
				return nil, &SyntaxError{Offset: i + 2 + j, Msg: fmt.Sprintf("nested '!{' inside expression %q", truncate(s[i:i+3+end]))}
			}
			p, err := parseExpr(body, i)
			if err != nil {
				return nil, err
			}
			flush()
			t.parts = append(t.parts, p)
			if p.kind == partKey && !slices.Contains(t.keys, p.text) {
				t.keys = append(t.keys, p.text)
			}
			if p.kind == partLambdaKey && !slices.Contains(t.lambdaKeys, p.text) {
				t.lambdaKeys = append(t.lambdaKeys, p.text)
			}
			i += 3 + end
		case c == '{':
			return nil, &SyntaxError{Offset: i, Msg: "'{' outside an expression (expressions are written !{namespace:value})"}
		case c == '}':
			return nil, &SyntaxError{Offset: i, Msg: "unbalanced '}'"}
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return t, nil
}

// parseExpr compiles the body of an expression (between "!{" and "}"); at is
// the offset of its "!{".
func parseExpr(body string, at int) (part, error) {
	ns, value, ok := strings.Cut(body, ":")
	if !ok {
		return part{}, &SyntaxError{Offset: at, Msg: fmt.Sprintf("expression !{%s} has no namespace: want !{namespace:value}", body)}
	}
	valueAt := at + 2 + len(ns) + 1
	if value == "" {
		return part{}, &SyntaxError{Offset: valueAt, Msg: fmt.Sprintf("expression !{%s} has an empty value", body)}
	}
	switch ns {
	case "timestamp":
		fields, err := compileTimestamp(value, valueAt)
		if err != nil {
			return part{}, err
		}
		return part{kind: partTimestamp, ts: fields}, nil
	case "firehose":
		switch value {
		case "random-string":
			return part{kind: partRandom}, nil
		case "error-output-type":
			return part{kind: partErrorType}, nil
		}
		return part{}, &SyntaxError{Offset: valueAt, Msg: fmt.Sprintf("unknown firehose value %q (want random-string or error-output-type)", value)}
	case "partitionKeyFromQuery", "partitionKeyFromLambda":
		if strings.ContainsFunc(value, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return part{}, &SyntaxError{Offset: valueAt, Msg: fmt.Sprintf("partition key name %q contains whitespace or control characters", value)}
		}
		if ns == "partitionKeyFromLambda" {
			return part{kind: partLambdaKey, text: value}, nil
		}
		return part{kind: partKey, text: value}, nil
	}
	return part{}, &SyntaxError{Offset: at, Msg: fmt.Sprintf("unknown namespace %q (want timestamp, firehose, partitionKeyFromQuery or partitionKeyFromLambda)", ns)}
}

func truncate(s string) string {
	const limit = 40
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}

// String returns the template's effective source: the prefix as given, with
// Firehose's defaults applied (for example "logs/" compiles to
// "logs/!{timestamp:yyyy/MM/dd/HH/}").
func (t *Template) String() string { return t.src }

// UsesKeys returns the names of the partitionKeyFromQuery keys the template
// reads, in order of first use. The caller may modify the returned slice.
func (t *Template) UsesKeys() []string { return slices.Clone(t.keys) }

// UsesLambdaKeys returns the names of the partitionKeyFromLambda keys the
// template reads, in order of first use. The caller may modify the
// returned slice.
func (t *Template) UsesLambdaKeys() []string { return slices.Clone(t.lambdaKeys) }

// UsesErrorOutputType reports whether the template contains
// !{firehose:error-output-type}.
func (t *Template) UsesErrorOutputType() bool { return t.find(partErrorType) >= 0 }

// Render evaluates the template.
//
// Every timestamp expression evaluates to in.ArrivalTime in in.Location
// (UTC when nil). Each !{partitionKeyFromQuery:NAME} is in.Keys[NAME] and
// each !{partitionKeyFromLambda:NAME} in.LambdaKeys[NAME]; a missing key is
// an error. The first !{firehose:random-string} is
// in.RandomString; the n-th one after it (n = 1, 2, ...) is
// RandomString([]byte(in.RandomString + "/" + n)), so that, as in Firehose,
// every instance differs while a re-delivery renders the same string. The
// result may be at most MaxEvaluatedLen bytes long.
//
// A partition key value must be one safe segment of an object key: not
// empty, ".", "..", and without '/', control characters or bytes that are
// not UTF-8; and the evaluated prefix must have no "." or ".." segment (see
// safe.go). Anything else is an error, so that no record's content can
// place an object outside the prefix.
func (t *Template) Render(in Input) (string, error) {
	p, err := t.render(in)
	if err != nil {
		return "", err
	}
	if err := checkEvaluated(p); err != nil {
		return "", err
	}
	return p, nil
}

// render evaluates the template without checking the result's segments.
func (t *Template) render(in Input) (string, error) {
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	at := in.ArrivalTime.In(loc)
	b := make([]byte, 0, 64)
	randoms := 0
	for _, p := range t.parts {
		switch p.kind {
		case partLiteral:
			b = append(b, p.text...)
		case partTimestamp:
			b = formatTimestamp(b, p.ts, at)
		case partKey, partLambdaKey:
			keys, from := in.Keys, ""
			if p.kind == partLambdaKey {
				keys, from = in.LambdaKeys, " from Lambda"
			}
			v, ok := keys[p.text]
			if !ok {
				return "", fmt.Errorf("render prefix: partition key %q%s is missing", p.text, from)
			}
			if why := unsafeValue(v); why != "" {
				return "", fmt.Errorf("render prefix: partition key %q has the value %q, which is not one safe object key segment: %s", p.text, truncate(v), why)
			}
			b = append(b, v...)
		case partRandom:
			if in.RandomString == "" {
				return "", errors.New("render prefix: !{firehose:random-string} needs Input.RandomString")
			}
			if randoms == 0 {
				b = append(b, in.RandomString...)
			} else {
				b = append(b, RandomString([]byte(in.RandomString+"/"+strconv.Itoa(randoms)))...)
			}
			randoms++
		case partErrorType:
			if in.ErrorOutputType == "" {
				return "", errors.New("render prefix: !{firehose:error-output-type} needs Input.ErrorOutputType")
			}
			b = append(b, in.ErrorOutputType...)
		}
	}
	if len(b) > MaxEvaluatedLen {
		return "", fmt.Errorf("render prefix: evaluated prefix is %d bytes, more than %d", len(b), MaxEvaluatedLen)
	}
	return string(b), nil
}
