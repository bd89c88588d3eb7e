package integration

// A Kinesis client that speaks AWS CBOR 1.1 as the AWS SDK for Java, the KCL
// and the KPL do, built on fxamacker/cbor and the service model, written
// apart from the server's code: requests are written in the model's terms
// (base64 text for blobs, time.Time for timestamps, as in a JSON request)
// and serialized by the model (blobs as byte strings, timestamps as tag 1
// enclosing integer milliseconds); every reply is checked against the
// model's output shape (each blob a byte string, each timestamp tag 1 with
// an integer, each member of the CBOR type its shape implies).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
)

const cborContentType = "application/x-amz-cbor-1.1"

// kinesisModel is the parts of the service model the CBOR client needs.
type kinesisModel struct {
	Operations map[string]struct {
		Input  *struct{ Shape string } `json:"input"`
		Output *struct{ Shape string } `json:"output"`
	} `json:"operations"`
	Shapes map[string]modelShape `json:"shapes"`
}

type modelShape struct {
	Type    string                            `json:"type"`
	Members map[string]struct{ Shape string } `json:"members"`
	Member  *struct{ Shape string }           `json:"member"`
	Value   *struct{ Shape string }           `json:"value"`
}

func loadKinesisModel(t *testing.T) *kinesisModel {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "api", "kinesisapi", "awsmodel", "kinesis-2013-12-02.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m kinesisModel
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// serialize turns v, a value of shape in the model's terms, into what the
// CBOR encoder writes as the SDK does.
func (m *kinesisModel) serialize(shape string, v any) (any, error) {
	s, ok := m.Shapes[shape]
	if !ok {
		return nil, fmt.Errorf("no shape %s", shape)
	}
	switch s.Type {
	case "blob":
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("blob %s: want base64 text, got %T", shape, v)
		}
		return base64.StdEncoding.DecodeString(str)
	case "timestamp":
		tm, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("timestamp %s: want a time.Time, got %T", shape, v)
		}
		return cbor.Tag{Number: 1, Content: tm.UnixMilli()}, nil
	case "structure":
		in, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("structure %s: got %T", shape, v)
		}
		out := make(map[string]any, len(in))
		for k, e := range in {
			mem, ok := s.Members[k]
			if !ok {
				return nil, fmt.Errorf("structure %s has no member %s", shape, k)
			}
			var err error
			if out[k], err = m.serialize(mem.Shape, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "list":
		in, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("list %s: got %T", shape, v)
		}
		out := make([]any, len(in))
		for i, e := range in {
			var err error
			if out[i], err = m.serialize(s.Member.Shape, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "map":
		in, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("map %s: got %T", shape, v)
		}
		out := make(map[string]any, len(in))
		for k, e := range in {
			var err error
			if out[k], err = m.serialize(s.Value.Shape, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// check verifies that v, a decoded reply value (awsprototest.DecodeCBOR's
// types), has the CBOR form of shape; path names it in errors.
func (m *kinesisModel) check(shape, path string, v any) error {
	s := m.Shapes[shape]
	if v == nil {
		return nil // absent or null
	}
	bad := func(want string) error {
		return fmt.Errorf("%s (%s %s): got %T %v, want %s", path, s.Type, shape, v, v, want)
	}
	switch s.Type {
	case "blob":
		if _, ok := v.([]byte); !ok {
			return bad("a byte string")
		}
	case "timestamp":
		tag, ok := v.(cbor.Tag)
		if !ok || tag.Number != 1 {
			return bad("tag 1")
		}
		switch tag.Content.(type) {
		case uint64, int64:
		default:
			return bad("tag 1 enclosing integer milliseconds")
		}
	case "string":
		if _, ok := v.(string); !ok {
			return bad("a text string")
		}
	case "integer", "long":
		switch v.(type) {
		case uint64, int64:
		default:
			return bad("an integer")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("a boolean")
		}
	case "double":
		if _, ok := v.(float64); !ok {
			return bad("a float")
		}
	case "structure":
		mv, ok := v.(map[string]any)
		if !ok {
			return bad("a map")
		}
		for k, e := range mv {
			mem, ok := s.Members[k]
			if !ok {
				return fmt.Errorf("%s: member %s is not in shape %s", path, k, shape)
			}
			if err := m.check(mem.Shape, path+"."+k, e); err != nil {
				return err
			}
		}
	case "list":
		lv, ok := v.([]any)
		if !ok {
			return bad("an array")
		}
		for i, e := range lv {
			if err := m.check(s.Member.Shape, fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case "map":
		mv, ok := v.(map[string]any)
		if !ok {
			return bad("a map")
		}
		for k, e := range mv {
			if err := m.check(s.Value.Shape, path+"["+k+"]", e); err != nil {
				return err
			}
		}
	}
	return nil
}

// cborReply is a reply to a CBOR request, decoded.
type cborReply struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func (r cborReply) errType() string { s, _ := r.Body["__type"].(string); return s }

// cborCall sends action with req (in the model's terms) as AWS CBOR and
// checks the reply: CBOR with the CBOR Content-Type, an error with __type
// and message, or a success in the form of the model's output shape.
func cborCall(ctx context.Context, t *testing.T, m *kinesisModel, s *server, action string, req map[string]any) cborReply {
	t.Helper()
	resp := cborSend(ctx, t, m, s, action, req)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != cborContentType {
		t.Fatalf("%s: reply Content-Type %q, want %q", action, ct, cborContentType)
	}
	r := cborReply{Status: resp.StatusCode, Header: resp.Header}
	if r.Body, err = awsprototest.DecodeCBOR(b); err != nil {
		t.Fatalf("%s: reply is not a CBOR map: %v: %x", action, err, b)
	}
	if r.Status != http.StatusOK {
		if msg, _ := r.Body["message"].(string); r.errType() == "" || msg == "" || resp.Header.Get("X-Amzn-Errortype") != r.errType() {
			t.Fatalf("%s: error reply %d without __type, message and X-Amzn-ErrorType: %v", action, r.Status, r.Body)
		}
		return r
	}
	if op := m.Operations[action]; op.Output != nil {
		if err := m.check(op.Output.Shape, action, r.Body); err != nil {
			t.Fatalf("%s: reply breaks its shape: %v", action, err)
		}
	}
	return r
}

// cborSubscribe calls SubscribeToShard in CBOR and returns the first
// SubscribeToShardEvent, after checking the initial response: every
// payload in CBOR, the event's against its shape.
func cborSubscribe(ctx context.Context, t *testing.T, m *kinesisModel, s *server, req map[string]any) map[string]any {
	t.Helper()
	resp := cborSend(ctx, t, m, s, "SubscribeToShard", req)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "application/vnd.amazon.eventstream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("SubscribeToShard: %d %s %x", resp.StatusCode, ct, b)
	}
	dec := eventstream.NewDecoder()
	var payloads []map[string]any
	for _, want := range []string{"initial-response", "SubscribeToShardEvent"} {
		msg, err := dec.Decode(resp.Body, nil)
		if err != nil {
			t.Fatalf("SubscribeToShard: read %s: %v", want, err)
		}
		ev, ct := msg.Headers.Get(":event-type"), msg.Headers.Get(":content-type")
		if ev == nil || ev.String() != want || ct == nil || ct.String() != cborContentType {
			t.Fatalf("SubscribeToShard: message %v, want a %s event in CBOR", msg.Headers, want)
		}
		p, err := awsprototest.DecodeCBOR(msg.Payload)
		if err != nil {
			t.Fatalf("SubscribeToShard: %s payload is not a CBOR map: %v: %x", want, err, msg.Payload)
		}
		payloads = append(payloads, p)
	}
	if err := m.check("SubscribeToShardEvent", "SubscribeToShardEvent", payloads[1]); err != nil {
		t.Fatalf("SubscribeToShard: event breaks its shape: %v", err)
	}
	return payloads[1]
}

// cborSend sends a request of action, serialized by the model into CBOR.
func cborSend(ctx context.Context, t *testing.T, m *kinesisModel, s *server, action string, req map[string]any) *http.Response {
	t.Helper()
	op, ok := m.Operations[action]
	if !ok {
		t.Fatalf("%s is not a Kinesis action", action)
	}
	var body any = req
	if op.Input != nil {
		var err error
		if body, err = m.serialize(op.Input.Shape, req); err != nil {
			t.Fatalf("%s: serialize the request: %v", action, err)
		}
	}
	raw, err := awsprototest.EncodeCBOR(body)
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint()+"/", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header.Set("Content-Type", cborContentType)
	hreq.Header.Set("X-Amz-Target", "Kinesis_20131202."+action)
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return resp
}
