package awsproto

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
)

// testModel is a small service model with the shapes the tests need.
const testModel = `{
	"metadata": {"targetPrefix": "Test_20200101"},
	"operations": {
		"Put": {"input": {"shape": "PutInput"}},
		"Configure": {"input": {"shape": "ConfigureInput"}},
		"Ping": {"input": {"shape": "PingInput"}},
		"Unserved": {"input": {"shape": "PingInput"}},
		"NoInput": {}
	},
	"shapes": {
		"PutInput": {"type": "structure", "required": ["Name", "Data"], "members": {
			"Name": {"shape": "Name"}, "Data": {"shape": "Data"}}},
		"Name": {"type": "string", "min": 1, "max": 8, "pattern": "[a-z]+"},
		"Data": {"type": "blob", "min": 2, "max": 4},
		"ConfigureInput": {"type": "structure", "required": ["Name"], "members": {
			"Name": {"shape": "Name"},
			"Destination": {"shape": "Destination"},
			"Tags": {"shape": "TagList"},
			"Labels": {"shape": "LabelMap"},
			"Ratio": {"shape": "Ratio"},
			"At": {"shape": "Timestamp"}}},
		"Destination": {"type": "structure", "required": ["Bucket"], "members": {
			"Bucket": {"shape": "Name"},
			"Hints": {"shape": "Hints"},
			"Encryption": {"shape": "Encryption"},
			"Vpc": {"shape": "Encryption"}}},
		"Hints": {"type": "structure", "members": {"SizeInMBs": {"shape": "Size"}, "Enabled": {"shape": "Bool"}}},
		"Encryption": {"type": "structure", "members": {"Key": {"shape": "Name"}}},
		"Size": {"type": "integer", "min": 1, "max": 128},
		"Bool": {"type": "boolean"},
		"TagList": {"type": "list", "member": {"shape": "Tag"}, "max": 3},
		"Tag": {"type": "structure", "required": ["Key"], "members": {"Key": {"shape": "TagKey"}, "Value": {"shape": "Name"}, "Color": {"shape": "Name"}}},
		"TagKey": {"type": "string", "pattern": "^(?!aws:)[a-z:]*$"},
		"LabelMap": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Encryption"}},
		"Ratio": {"type": "double", "min": 0, "max": 1},
		"Timestamp": {"type": "timestamp"},
		"PingInput": {"type": "structure", "members": {}}
	}
}`

func loadTestModel(t testing.TB, overlays ...string) *Model {
	t.Helper()
	ov := make([][]byte, len(overlays))
	for i, o := range overlays {
		ov[i] = []byte(o)
	}
	m, err := LoadModel([]byte(testModel), ov...)
	if err != nil {
		t.Fatalf("LoadModel: %v", err)
	}
	return m
}

// Request types of the test model for Action.
type putInput struct {
	Name *string `json:"Name"`
	Data Blob    `json:"Data"`
}

type pingInput struct{}

// Types that a ModelAction of Configure takes: they leave out Vpc and
// Tag.Color, and take Encryption as raw JSON.
type configureTarget struct {
	Name        string             `json:"Name"`
	Destination *destinationTarget `json:"Destination,omitempty"`
	Tags        []tagTarget        `json:"Tags,omitempty"`
	Labels      map[string]struct {
		Key string `json:"Key"`
	} `json:"Labels,omitempty"`
	Ratio *float64      `json:"Ratio,omitempty"`
	At    *EpochSeconds `json:"At,omitempty"`
}

type destinationTarget struct {
	Bucket     string          `json:"Bucket"`
	Hints      *hintsTarget    `json:"Hints,omitempty"`
	Encryption json.RawMessage `json:"Encryption,omitempty"`
}

type hintsTarget struct {
	SizeInMBs *int  `json:"SizeInMBs,omitempty"`
	Enabled   *bool `json:"Enabled,omitempty"`
}

type tagTarget struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

type ok struct {
	OK bool `json:"OK"`
}

// testService is a Service on the test model: Put and Ping echo, Configure
// hands its request to got.
func testService(t testing.TB, prefix string, got chan<- *configureTarget) Service {
	t.Helper()
	model := testModel
	if prefix != "" {
		model = strings.Replace(model, "Test_20200101", prefix, 1)
	}
	m, err := LoadModel([]byte(model))
	if err != nil {
		t.Fatal(err)
	}
	return Service{
		Model:     m,
		Name:      "Test Service",
		ShortName: "Test",
		Operations: []*Operation{
			Action("Put", func(_ context.Context, in *putInput) (map[string]any, error) {
				return map[string]any{"Name": *in.Name, "Len": len(in.Data)}, nil
			}),
			Action("Ping", func(context.Context, *pingInput) (ok, error) { return ok{true}, nil }),
			ModelAction("Configure", func(_ context.Context, in *configureTarget) (ok, error) {
				if got != nil {
					got <- in
				}
				return ok{true}, nil
			}),
		},
		MaxBodyBytes:  1024,
		BodyLimitHint: "(hint)",
	}
}

func newTestHandler(t testing.TB, svc Service, opts ...Option) *Handler {
	t.Helper()
	h, err := NewHandler(svc, opts...)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h
}

// newTestHandlerFor serves ops on model m.
func newTestHandlerFor(t testing.TB, m *Model, ops ...*Operation) *Handler {
	t.Helper()
	return newTestHandler(t, Service{Model: m, Name: "Test Service", ShortName: "Test", Operations: ops, MaxBodyBytes: 1 << 20})
}

// send serves one request with h; awsprototest checks the invariants every
// reply keeps.
func send(t *testing.T, h http.Handler, method, target, body string) awsprototest.Reply {
	t.Helper()
	header := map[string]string{}
	if target != "" {
		header["X-Amz-Target"] = target
	}
	return awsprototest.NewServer(t, h, "").Do(method, "/", header, body)
}
