package awsproto

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
)

func TestValidateBlobLength(t *testing.T) {
	h := newTestHandler(t, testService(t, "", nil))
	tests := []struct {
		data []byte
		want string
	}{
		{[]byte{1}, "Value 'java.nio.HeapByteBuffer[pos=0 lim=1 cap=1]' at 'data' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{[]byte{1, 2}, ""},
		{[]byte{1, 2, 3, 4}, ""}, // 8 base64 characters: the decoded length counts
		{[]byte{1, 2, 3, 4, 5}, "Value 'java.nio.HeapByteBuffer[pos=0 lim=5 cap=5]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 4"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(len(tt.data)), func(t *testing.T) {
			_, err := h.Decode("Put", []byte(`{"Name":"a","Data":"`+base64.StdEncoding.EncodeToString(tt.data)+`"}`))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if got := apierr.MessageOf(err); got != "1 validation error detected: "+tt.want {
				t.Errorf("got %s", got)
			}
		})
	}
}

func TestValidateModelAction(t *testing.T) {
	h := newTestHandler(t, testService(t, "", nil))
	const one = "1 validation error detected: "
	tests := []struct {
		name, body, want string
	}{
		{"valid", `{"Name":"a","Destination":{"Bucket":"b","Hints":{"SizeInMBs":128}},"Ratio":0.5,"Tags":[{"Key":"k:v"}]}`, ""},
		{"nested required", `{"Name":"a","Destination":{}}`,
			one + "Value null at 'destination.bucket' failed to satisfy constraint: Member must not be null"},
		{"nested range", `{"Name":"a","Destination":{"Bucket":"b","Hints":{"SizeInMBs":0}}}`,
			one + "Value '0' at 'destination.hints.sizeInMBs' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"double range", `{"Name":"a","Ratio":1.5}`,
			one + "Value '1.5' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1"},
		{"double shown as Java does", `{"Name":"a","Ratio":2}`,
			one + "Value '2.0' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1"},
		{"look-ahead pattern", `{"Name":"a","Tags":[{"Key":"aws:x"}]}`,
			one + "Value 'aws:x' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[a-z:]*$"},
		{"map of structures", `{"Name":"a","Labels":{"k":{"Key":"BAD"}}}`,
			one + "Value 'BAD' at 'labels.k.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+"},
		{"list max", `{"Name":"a","Tags":[{"Key":"a"},{"Key":"b"},{"Key":"c"},{"Key":"d"}]}`,
			one + "Value '[Tag(key=a), Tag(key=b), Tag(key=c), Tag(key=d)]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Decode("Configure", []byte(tt.body))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if apierr.CodeOf(err) != apierr.Validation || apierr.MessageOf(err) != tt.want {
				t.Errorf("got %v\nwant ValidationException: %s", err, tt.want)
			}
		})
	}
}

func TestValidationCodeAndPaths(t *testing.T) {
	svc := testService(t, "", nil)
	svc.ValidationCode = apierr.InvalidArgument
	svc.ValidationPaths = WirePaths
	h := newTestHandler(t, svc)
	tests := []struct{ action, body, want string }{
		{"Put", `{"Name":"A","Data":"AAA="}`, "Value 'A' at 'Name' failed"},
		{"Configure", `{"Name":"a","Destination":{"Bucket":"b","Hints":{"SizeInMBs":0}}}`, "Value '0' at 'Destination.Hints.SizeInMBs' failed"},
		{"Configure", `{"Name":"a","Tags":[{"Key":"a"},{"Key":"aws:"}]}`, "Value 'aws:' at 'Tags[1].Key' failed"},
		{"Configure", `{"Name":"a","Labels":{"k":{"Key":"B"}}}`, "Value 'B' at 'Labels[k].Key' failed"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := h.Decode(tt.action, []byte(tt.body))
			if apierr.CodeOf(err) != apierr.InvalidArgument || !strings.HasPrefix(apierr.MessageOf(err), "1 validation error detected: "+tt.want) {
				t.Errorf("got %v, want InvalidArgumentException: 1 validation error detected: %s...", err, tt.want)
			}
		})
	}
}

func TestValidateManyErrors(t *testing.T) {
	h := newTestHandler(t, testService(t, "", nil))
	var tags []string
	for range 12 {
		tags = append(tags, `{"Key":"aws:"}`)
	}
	_, err := h.Decode("Configure", []byte(`{"Name":"a","Tags":[`+strings.Join(tags, ",")+`]}`))
	msg := apierr.MessageOf(err)
	if !strings.HasPrefix(msg, "13 validation errors detected: Value '[Tag(key=aws:)") {
		t.Errorf("message starts wrong: %.120s", msg)
	}
	if n := strings.Count(msg, "failed to satisfy constraint"); n != maxListedErrors {
		t.Errorf("message lists %d failures, want %d", n, maxListedErrors)
	}
	if !strings.HasSuffix(msg, "; and 3 more") {
		t.Errorf("message should end with the count of unlisted failures: ...%s", msg[len(msg)-40:])
	}
	if i := strings.Index(msg, "Value '["); strings.Index(msg[i:], "' at") > maxValueLen+10 {
		t.Errorf("offending value is not cut near %d bytes", maxValueLen)
	}
}

func TestBindPlanChecksCoverage(t *testing.T) {
	m := loadTestModel(t)
	in := m.operations["Put"]
	type missingMember struct {
		Name *string `json:"Name"`
	}
	type extraMember struct {
		putInput
		Extra *string `json:"Extra"`
	}
	type wrongType struct {
		Name *int32 `json:"Name"`
		Data Blob   `json:"Data"`
	}
	type notPointer struct {
		Name string `json:"Name"`
		Data Blob   `json:"Data"`
	}
	type blobAsBytes struct {
		Name *string `json:"Name"`
		Data []byte  `json:"Data"`
	}
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"good", reflect.TypeFor[putInput](), ""},
		{"missing member", reflect.TypeFor[missingMember](), "member Data has no field"},
		{"extra member", reflect.TypeFor[extraMember](), `field "Extra" that the model does not declare`},
		{"wrong type", reflect.TypeFor[wrongType](), "needs a string"},
		{"not a pointer", reflect.TypeFor[notPointer](), "must be a pointer"},
		{"blob as []byte", reflect.TypeFor[blobAsBytes](), "needs awsproto.Blob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bindPlan(in, tt.typ)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("bindPlan: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("bindPlan error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestJavaLen(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0}, {"abc", 3}, {"é", 1}, {"aé", 2}, {"😀", 2}, {"a😀b", 4}, {"\xff", 1},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := javaLen(tt.s); got != tt.want {
				t.Errorf("javaLen(%q) = %d, want %d", tt.s, got, tt.want)
			}
		})
	}
}
