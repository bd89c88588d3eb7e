package prefix

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name       string
		prefix     string
		wantOffset int
		wantMsg    string
	}{
		{"unterminated expression", "a/!{timestamp:yyyy", 2, "missing '}'"},
		{"unbalanced close brace", "a}b", 1, "unbalanced '}'"},
		{"open brace outside expression", "a/{b}", 2, "'{' outside an expression"},
		{"nested expression", "!{time!{stamp:x}", 6, "nested '!{'"},
		{"no namespace", "x/!{timestamp}", 2, "no namespace"},
		{"empty value", "!{timestamp:}", 12, "empty value"},
		{"unknown namespace", "x/!{foo:bar}/", 2, `unknown namespace "foo"`},
		{"namespace is case sensitive", "!{Timestamp:yyyy}", 0, `unknown namespace "Timestamp"`},
		{"whitespace in Lambda key name", "!{partitionKeyFromLambda:a\tb}", 25, "whitespace"},
		{"unknown firehose value", "!{firehose:uuid}", 11, `unknown firehose value "uuid"`},
		{"unknown pattern letter", "!{timestamp:yyyy-QQ}", 17, `unsupported letter 'Q'`},
		{"lowercase hh is not supported", "!{timestamp:hh}", 12, `unsupported letter 'h'`},
		{"too many day letters", "!{timestamp:ddd}", 12, "too many pattern letters"},
		{"narrow month", "!{timestamp:MMMMM}", 12, "too many pattern letters"},
		{"unterminated quote", "!{timestamp:yyyy'abc}", 16, "unterminated quoted text"},
		{"optional section", "!{timestamp:yyyy[MM]}", 16, "reserved character '['"},
		{"error output type in Prefix", "x/!{firehose:error-output-type}/", 2, "only be used in ErrorOutputPrefix"},
		{"whitespace in key name", "!{partitionKeyFromQuery:a b}", 24, "whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Compile(tt.prefix)
			if err == nil {
				t.Fatalf("Compile(%q) = %q, want an error", tt.prefix, tmpl)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) error %T %v, want *SyntaxError", tt.prefix, err, err)
			}
			if se.Offset != tt.wantOffset {
				t.Errorf("offset = %d, want %d (%v)", se.Offset, tt.wantOffset, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestCompileErrorOutputErrors(t *testing.T) {
	tests := []struct {
		name              string
		errorOutputPrefix string
		prefix            string
		wantMsg           string
	}{
		{"required when Prefix has expressions", "", "p/!{timestamp:yyyy}/", "ErrorOutputPrefix is required"},
		{"required when Prefix has keys", "", "p/!{partitionKeyFromQuery:id}/", "ErrorOutputPrefix is required"},
		{"bad Prefix", "", "p/!{nope:x}", "unknown namespace"},
		{"expressions without error type", "err/!{timestamp:yyyy}/", "p/", "must include !{firehose:error-output-type}"},
		{"partition keys", "err/!{firehose:error-output-type}/!{partitionKeyFromQuery:id}/", "", "partition keys cannot be used"},
		{"Lambda partition keys", "err/!{firehose:error-output-type}/!{partitionKeyFromLambda:id}/", "", "partition keys cannot be used"},
		{"required when Prefix has Lambda keys", "", "p/!{partitionKeyFromLambda:id}/", "ErrorOutputPrefix is required"},
		{"syntax", "err/!{firehose:error-output-type", "", "missing '}'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := CompileErrorOutput(tt.errorOutputPrefix, tt.prefix)
			if err == nil {
				t.Fatalf("CompileErrorOutput(%q, %q) = %q, want an error", tt.errorOutputPrefix, tt.prefix, tmpl)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestRender(t *testing.T) {
	// 10:30 UTC on Aug 27, 2018, the instant of the guide's examples.
	aug27 := time.Date(2018, 8, 27, 10, 30, 0, 0, time.UTC)
	keys := map[string]string{"customer_id": "1234567890", "device": "mobile", "year": "2019"}
	tests := []struct {
		name string
		// errorOutput selects CompileErrorOutput(src, prefix) over Compile(src).
		errorOutput bool
		src, prefix string
		in          Input
		want        string
	}{
		{name: "empty prefix is the default", src: "", in: Input{ArrivalTime: aug27}, want: "2018/08/27/10/"},
		{name: "plain prefix gets the time path", src: "myPrefix/", in: Input{ArrivalTime: aug27}, want: "myPrefix/2018/08/27/10/"},
		{name: "time path is appended without a separator", src: "logs", in: Input{ArrivalTime: aug27}, want: "logs2018/08/27/10/"},
		{name: "random string alone still gets the time path", src: "!{firehose:random-string}/data/",
			in: Input{ArrivalTime: aug27, RandomString: "046b6c7f-0b"}, want: "046b6c7f-0b/data/2018/08/27/10/"},
		{name: "guide example, one expression per field",
			src:  "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
			in:   Input{ArrivalTime: aug27},
			want: "myPrefix/year=2018/month=08/day=27/hour=10/"},
		{name: "guide example, quoted literals",
			src:  "!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/",
			in:   Input{ArrivalTime: aug27},
			want: "year=2018/month=08/day=27/hour=10/"},
		{name: "doubled quote is a quote", src: "!{timestamp:yyyy''MM}/!{timestamp:'it''s'}/", in: Input{ArrivalTime: aug27}, want: "2018'08/it's/"},
		{name: "all letters and widths",
			src:  "!{timestamp:y|yy|yyyyy|M|MM|MMM|MMMM|d|dd|H|HH|m|mm|s|ss}",
			in:   Input{ArrivalTime: time.Date(2009, 1, 2, 3, 4, 5, 0, time.UTC)},
			want: "2009|09|02009|1|01|Jan|January|2|02|3|03|4|04|5|05"},
		{name: "punctuation is literal", src: "dt=!{timestamp:yyyy-MM-dd HH:mm:ss.}/", in: Input{ArrivalTime: aug27}, want: "dt=2018-08-27 10:30:00./"},
		{name: "last instant of a year", src: "", in: Input{ArrivalTime: time.Date(2018, 12, 31, 23, 59, 59, 999999999, time.UTC)}, want: "2018/12/31/23/"},
		{name: "first instant of a year", src: "", in: Input{ArrivalTime: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}, want: "2019/01/01/00/"},
		{name: "leap day", src: "!{timestamp:yyyy-MM-dd}/", in: Input{ArrivalTime: time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)}, want: "2024-02-29/"},
		{name: "arrival time in another zone renders in UTC", src: "",
			in:   Input{ArrivalTime: time.Date(2018, 1, 1, 8, 59, 0, 0, time.FixedZone("JST", 9*3600))},
			want: "2017/12/31/23/"},
		{name: "custom time zone", src: "!{timestamp:yyyy/MM/dd/HH}/",
			in:   Input{ArrivalTime: time.Date(2017, 12, 31, 23, 59, 0, 0, time.UTC), Location: time.FixedZone("JST", 9*3600)},
			want: "2018/01/01/08/"},
		{name: "partition keys, no time path appended",
			src:  "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/",
			in:   Input{ArrivalTime: aug27, Keys: keys},
			want: "customer_id=1234567890/device=mobile/"},
		{name: "Lambda keys beside query keys, no time path appended",
			src:  "q=!{partitionKeyFromQuery:year}/l=!{partitionKeyFromLambda:year}/",
			in:   Input{ArrivalTime: aug27, Keys: keys, LambdaKeys: map[string]string{"year": "from-lambda"}},
			want: "q=2019/l=from-lambda/"},
		{name: "keys and timestamps",
			src:  "!{partitionKeyFromQuery:year}/!{timestamp:HH}/!{partitionKeyFromQuery:year}/",
			in:   Input{ArrivalTime: aug27, Keys: keys},
			want: "2019/10/2019/"},
		{name: "every random string differs",
			src:  "!{firehose:random-string}/!{firehose:random-string}/!{timestamp:yyyy}",
			in:   Input{ArrivalTime: aug27, RandomString: "5abf82daaa5"},
			want: "5abf82daaa5/" + RandomString([]byte("5abf82daaa5/1")) + "/2018"},
		{name: "error output type", errorOutput: true, src: "myFirehoseFailures/!{firehose:error-output-type}/",
			in: Input{ArrivalTime: aug27, ErrorOutputType: ProcessingFailed}, want: "myFirehoseFailures/processing-failed/"},
		{name: "guide example, error prefix with timestamps", errorOutput: true,
			src:  "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}",
			in:   Input{ArrivalTime: aug27, ErrorOutputType: ProcessingFailed},
			want: "myFirehoseFailures/processing-failed/2018/anyMonth/27"},
		{name: "empty error prefix follows a plain Prefix", errorOutput: true, src: "", prefix: "myFirehosePrefix/",
			in: Input{ArrivalTime: aug27, ErrorOutputType: FormatConversionFailed}, want: "myFirehosePrefix/format-conversion-failed/2018/08/27/10/"},
		{name: "empty error prefix and empty Prefix", errorOutput: true, src: "", prefix: "",
			in: Input{ArrivalTime: aug27, ErrorOutputType: ElasticsearchFailed}, want: "elasticsearch-failed/2018/08/27/10/"},
		{name: "plain error prefix gets type and time", errorOutput: true, src: "errors/", prefix: "data/",
			in: Input{ArrivalTime: aug27, ErrorOutputType: MetadataExtractionFailed}, want: "errors/metadata-extraction-failed/2018/08/27/10/"},
		{name: "error prefix with random string", errorOutput: true, src: "!{firehose:random-string}/!{firehose:error-output-type}",
			in: Input{ArrivalTime: aug27, ErrorOutputType: ProcessingFailed, RandomString: "r"}, want: "r/processing-failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tmpl *Template
			var err error
			if tt.errorOutput {
				tmpl, err = CompileErrorOutput(tt.src, tt.prefix)
			} else {
				tmpl, err = Compile(tt.src)
			}
			if err != nil {
				t.Fatalf("compile %q: %v", tt.src, err)
			}
			got, err := tmpl.Render(tt.in)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tt.want {
				t.Errorf("Render of %q = %q, want %q", tmpl, got, tt.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	at := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name        string
		errorOutput bool
		src         string
		in          Input
		wantMsg     string
	}{
		{name: "missing key", src: "a=!{partitionKeyFromQuery:a}/b=!{partitionKeyFromQuery:b}/",
			in: Input{ArrivalTime: at, Keys: map[string]string{"a": "1"}}, wantMsg: `partition key "b" is missing`},
		{name: "no keys at all", src: "!{partitionKeyFromQuery:a}/", in: Input{ArrivalTime: at}, wantMsg: `partition key "a" is missing`},
		{name: "a query key does not stand in for a Lambda key", src: "!{partitionKeyFromLambda:a}/",
			in: Input{ArrivalTime: at, Keys: map[string]string{"a": "1"}}, wantMsg: `partition key "a" from Lambda is missing`},
		{name: "Lambda key climbing out", src: "!{partitionKeyFromLambda:a}/",
			in: Input{ArrivalTime: at, LambdaKeys: map[string]string{"a": ".."}}, wantMsg: "not one safe object key segment"},
		{name: "no random string", src: "!{firehose:random-string}/", in: Input{ArrivalTime: at}, wantMsg: "needs Input.RandomString"},
		{name: "no error output type", errorOutput: true, src: "e/!{firehose:error-output-type}/", in: Input{ArrivalTime: at}, wantMsg: "needs Input.ErrorOutputType"},
		// A prefix too long whatever the values is refused by Compile
		// (TestCompileRefusesUnsafePrefixes); this one is too long for one.
		{name: "too long", src: strings.Repeat("a", 480) + "/!{partitionKeyFromQuery:a}/", in: Input{ArrivalTime: at, Keys: map[string]string{"a": strings.Repeat("x", 40)}}, wantMsg: "more than 512"},
		{name: "long key value", src: "!{partitionKeyFromQuery:a}/",
			in: Input{ArrivalTime: at, Keys: map[string]string{"a": strings.Repeat("x", 512)}}, wantMsg: "more than 512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tmpl *Template
			var err error
			if tt.errorOutput {
				tmpl, err = CompileErrorOutput(tt.src, "")
			} else {
				tmpl, err = Compile(tt.src)
			}
			if err != nil {
				t.Fatalf("compile %q: %v", tt.src, err)
			}
			got, err := tmpl.Render(tt.in)
			if err == nil {
				t.Fatalf("Render = %q, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestRenderAtLimit(t *testing.T) {
	// 498 + len("2020/05/06/07/") = 512: exactly at the limit is allowed.
	tmpl, err := Compile(strings.Repeat("a", 498))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(Input{ArrivalTime: time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(got) != MaxEvaluatedLen {
		t.Errorf("len = %d, want %d", len(got), MaxEvaluatedLen)
	}
}

func TestDefaultPrefix(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"utc", time.Date(2018, 8, 27, 10, 30, 0, 0, time.UTC), "2018/08/27/10/"},
		{"single digits are padded", time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC), "2021/01/02/03/"},
		{"end of year", time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), "1999/12/31/23/"},
		{"converted to utc", time.Date(2000, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)), "2000/01/01/00/"},
		{"negative offset crosses the day", time.Date(2000, 2, 28, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), "2000/02/29/01/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultPrefix(tt.t); got != tt.want {
				t.Errorf("DefaultPrefix(%v) = %q, want %q", tt.t, got, tt.want)
			}
			// The empty Prefix template must agree with DefaultPrefix.
			tmpl, err := Compile("")
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(Input{ArrivalTime: tt.t})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Compile(\"\").Render = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTemplateIntrospection(t *testing.T) {
	tests := []struct {
		name          string
		errorOutput   bool
		src           string
		wantString    string
		wantKeys      []string
		wantLambda    []string
		wantErrorType bool
	}{
		{name: "default", src: "", wantString: "!{timestamp:yyyy/MM/dd/HH/}", wantKeys: []string{}},
		{name: "plain", src: "logs/", wantString: "logs/!{timestamp:yyyy/MM/dd/HH/}", wantKeys: []string{}},
		{name: "keys in order of first use",
			src:        "!{partitionKeyFromQuery:b}/!{partitionKeyFromQuery:a}/!{partitionKeyFromQuery:b}/",
			wantString: "!{partitionKeyFromQuery:b}/!{partitionKeyFromQuery:a}/!{partitionKeyFromQuery:b}/",
			wantKeys:   []string{"b", "a"}},
		{name: "Lambda keys apart from query keys",
			src:        "!{partitionKeyFromLambda:l}/!{partitionKeyFromQuery:q}/!{partitionKeyFromLambda:m}/",
			wantString: "!{partitionKeyFromLambda:l}/!{partitionKeyFromQuery:q}/!{partitionKeyFromLambda:m}/",
			wantKeys:   []string{"q"}, wantLambda: []string{"l", "m"}},
		{name: "error output", errorOutput: true, src: "e/", wantString: "e/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}",
			wantKeys: []string{}, wantErrorType: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tmpl *Template
			var err error
			if tt.errorOutput {
				tmpl, err = CompileErrorOutput(tt.src, "")
			} else {
				tmpl, err = Compile(tt.src)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
			got := tmpl.UsesKeys()
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, tt.wantKeys) {
				t.Errorf("UsesKeys() = %q, want %q", got, tt.wantKeys)
			}
			if got := tmpl.UsesLambdaKeys(); !slices.Equal(got, tt.wantLambda) {
				t.Errorf("UsesLambdaKeys() = %q, want %q", got, tt.wantLambda)
			}
			if got := tmpl.UsesErrorOutputType(); got != tt.wantErrorType {
				t.Errorf("UsesErrorOutputType() = %v, want %v", got, tt.wantErrorType)
			}
		})
	}
}

func TestUsesKeysReturnsCopy(t *testing.T) {
	tmpl, err := Compile("!{partitionKeyFromQuery:a}/")
	if err != nil {
		t.Fatal(err)
	}
	tmpl.UsesKeys()[0] = "changed"
	if got := tmpl.UsesKeys(); got[0] != "a" {
		t.Errorf("UsesKeys after modifying a result = %q, want [a]", got)
	}
}

func TestRandomString(t *testing.T) {
	a := RandomString([]byte("batch-1"))
	if len(a) != RandomStringLen {
		t.Errorf("len(%q) = %d, want %d", a, len(a), RandomStringLen)
	}
	if b := RandomString([]byte("batch-1")); b != a {
		t.Errorf("RandomString is not deterministic: %q then %q", a, b)
	}
	if c := RandomString([]byte("batch-2")); c == a {
		t.Errorf("different seeds gave the same string %q", c)
	}
	if strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("%q is not lowercase hex", a)
	}
}
