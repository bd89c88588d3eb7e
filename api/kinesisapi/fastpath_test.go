package kinesisapi

import (
	"testing"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
)

func TestDecodePutRecordsFast(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		wantOK bool
	}{
		{"typical", `{"StreamName":"s","Records":[{"Data":"AAE=","PartitionKey":"k"},{"Data":"","PartitionKey":"k2","ExplicitHashKey":"5"}]}`, true},
		{"whitespace", " {\n\t\"Records\" : [ { \"PartitionKey\" : \"k\" , \"Data\" : \"aGk=\" } ] , \"StreamARN\" : \"a\" } \r\n", true},
		{"empty object", `{}`, true},
		{"empty records", `{"Records":[]}`, true},
		{"empty record", `{"Records":[{}]}`, true},
		{"duplicate member", `{"StreamName":"a","StreamName":"b","Records":[{"Data":"AA==","Data":"AQ=="}]}`, true},
		{"utf-8", `{"Records":[{"PartitionKey":"ключ😀","Data":""}]}`, true},
		{"repeated records", `{"Records":[{"Data":"AA==","PartitionKey":"a"}],"Records":[{"Data":"AQ=="}]}`, false},
		{"escape", `{"StreamName":"a\u0062"}`, false},
		{"invalid utf-8", "{\"StreamName\":\"\xff\"}", false},
		{"control character", "{\"StreamName\":\"a\tb\"}", false},
		{"null", `{"StreamName":null}`, false},
		{"number", `{"Records":[{"Data":1}]}`, false},
		{"unknown member", `{"Bogus":"x"}`, false},
		{"case-folded member", `{"streamname":"x"}`, false},
		{"bad base64", `{"Records":[{"Data":"abc"}]}`, false},
		{"trailing comma", `{"StreamName":"s",}`, false},
		{"trailing comma in list", `{"Records":[{},]}`, false},
		{"trailing data", `{} {}`, false},
		{"truncated", `{"Records":[{"Data":"AA==`, false},
		{"top-level list", `[]`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := decodePutRecordsFast([]byte(tt.body))
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok {
				awsprototest.CheckSameAsEncodingJSON(t, []byte(tt.body), got)
			}
		})
	}
}

// FuzzPutRecordsFastPath checks the fast path's invariant: whatever it
// accepts, encoding/json decodes to the same request, and holds only text
// the body sent.
func FuzzPutRecordsFastPath(f *testing.F) {
	for _, s := range []string{
		`{"StreamName":"s","Records":[{"Data":"AAE=","PartitionKey":"k"},{"Data":"","PartitionKey":"k2","ExplicitHashKey":"5"}]}`,
		`{"Records":[{"PartitionKey":"ключ😀","Data":"AA=="}],"StreamId":"x","StreamARN":"y"}`,
		`{"Records":[{}]}`,
		` { "Records" : [ ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, ok := decodePutRecordsFast(body); ok {
			awsprototest.CheckSameAsEncodingJSON(t, body, got)
			awsprototest.CheckNoInventedReplacements(t, body, got)
		}
	})
}
