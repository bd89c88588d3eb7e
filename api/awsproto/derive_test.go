package awsproto

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

func TestModelActionCarriesTheRequest(t *testing.T) {
	h := newTestHandler(t, testService(t, "", nil))
	in, err := h.Decode("Configure", []byte(`{
		"Name": "a",
		"Unknown": "members outside the model are ignored, as AWS does",
		"Destination": {"Bucket": "b", "Hints": {"SizeInMBs": 5, "Enabled": false}, "Encryption": {"Key": "k"}},
		"Tags": [{"Key": "x", "Value": "y"}, {"Key": "z"}],
		"Labels": {"l": {"Key": "v"}},
		"Ratio": 0,
		"At": 1700000000.5
	}`))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	got, ok := in.(*configureTarget)
	if !ok {
		t.Fatalf("Decode returned %T, want *configureTarget", in)
	}
	five, no, zero := 5, false, 0.0
	at := EpochSeconds(time.Unix(1700000000, 5e8))
	want := &configureTarget{
		Name: "a",
		Destination: &destinationTarget{Bucket: "b", Hints: &hintsTarget{SizeInMBs: &five, Enabled: &no},
			Encryption: json.RawMessage(`{"Key":"k"}`)},
		Tags: []tagTarget{{Key: "x", Value: "y"}, {Key: "z"}},
		Labels: map[string]struct {
			Key string `json:"Key"`
		}{"l": {Key: "v"}},
		Ratio: &zero,
		At:    &at,
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Errorf("carried request\n got: %s\nwant: %s", gj, wj)
	}
}

func TestModelActionRefusesUnsupportedMembers(t *testing.T) {
	h := newTestHandler(t, testService(t, "", nil))
	tests := []struct{ name, body, path string }{
		{"member of a nested structure", `{"Name":"a","Destination":{"Bucket":"b","Vpc":{"Key":"k"}}}`, "Destination.Vpc"},
		{"member of a list element", `{"Name":"a","Tags":[{"Key":"a"},{"Key":"b","Color":"red"}]}`, "Tags[1].Color"},
		{"validation comes first", `{"Name":"a","Destination":{"Vpc":{}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Decode("Configure", []byte(tt.body))
			if tt.path == "" {
				if apierr.CodeOf(err) != apierr.Validation {
					t.Errorf("got %v, want ValidationException", err)
				}
				return
			}
			want := tt.path + " is not supported by Spate; leave it out"
			if apierr.CodeOf(err) != apierr.InvalidArgument || apierr.MessageOf(err) != want {
				t.Errorf("got %v, want InvalidArgumentException: %s", err, want)
			}
		})
	}
}

func TestBindCarryChecksTypes(t *testing.T) {
	m := loadTestModel(t)
	in := m.operations["Configure"]
	type wrongKind struct {
		Name int `json:"Name"`
	}
	type extraField struct {
		Name  string `json:"Name"`
		Bogus string `json:"Bogus"`
	}
	type listAsString struct {
		Tags string `json:"Tags"`
	}
	type timeAsTime struct {
		At time.Time `json:"At"`
	}
	type untagged struct {
		Name   string
		hidden int
	}
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"good", reflect.TypeFor[configureTarget](), ""},
		{"untagged fields match by name", reflect.TypeFor[untagged](), ""},
		{"wrong kind", reflect.TypeFor[wrongKind](), "needs a string"},
		{"fields the model lacks are left alone", reflect.TypeFor[extraField](), ""},
		{"list as string", reflect.TypeFor[listAsString](), "needs a slice"},
		{"timestamp as time.Time", reflect.TypeFor[timeAsTime](), "needs awsproto.EpochSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bindCarry(in, tt.typ)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("bindCarry: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("bindCarry error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestDeriveRefusesRecursiveShapes(t *testing.T) {
	m, err := LoadModel([]byte(`{"metadata": {"targetPrefix": "T"},
		"operations": {"Op": {"input": {"shape": "Node"}}},
		"shapes": {"Node": {"type": "structure", "members": {"Next": {"shape": "Node"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewHandler(Service{Model: m, Name: "T", ShortName: "T", MaxBodyBytes: 1,
		Operations: []*Operation{ModelAction("Op", func(context.Context, *struct{}) (ok, error) { return ok{}, nil })}})
	if err == nil || !strings.Contains(err.Error(), "recursive") {
		t.Errorf("NewHandler error = %v, want one about the recursive shape", err)
	}
}
