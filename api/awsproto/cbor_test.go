package awsproto

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/apierr"
)

func mustCBOR(t testing.TB, v any) []byte {
	t.Helper()
	b, err := awsprototest.EncodeCBOR(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeCBOR(t *testing.T) {
	h := newTestHandler(t, testService(t, "", nil))
	at := time.UnixMilli(1700000000123)
	name := "abc"
	tests := []struct {
		name     string
		action   string
		body     []byte
		want     any    // the decoded request, when it decodes
		wantCode string // else the error type
		wantMsg  string
	}{
		{name: "blob as byte string", action: "Put",
			body: mustCBOR(t, map[string]any{"Name": "abc", "Data": []byte{1, 2, 3}}),
			want: &putInput{Name: &name, Data: Blob{1, 2, 3}}},
		{name: "indefinite-length map (Jackson's)", action: "Put",
			body: unhex(t, "bf 64 4e616d65 63 616263 64 44617461 42 0102 ff"),
			want: &putInput{Name: &name, Data: Blob{1, 2}}},
		{name: "null blob is absent", action: "Put",
			body:     mustCBOR(t, map[string]any{"Name": "abc", "Data": nil}),
			wantCode: "ValidationException", wantMsg: "'data' failed to satisfy constraint: Member must not be null"},
		{name: "blob as text", action: "Put",
			body:     mustCBOR(t, map[string]any{"Name": "abc", "Data": "AQID"}),
			wantCode: "SerializationException", wantMsg: "expected a byte string for a blob member, got CBOR text string"},
		{name: "validation is shared with JSON", action: "Put",
			body:     mustCBOR(t, map[string]any{"Name": "ABC", "Data": []byte{1, 2}}),
			wantCode: "ValidationException", wantMsg: "Member must satisfy regular expression pattern"},
		{name: "string as integer", action: "Put",
			body:     mustCBOR(t, map[string]any{"Name": 7, "Data": []byte{1, 2}}),
			wantCode: "SerializationException", wantMsg: "'Name' holds a CBOR positive integer where a string is expected"},
		{name: "timestamp in tag 1, milliseconds", action: "Configure",
			body: mustCBOR(t, map[string]any{"Name": "abc", "At": at}),
			want: &configureTarget{Name: "abc", At: new(EpochSeconds(at))}},
		{name: "timestamp bare milliseconds", action: "Configure",
			body: mustCBOR(t, map[string]any{"Name": "abc", "At": 1700000000123}),
			want: &configureTarget{Name: "abc", At: new(EpochSeconds(at))}},
		{name: "timestamp float milliseconds, carried at Kinesis's precision", action: "Configure",
			body: mustCBOR(t, map[string]any{"Name": "abc", "At": cbor.Tag{Number: 1, Content: 1700000000123.5}}),
			want: &configureTarget{Name: "abc", At: new(EpochSeconds(at))}},
		{name: "timestamp before 1970", action: "Configure",
			body: mustCBOR(t, map[string]any{"Name": "abc", "At": cbor.Tag{Number: 1, Content: -1500}}),
			want: &configureTarget{Name: "abc", At: new(EpochSeconds(time.UnixMilli(-1500)))}},
		{name: "timestamp as text", action: "Configure",
			body:     mustCBOR(t, map[string]any{"Name": "abc", "At": "2023-11-14T22:13:20Z"}),
			wantCode: "SerializationException", wantMsg: "expected a timestamp (tag 1 enclosing milliseconds"},
		{name: "timestamp past 9999", action: "Configure",
			body:     mustCBOR(t, map[string]any{"Name": "abc", "At": cbor.Tag{Number: 1, Content: uint64(1) << 60}}),
			wantCode: "SerializationException", wantMsg: "is not a valid timestamp"},
		{name: "integer out of range", action: "Configure",
			body:     mustCBOR(t, map[string]any{"Name": "abc", "Destination": map[string]any{"Bucket": "b", "Hints": map[string]any{"SizeInMBs": int64(1) << 40}}}),
			wantCode: "SerializationException", wantMsg: "'Destination' holds a CBOR positive integer where an integer within range is expected"},
		{name: "member the action cannot take", action: "Configure",
			body:     mustCBOR(t, map[string]any{"Name": "abc", "Tags": []any{map[string]any{"Key": "k", "Color": "red"}}}),
			wantCode: "InvalidArgumentException", wantMsg: "Tags[0].Color is not supported by Spate"},
		{name: "duplicate key", action: "Put",
			body:     unhex(t, "a3 64 4e616d65 63 616263 64 44617461 42 0102 64 4e616d65 63 616263"),
			wantCode: "SerializationException", wantMsg: "duplicate map key"},
		{name: "not a map", action: "Put", body: []byte("{}"),
			wantCode: "SerializationException", wantMsg: "must be a CBOR map, got CBOR text string"},
		{name: "empty body", action: "Put", body: nil,
			wantCode: "SerializationException", wantMsg: "the request body is empty"},
		{name: "truncated", action: "Put", body: unhex(t, "a2 64 4e616d65 63 6162"),
			wantCode: "SerializationException", wantMsg: "not valid CBOR"},
		{name: "trailing bytes", action: "Ping", body: unhex(t, "a0 a0"),
			wantCode: "SerializationException", wantMsg: "not valid CBOR"},
		{name: "invalid UTF-8", action: "Put", body: unhex(t, "a1 64 4e616d65 62 ff61"),
			wantCode: "SerializationException", wantMsg: "not valid CBOR"},
		{name: "nested too deep", action: "Ping",
			body:     append(append(unhex(t, "a1 61 78"), bytes.Repeat([]byte{0x81}, cborMaxNesting)...), 0),
			wantCode: "SerializationException", wantMsg: "exceeded max nested level"},
		{name: "array too long", action: "Configure",
			body:     append(unhex(t, "a2 64 4e616d65 63 616263 64 54616773 9a00002711"), bytes.Repeat([]byte{0xa0}, cborMaxElements+1)...),
			wantCode: "SerializationException", wantMsg: "exceeded max number of elements"},
		{name: "array head claims more than the body holds", action: "Configure",
			body:     unhex(t, "a2 64 4e616d65 63 616263 64 54616773 9b7fffffffffffffff"),
			wantCode: "SerializationException", wantMsg: "not valid CBOR"},
		{name: "bignum", action: "Configure",
			body:     unhex(t, "a2 64 4e616d65 63 616263 65 5261746966 c2 41 01"),
			wantCode: "SerializationException", wantMsg: "not valid CBOR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.DecodeCBOR(tt.action, tt.body)
			if tt.wantCode != "" {
				if err == nil || string(apierr.CodeOf(err)) != tt.wantCode || !strings.Contains(apierr.MessageOf(err), tt.wantMsg) {
					t.Fatalf("DecodeCBOR = %v, %v; want %s with %q", got, err, tt.wantCode, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeCBOR: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("DecodeCBOR = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEpochSecondsUnmarshalCBOR(t *testing.T) {
	tests := []struct {
		name string
		cbor any
		want time.Time
	}{
		{"tag 1, integer", cbor.Tag{Number: 1, Content: 1700000000123}, time.UnixMilli(1700000000123)},
		{"tag 1, float", cbor.Tag{Number: 1, Content: 1700000000123.5}, time.UnixMilli(1700000000123).Add(500 * time.Microsecond)},
		{"bare", -1500, time.UnixMilli(-1500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e EpochSeconds
			if err := e.UnmarshalCBOR(mustCBOR(t, tt.cbor)); err != nil {
				t.Fatal(err)
			}
			if got := time.Time(e); !got.Equal(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

const transcodeModel = `{
	"metadata": {"targetPrefix": "T_1"},
	"operations": {"Get": {"input": {"shape": "In"}, "output": {"shape": "Out"}}},
	"shapes": {
		"In": {"type": "structure", "members": {}},
		"Out": {"type": "structure", "members": {
			"Name": {"shape": "S"}, "Data": {"shape": "B"}, "At": {"shape": "T"},
			"Count": {"shape": "L"}, "Ratio": {"shape": "D"}, "Items": {"shape": "Items"},
			"ByKey": {"shape": "ByKey"}}},
		"S": {"type": "string"}, "B": {"type": "blob"}, "T": {"type": "timestamp"},
		"L": {"type": "long"}, "D": {"type": "double"},
		"Items": {"type": "list", "member": {"shape": "Item"}},
		"Item": {"type": "structure", "members": {"Data": {"shape": "B"}, "At": {"shape": "T"}}},
		"ByKey": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "B"}}
	}
}`

func TestTranscodeToCBOR(t *testing.T) {
	m, err := LoadModel([]byte(transcodeModel))
	if err != nil {
		t.Fatal(err)
	}
	h := newTestHandlerFor(t, m, Action("Get", func(context.Context, *pingInput) (ok, error) { return ok{}, nil }))
	tests := []struct {
		name string
		json string
		want map[string]any // as awsprototest.DecodeCBOR gives it
	}{
		{name: "by the shape",
			json: `{"Name":"AQID","Data":"AQID","At":1700000000.123,"Count":42,"Ratio":0.5}`,
			want: map[string]any{"Name": "AQID", "Data": []byte{1, 2, 3},
				"At":    cbor.Tag{Number: 1, Content: uint64(1700000000123)},
				"Count": uint64(42), "Ratio": 0.5}},
		{name: "nested lists and maps",
			json: `{"Items":[{"Data":"AA==","At":-1.5}],"ByKey":{"k":"AQ=="}}`,
			want: map[string]any{
				"Items": []any{map[string]any{"Data": []byte{0}, "At": cbor.Tag{Number: 1, Content: int64(-1500)}}},
				"ByKey": map[string]any{"k": []byte{1}}}},
		{name: "members the model does not know keep their JSON type",
			json: `{"Extra":{"N":3,"F":1.25,"S":"AQID","B":true,"Z":null,"L":[1,"x"]}}`,
			want: map[string]any{"Extra": map[string]any{"N": uint64(3), "F": 1.25, "S": "AQID", "B": true, "Z": nil, "L": []any{uint64(1), "x"}}}},
		{name: "null members", json: `{"Data":null,"Items":null}`,
			want: map[string]any{"Data": nil, "Items": nil}},
		{name: "escapes and whitespace", json: " {\"Name\" : \"say \\\"hi\\\" \\u00e9\\n\", \"Extra\":[ {}, [] ,\"\"] } ",
			want: map[string]any{"Name": "say \"hi\" é\n", "Extra": []any{map[string]any{}, []any{}, ""}}},
		{name: "heads of every length", json: `{"Items":[` + strings.Repeat(`{"Data":"AAAA"},`, 299) + `{"Data":"AAAA"}],"Name":"` + strings.Repeat("n", 70000) + `"}`,
			want: map[string]any{"Items": func() []any {
				l := make([]any, 300)
				for i := range l {
					l[i] = map[string]any{"Data": []byte{0, 0, 0}}
				}
				return l
			}(), "Name": strings.Repeat("n", 70000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := h.TranscodeToCBOR("Get", []byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			got, err := awsprototest.DecodeCBOR(b)
			if err != nil {
				t.Fatalf("decode %x: %v", b, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// Every reply to a CBOR request, errors raised before the action runs
// included, is CBOR with the CBOR Content-Type (checked by
// awsprototest.Client.Do), and every reply to a JSON request is JSON.
func TestCBORRepliesInTheRequestFormat(t *testing.T) {
	c := awsprototest.NewServer(t, newTestHandler(t, testService(t, "", nil)), "Test_20200101")
	ct := map[string]string{"Content-Type": awsprototest.CBORContentType, "X-Amz-Target": "Test_20200101.Ping"}
	tests := []struct {
		name     string
		do       func() awsprototest.Reply
		status   int
		wantType string
	}{
		{"success", func() awsprototest.Reply {
			return c.CallCBOR("Put", map[string]any{"Name": "ab", "Data": []byte{1, 2}})
		}, 200, ""},
		{"validation", func() awsprototest.Reply { return c.CallCBOR("Put", map[string]any{"Name": "ab"}) }, 400, "ValidationException"},
		{"unknown action", func() awsprototest.Reply { return c.CallCBOR("Frob", map[string]any{}) }, 400, "UnknownOperationException"},
		{"unserved action", func() awsprototest.Reply { return c.CallCBOR("Unserved", map[string]any{}) }, 400, "UnknownOperationException"},
		{"body too large", func() awsprototest.Reply {
			return c.CallCBOR("Put", map[string]any{"Name": "ab", "Data": make([]byte, 2048)})
		}, http.StatusRequestEntityTooLarge, "InvalidArgumentException"},
		{"GET", func() awsprototest.Reply { return c.Do(http.MethodGet, "/", ct, "") }, 405, "UnknownOperationException"},
		{"wrong path", func() awsprototest.Reply { return c.Do(http.MethodPost, "/x", ct, "\xa0") }, 404, "UnknownOperationException"},
		{"malformed", func() awsprototest.Reply { return c.Do(http.MethodPost, "/", ct, "\xa1") }, 400, "SerializationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.Status != tt.status || r.ErrType() != tt.wantType {
				t.Fatalf("got %d %v, want %d %s", r.Status, r.Body, tt.status, tt.wantType)
			}
			if tt.wantType != "" && r.Message() == "" {
				t.Errorf("error without a message: %v", r.Body)
			}
		})
	}
}

func TestCBORContentTypeWithParameters(t *testing.T) {
	c := awsprototest.NewServer(t, newTestHandler(t, testService(t, "", nil)), "Test_20200101")
	r := c.Do(http.MethodPost, "/", map[string]string{
		"Content-Type": awsprototest.CBORContentType, "X-Amz-Target": "Test_20200101.Ping"}, "\xa0")
	if r.Status != 200 || r.Body["OK"] != true {
		t.Fatalf("got %d %v", r.Status, r.Body)
	}
}
