package filter

import (
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

// rec is a record with JSON (or not) data and the doc example's metadata.
func rec(data string) Record {
	return Record{
		PartitionKey:                "1",
		SequenceNumber:              "49590338271490256608559692538361571095921575989136588898",
		Data:                        []byte(data),
		ApproximateArrivalTimestamp: time.UnixMilli(1545084650987),
	}
}

type matchCase struct {
	name    string
	pattern string
	data    string
	pk      string // "" keeps rec's "1"
	want    bool
}

func runMatch(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile([]string{tc.pattern})
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.pattern, err)
			}
			r := rec(tc.data)
			if tc.pk != "" {
				r.PartitionKey = tc.pk
			}
			if got := s.Match(r); got != tc.want {
				t.Fatalf("pattern %s, data %s: Match = %v, want %v", tc.pattern, tc.data, got, tc.want)
			}
		})
	}
}

// The examples of Lambda's "Using event filtering with a Kinesis event
// source" and "Lambda event filtering" pages.
func TestMatchDocExamples(t *testing.T) {
	const order = `{"record": 12345, "order": {"type": "buy", "stock": "ANYCO", "quantity": 1000}}`
	runMatch(t, []matchCase{
		{"order type buy", `{"data": {"order": {"type": ["buy"]}}}`, order, "", true},
		{"order type sell", `{"data": {"order": {"type": ["sell"]}}}`, order, "", false},
		{"partition key and location", `{"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}`,
			`{"Location": "Los Angeles"}`, "", true},
		{"partition key differs", `{"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}`,
			`{"Location": "Los Angeles"}`, "2", false},
		{"location differs", `{"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}`,
			`{"Location": "Seattle"}`, "", false},
		{"temperature 55 in (50,60]", `{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}`, `{"Temperature": 55}`, "", true},
		{"temperature 60 in (50,60]", `{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}`, `{"Temperature": 60}`, "", true},
		{"temperature 50 not in (50,60]", `{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}`, `{"Temperature": 50}`, "", false},
		{"temperature 61 not in (50,60]", `{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}`, `{"Temperature": 61}`, "", false},
		{"temperature string is not a number", `{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}`, `{"Temperature": "55"}`, "", false},
		{"console example a is 1 or 2", `{"data": {"a": [1, 2]}}`, `{"a": 2}`, "", true},
		{"console example a is 3", `{"data": {"a": [1, 2]}}`, `{"a": 3}`, "", false},
		{"multi-level", `{"data": {"Keys": {"Id": {"N": ["101"]}}}}`, `{"Keys": {"Id": {"N": "101"}}}`, "", true},
		{"multi-level differs", `{"data": {"Keys": {"Id": {"N": ["101"]}}}}`, `{"Keys": {"Id": {"N": "102"}}}`, "", false},
	})
}

// One row per comparison operator of Lambda's filter rule syntax table.
func TestMatchOperators(t *testing.T) {
	runMatch(t, []matchCase{
		{"null matches null", `{"data": {"UserID": [null]}}`, `{"UserID": null}`, "", true},
		{"null does not match absent", `{"data": {"UserID": [null]}}`, `{}`, "", false},
		{"null does not match empty string", `{"data": {"UserID": [null]}}`, `{"UserID": ""}`, "", false},
		{"empty matches empty string", `{"data": {"LastName": [""]}}`, `{"LastName": ""}`, "", true},
		{"empty does not match null", `{"data": {"LastName": [""]}}`, `{"LastName": null}`, "", false},
		{"equals", `{"data": {"Name": ["Alice"]}}`, `{"Name": "Alice"}`, "", true},
		{"equals is case-sensitive", `{"data": {"Name": ["Alice"]}}`, `{"Name": "alice"}`, "", false},
		{"equals ignore case", `{"data": {"Name": [{"equals-ignore-case": "alice"}]}}`, `{"Name": "ALICE"}`, "", true},
		{"equals ignore case differs", `{"data": {"Name": [{"equals-ignore-case": "alice"}]}}`, `{"Name": "Alicia"}`, "", false},
		{"and both", `{"data": {"Location": ["New York"], "Day": ["Monday"]}}`, `{"Location": "New York", "Day": "Monday"}`, "", true},
		{"and one", `{"data": {"Location": ["New York"], "Day": ["Monday"]}}`, `{"Location": "New York", "Day": "Tuesday"}`, "", false},
		{"or first", `{"data": {"PaymentType": ["Credit", "Debit"]}}`, `{"PaymentType": "Credit"}`, "", true},
		{"or second", `{"data": {"PaymentType": ["Credit", "Debit"]}}`, `{"PaymentType": "Debit"}`, "", true},
		{"or neither", `{"data": {"PaymentType": ["Credit", "Debit"]}}`, `{"PaymentType": "Cash"}`, "", false},
		{"$or location", `{"data": {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}}`, `{"Location": "New York", "Day": "Friday"}`, "", true},
		{"$or day", `{"data": {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}}`, `{"Location": "Paris", "Day": "Monday"}`, "", true},
		{"$or neither", `{"data": {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}}`, `{"Location": "Paris", "Day": "Friday"}`, "", false},
		{"$or at the top over metadata and data", `{"$or": [{"partitionKey": ["9"]}, {"data": {"a": [1]}}]}`, `{"a": 1}`, "", true},
		{"$or with a sibling field", `{"partitionKey": ["2"], "$or": [{"data": {"a": [1]}}, {"data": {"b": [1]}}]}`, `{"b": 1}`, "", false},
		{"not raining", `{"data": {"Weather": [{"anything-but": ["Raining"]}]}}`, `{"Weather": "Sunny"}`, "", true},
		{"not raining but raining", `{"data": {"Weather": [{"anything-but": ["Raining"]}]}}`, `{"Weather": "Raining"}`, "", false},
		{"anything-but a single string", `{"data": {"Weather": [{"anything-but": "Raining"}]}}`, `{"Weather": "Raining"}`, "", false},
		{"anything-but needs the field", `{"data": {"Weather": [{"anything-but": ["Raining"]}]}}`, `{}`, "", false},
		{"anything-but numbers", `{"data": {"code": [{"anything-but": [400, 500]}]}}`, `{"code": 200}`, "", true},
		{"anything-but numbers listed", `{"data": {"code": [{"anything-but": [400, 500]}]}}`, `{"code": 500}`, "", false},
		{"anything-but prefix", `{"data": {"Region": [{"anything-but": {"prefix": "us-"}}]}}`, `{"Region": "eu-west-1"}`, "", true},
		{"anything-but prefix listed", `{"data": {"Region": [{"anything-but": {"prefix": "us-"}}]}}`, `{"Region": "us-east-1"}`, "", false},
		{"anything-but suffix", `{"data": {"File": [{"anything-but": {"suffix": ".png"}}]}}`, `{"File": "a.png"}`, "", false},
		{"anything-but ignore case", `{"data": {"State": [{"anything-but": {"equals-ignore-case": ["init", "done"]}}]}}`, `{"State": "DONE"}`, "", false},
		{"anything-but ignore case other", `{"data": {"State": [{"anything-but": {"equals-ignore-case": ["init", "done"]}}]}}`, `{"State": "running"}`, "", true},
		{"numeric equals", `{"data": {"Price": [{"numeric": ["=", 100]}]}}`, `{"Price": 100}`, "", true},
		{"numeric equals compares values", `{"data": {"Price": [{"numeric": ["=", 100]}]}}`, `{"Price": 100.0}`, "", true},
		{"numeric equals differs", `{"data": {"Price": [{"numeric": ["=", 100]}]}}`, `{"Price": 101}`, "", false},
		{"numeric lower only", `{"data": {"n": [{"numeric": [">=", -5]}]}}`, `{"n": -5}`, "", true},
		{"numeric upper only", `{"data": {"n": [{"numeric": ["<", 0.5]}]}}`, `{"n": 0.5}`, "", false},
		{"numeric upper first", `{"data": {"n": [{"numeric": ["<", 10, ">", 0]}]}}`, `{"n": 3e0}`, "", true},
		{"exists", `{"data": {"ProductName": [{"exists": true}]}}`, `{"ProductName": "x"}`, "", true},
		{"exists absent", `{"data": {"ProductName": [{"exists": true}]}}`, `{"Other": "x"}`, "", false},
		{"exists on null", `{"data": {"ProductName": [{"exists": true}]}}`, `{"ProductName": null}`, "", true},
		{"exists on an object is false", `{"data": {"ProductName": [{"exists": true}]}}`, `{"ProductName": {"a": 1}}`, "", false},
		{"does not exist", `{"data": {"ProductName": [{"exists": false}]}}`, `{"Other": "x"}`, "", true},
		{"does not exist but does", `{"data": {"ProductName": [{"exists": false}]}}`, `{"ProductName": "x"}`, "", false},
		{"does not exist under a missing parent", `{"data": {"a": {"b": [{"exists": false}]}}}`, `{"c": 1}`, "", true},
		{"begins with", `{"data": {"Region": [{"prefix": "us-"}]}}`, `{"Region": "us-east-2"}`, "", true},
		{"begins with differs", `{"data": {"Region": [{"prefix": "us-"}]}}`, `{"Region": "eu-west-1"}`, "", false},
		{"begins with ignore case", `{"data": {"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}}`, `{"service": "EventBridge"}`, "", true},
		{"ends with", `{"data": {"FileName": [{"suffix": ".png"}]}}`, `{"FileName": "image.png"}`, "", true},
		{"ends with differs", `{"data": {"FileName": [{"suffix": ".png"}]}}`, `{"FileName": "image.jpg"}`, "", false},
		{"ends with ignore case", `{"data": {"FileName": [{"suffix": {"equals-ignore-case": ".PNG"}}]}}`, `{"FileName": "image.png"}`, "", true},
		{"ends with ignore case multibyte", `{"data": {"w": [{"suffix": {"equals-ignore-case": "ΑΣ"}}]}}`, `{"w": "θάλασσα"}`, "", false},
		{"ends with ignore case greek", `{"data": {"w": [{"suffix": {"equals-ignore-case": "ΣΣΑ"}}]}}`, `{"w": "θάλασσα"}`, "", true},
		{"boolean", `{"data": {"ok": [true]}}`, `{"ok": true}`, "", true},
		{"boolean is not a string", `{"data": {"ok": [true]}}`, `{"ok": "true"}`, "", false},
		{"string is not a number", `{"data": {"n": ["100"]}}`, `{"n": 100}`, "", false},
		// "For numbers, Lambda also uses string representation. For
		// example, 300, 300.0, and 3.0e2 are not considered equal."
		{"300 equals 300", `{"data": {"n": [300]}}`, `{"n": 300}`, "", true},
		{"300 is not 300.0", `{"data": {"n": [300]}}`, `{"n": 300.0}`, "", false},
		{"300 is not 3.0e2", `{"data": {"n": [300]}}`, `{"n": 3.0e2}`, "", false},
	})
}

func TestMatchArrays(t *testing.T) {
	runMatch(t, []matchCase{
		{"any element", `{"data": {"tags": ["red"]}}`, `{"tags": ["blue", "red"]}`, "", true},
		{"no element", `{"data": {"tags": ["red"]}}`, `{"tags": ["blue", "green"]}`, "", false},
		{"empty array does not exist", `{"data": {"tags": [{"exists": false}]}}`, `{"tags": []}`, "", true},
		{"nested arrays flatten", `{"data": {"m": [{"numeric": [">", 5]}]}}`, `{"m": [[1, 2], [3, [9]]]}`, "", true},
		{"array of objects", `{"data": {"items": {"sku": ["b"]}}}`, `{"items": [{"sku": "a"}, {"sku": "b"}]}`, "", true},
		{"array of objects keeps fields together", `{"data": {"items": {"sku": ["a"], "qty": [2]}}}`,
			`{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}`, "", false},
		{"array of objects same element", `{"data": {"items": {"sku": ["b"], "qty": [2]}}}`,
			`{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}`, "", true},
		{"data that is an array", `{"data": {"a": [1]}}`, `[{"a": 2}, {"a": 1}]`, "", true},
	})
}

func TestMatchMetadata(t *testing.T) {
	runMatch(t, []matchCase{
		{"partition key prefix", `{"partitionKey": [{"prefix": "user-"}]}`, `x`, "user-7", true},
		{"partition key prefix differs", `{"partitionKey": [{"prefix": "user-"}]}`, `x`, "order-7", false},
		{"sequence number", `{"sequenceNumber": ["49590338271490256608559692538361571095921575989136588898"]}`, `{}`, "", true},
		{"schema version", `{"kinesisSchemaVersion": ["1.0"]}`, `{}`, "", true},
		{"arrival time range", `{"approximateArrivalTimestamp": [{"numeric": [">=", 1545084650.987, "<", 1545084651]}]}`, `{}`, "", true},
		{"arrival time exact", `{"approximateArrivalTimestamp": [1545084650.987]}`, `{}`, "", true},
		{"arrival time before", `{"approximateArrivalTimestamp": [{"numeric": ["<", 1545084650]}]}`, `{}`, "", false},
		{"unknown top-level key is absent", `{"eventSource": ["aws:kinesis"]}`, `{}`, "", false},
	})
}

// Lambda's table for stream sources: a pattern that filters on data drops
// a record whose data is not JSON; one without data filters it on the
// metadata alone.
func TestMatchNonJSONData(t *testing.T) {
	runMatch(t, []matchCase{
		{"non-JSON data, data pattern: dropped", `{"data": {"a": [{"exists": false}]}}`, `hello`, "", false},
		{"non-JSON data, anything-but: dropped", `{"data": {"a": [{"anything-but": "x"}]}}`, `{"a": 1`, "", false},
		{"non-JSON data, metadata pattern: kept", `{"partitionKey": ["1"]}`, `hello`, "", true},
		{"non-JSON data, metadata pattern: filtered", `{"partitionKey": ["2"]}`, `hello`, "", false},
		{"empty data is not JSON", `{"data": {"a": [{"exists": false}]}}`, ``, "", false},
		{"trailing text is not JSON", `{"data": {"a": [1]}}`, `{"a": 1} x`, "", false},
		{"two documents are not JSON", `{"data": {"a": [1]}}`, `{"a": 1} {"a": 1}`, "", false},
		{"JSON with whitespace", `{"data": {"a": [1]}}`, " \n{\"a\": 1}\n ", "", true},
		{"data in a top-level $or drops non-JSON", `{"$or": [{"data": {"a": [{"exists": false}]}}, {"partitionKey": ["9"]}]}`, `hello`, "", false},
	})
}

func TestMatchAnyPattern(t *testing.T) {
	s, err := Compile([]string{
		`{"data": {"kind": ["a"]}}`,
		`{"partitionKey": ["vip"]}`,
		`{"data": {"n": [{"numeric": [">", 10]}]}}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data, pk string
		want     bool
	}{
		{`{"kind": "a"}`, "x", true},
		{`{"kind": "b"}`, "vip", true},
		{`not json`, "vip", true},
		{`{"kind": "b", "n": 11}`, "x", true},
		{`{"kind": "b", "n": 10}`, "x", false},
		{`not json`, "x", false},
	} {
		r := rec(tc.data)
		r.PartitionKey = tc.pk
		if got := s.Match(r); got != tc.want {
			t.Errorf("data %s pk %s: Match = %v, want %v", tc.data, tc.pk, got, tc.want)
		}
	}
}

func TestEmptySetMatchesAll(t *testing.T) {
	var nilSet *Set
	if !nilSet.Match(rec("x")) {
		t.Fatal("nil Set does not match")
	}
	s, err := Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Match(rec("x")) || s.Len() != 0 {
		t.Fatal("empty Set does not match")
	}
}

func TestCompileErrors(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDepth) + `[1]` + strings.Repeat(`}`, MaxDepth)
	deeper := strings.Repeat(`{"a":`, MaxDepth+1) + `[1]` + strings.Repeat(`}`, MaxDepth+1)
	// A pattern of exactly MaxPatternLength characters, most of them
	// two-byte runes, so its byte length is over the limit.
	pad := strings.Repeat("é", MaxPatternLength-len(`{"data":{"k":[""]}}`))
	longOK := `{"data":{"k":["` + pad + `"]}}`
	tooLong := `{"data":{"k":["` + pad + `x"]}}`
	for _, tc := range []struct {
		name, pattern, want string // want "" compiles
	}{
		{"doc example", `{"data": {"order": {"type": ["buy"]}}}`, ""},
		{"max depth", deep, ""},
		{"max length in characters", longOK, ""},
		{"too long", tooLong, "longer than 4096 characters"},
		{"too deep", deeper, "nests deeper than 32 objects"},
		{"empty", ``, "not valid JSON"},
		{"not JSON", `{"data": `, "not valid JSON"},
		{"trailing text", `{"a": [1]} x`, "not valid JSON"},
		{"not an object", `["a"]`, "must be a JSON object"},
		{"empty object", `{}`, "the pattern: an empty object"},
		{"nested empty object", `{"data": {"a": {}}}`, "at data.a: an empty object"},
		{"scalar value", `{"data": {"a": "x"}}`, "at data.a: a value must be an array"},
		{"empty array", `{"data": {"a": []}}`, "at data.a: an empty array"},
		{"nested array", `{"data": {"a": [[1]]}}`, "at data.a: a match value must be"},
		{"data as a list", `{"data": ["x"]}`, "at data: must be an object of the data's JSON properties"},
		{"data in $or as a list", `{"$or": [{"data": ["x"]}, {"partitionKey": ["1"]}]}`, "at $or[0].data: must be an object"},
		{"$or not array", `{"$or": {"a": [1]}}`, "at $or: must be a non-empty array"},
		{"$or empty", `{"$or": []}`, "at $or: must be a non-empty array"},
		{"$or element not object", `{"$or": [["a"]]}`, "at $or[0]: must be an object"},
		{"two operators", `{"data": {"a": [{"prefix": "x", "suffix": "y"}]}}`, "exactly one key"},
		{"unknown operator", `{"data": {"a": [{"contains": "x"}]}}`, `unknown operator "contains"`},
		{"wildcard", `{"data": {"a": [{"wildcard": "x*"}]}}`, `"wildcard" is an EventBridge operator`},
		{"cidr", `{"data": {"ip": [{"cidr": "10.0.0.0/24"}]}}`, `"cidr" is an EventBridge operator`},
		{"prefix number", `{"data": {"a": [{"prefix": 1}]}}`, `"prefix" takes a string`},
		{"suffix bad object", `{"data": {"a": [{"suffix": {"x": "y"}}]}}`, `"suffix" takes a string`},
		{"ignore case number", `{"data": {"a": [{"equals-ignore-case": 1}]}}`, `"equals-ignore-case" takes a string`},
		{"exists string", `{"data": {"a": [{"exists": "yes"}]}}`, `"exists" takes true or false`},
		{"anything-but empty", `{"data": {"a": [{"anything-but": []}]}}`, `"anything-but" takes`},
		{"anything-but mixed", `{"data": {"a": [{"anything-but": ["a", 1]}]}}`, "not both"},
		{"anything-but bool", `{"data": {"a": [{"anything-but": true}]}}`, `"anything-but" takes`},
		{"anything-but unknown", `{"data": {"a": [{"anything-but": {"numeric": [">", 1]}}]}}`, `"anything-but" takes`},
		{"numeric not array", `{"data": {"a": [{"numeric": 5}]}}`, `"numeric" takes`},
		{"numeric odd", `{"data": {"a": [{"numeric": [">", 1, "<"]}]}}`, `"numeric" takes`},
		{"numeric bad op", `{"data": {"a": [{"numeric": ["!=", 1]}]}}`, `unknown comparison "!="`},
		{"numeric string number", `{"data": {"a": [{"numeric": [">", "1"]}]}}`, `expects a number after ">"`},
		{"numeric equals combined", `{"data": {"a": [{"numeric": ["=", 1, "<", 2]}]}}`, `"=" cannot be combined`},
		{"numeric two lower", `{"data": {"a": [{"numeric": [">", 1, ">=", 2]}]}}`, "two lower bounds"},
		{"numeric two upper", `{"data": {"a": [{"numeric": ["<", 1, "<=", 2]}]}}`, "two upper bounds"},
		{"numeric empty range", `{"data": {"a": [{"numeric": [">", 5, "<", 1]}]}}`, "range is empty"},
		{"numeric out of range", `{"data": {"a": [{"numeric": [">", 1e999]}]}}`, "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]string{`{"partitionKey": ["ok"]}`, tc.pattern})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Compile accepted %.80s", tc.pattern)
			}
			if !apierr.Is(err, apierr.InvalidParameterValue) {
				t.Fatalf("error %v is not InvalidParameterValueException", err)
			}
			msg := apierr.MessageOf(err)
			if !strings.Contains(msg, "FilterCriteria.Filters[1].Pattern") || !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not name the pattern and %q", msg, tc.want)
			}
		})
	}
}
