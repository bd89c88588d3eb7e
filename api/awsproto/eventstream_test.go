package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/fxamacker/cbor/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/apierr"
)

// watchModel has one action whose output is an event stream, shaped as
// SubscribeToShard's is.
const watchModel = `{
	"metadata": {"targetPrefix": "Watch_1"},
	"operations": {"Watch": {"input": {"shape": "WatchInput"}, "output": {"shape": "WatchOutput"}}},
	"shapes": {
		"WatchInput": {"type": "structure", "members": {}},
		"WatchOutput": {"type": "structure", "required": ["Events"], "members": {"Events": {"shape": "WatchEvents"}}},
		"WatchEvents": {"type": "structure", "eventstream": true, "members": {
			"Tick": {"shape": "Tick"},
			"ResourceInUseException": {"shape": "Failure"},
			"InternalFailureException": {"shape": "Failure"}}},
		"Tick": {"type": "structure", "event": true, "members": {"Data": {"shape": "Data"}, "At": {"shape": "At"}}},
		"Data": {"type": "blob"},
		"At": {"type": "timestamp"},
		"Failure": {"type": "structure", "exception": true, "members": {"message": {"shape": "Msg"}}},
		"Msg": {"type": "string"}
	}
}`

type watchInput struct{}

type tick struct {
	Data []byte       `json:"Data"`
	At   EpochSeconds `json:"At"`
}

// watch is an EventStream that sends the ticks it is given, then ends
// with end (nil: a clean end) or, with block, waits for ctx.
type watch struct {
	ticks   []tick
	block   bool
	end     error
	started chan struct{} // closed once the ticks are sent
}

func (w *watch) Stream(ctx context.Context, ew *EventWriter) error {
	for _, t := range w.ticks {
		if err := ew.Send("Tick", t); err != nil {
			return err
		}
	}
	if w.started != nil {
		close(w.started)
	}
	if w.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return w.end
}

func watchHandler(t *testing.T, w *watch, opts ...Option) *Handler {
	t.Helper()
	m, err := LoadModel([]byte(watchModel))
	if err != nil {
		t.Fatal(err)
	}
	return newTestHandler(t, Service{Model: m, Name: "Watch", ShortName: "Watch", MaxBodyBytes: 1 << 10,
		Operations: []*Operation{Action("Watch", func(context.Context, *watchInput) (*watch, error) { return w, nil })}}, opts...)
}

// watchReply reads a Watch reply's messages: the initial response is
// checked and dropped.
func watchReply(t *testing.T, url string, cbor bool) []eventstream.Message {
	t.Helper()
	ct := ContentType
	body := []byte("{}")
	if cbor {
		ct, body = CBORContentType, AppendCBORMap(nil, 0)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Amz-Target", "Watch_1.Watch")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != EventStreamContentType {
		t.Fatalf("reply %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var msgs []eventstream.Message
	dec := eventstream.NewDecoder()
	for {
		m, err := dec.Decode(resp.Body, nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 || msgs[0].Headers.Get(":event-type").String() != "initial-response" {
		t.Fatalf("no initial-response first: %v", msgs)
	}
	return msgs[1:]
}

func header(m eventstream.Message, name string) string {
	if v := m.Headers.Get(name); v != nil {
		return v.String()
	}
	return ""
}

// TestEventStreamPayloads: events in the request's format, blobs and
// timestamps as each format has them; a clean end is the end of the body.
func TestEventStreamPayloads(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	h := watchHandler(t, &watch{ticks: []tick{{Data: []byte{0, 1, 2}, At: EpochSeconds(at)}}})
	srv := httptest.NewServer(h)
	defer srv.Close()

	msgs := watchReply(t, srv.URL, false)
	if len(msgs) != 1 || header(msgs[0], ":event-type") != "Tick" || header(msgs[0], ":message-type") != "event" ||
		header(msgs[0], ":content-type") != "application/json" {
		t.Fatalf("JSON events = %v", msgs)
	}
	var js map[string]any
	if err := json.Unmarshal(msgs[0].Payload, &js); err != nil || js["Data"] != "AAEC" || js["At"] != 1700000000.123 {
		t.Fatalf("JSON payload %s (%v)", msgs[0].Payload, err)
	}

	msgs = watchReply(t, srv.URL, true)
	if len(msgs) != 1 || header(msgs[0], ":content-type") != CBORContentType {
		t.Fatalf("CBOR events = %v", msgs)
	}
	cb, err := awsprototest.DecodeCBOR(msgs[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := cb["Data"].([]byte); !ok || !bytes.Equal(d, []byte{0, 1, 2}) {
		t.Errorf("CBOR Data = %#v, want a byte string", cb["Data"])
	}
	// Tag 1 enclosing milliseconds, as AWS reads it.
	if fmt.Sprintf("%v", cb["At"]) != fmt.Sprintf("%v", cbor.Tag{Number: 1, Content: uint64(at.UnixMilli())}) {
		t.Errorf("CBOR At = %#v, want tag 1 with %d", cb["At"], at.UnixMilli())
	}
}

// TestEventStreamExceptions: an error ends the stream with an exception
// message named as the event stream's union names it.
func TestEventStreamExceptions(t *testing.T) {
	var logs bytes.Buffer
	for _, tc := range []struct {
		name      string
		err       error
		wantType  string
		wantInMsg string
	}{
		{"api error", apierr.New(apierr.ResourceInUse, "taken over"), "ResourceInUseException", "taken over"},
		{"internal", errors.New("disk on fire"), "InternalFailureException", "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := watchHandler(t, &watch{end: tc.err}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			srv := httptest.NewServer(h)
			defer srv.Close()
			for _, cbor := range []bool{false, true} {
				msgs := watchReply(t, srv.URL, cbor)
				if len(msgs) != 1 || header(msgs[0], ":message-type") != "exception" || header(msgs[0], ":exception-type") != tc.wantType {
					t.Fatalf("messages = %v, want one %s exception", msgs, tc.wantType)
				}
				var msg string
				if cbor {
					m, _ := awsprototest.DecodeCBOR(msgs[0].Payload)
					msg, _ = m["message"].(string)
				} else {
					var m struct{ Message string }
					_ = json.Unmarshal(msgs[0].Payload, &m)
					msg = m.Message
				}
				if !strings.Contains(strings.ToLower(msg), tc.wantInMsg) || strings.Contains(msg, "on fire") {
					t.Errorf("message = %q", msg)
				}
			}
		})
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("the internal failure's cause is not logged: %s", logs.String())
	}
}

// TestEventStreamEnds: Close and the stream's time limit end a stream
// cleanly; the Router times the request up to its initial response only.
func TestEventStreamEnds(t *testing.T) {
	t.Run("close", func(t *testing.T) {
		w := &watch{ticks: []tick{{}}, block: true, started: make(chan struct{})}
		h := watchHandler(t, w)
		reg := prometheus.NewPedanticRegistry()
		rt, err := NewRouter([]*Handler{h}, WithRegisterer(reg))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(rt)
		defer srv.Close()
		done := make(chan []eventstream.Message)
		go func() { done <- watchReply(t, srv.URL, false) }()
		<-w.started
		// The stream is running: the request is already counted.
		if n := requestCount(t, reg, map[string]string{"protocol": "watch", "action": "Watch", "code": "OK"}); n != 1 {
			t.Errorf("observations while the stream runs = %d, want 1", n)
		}
		rt.Close()
		if msgs := <-done; len(msgs) != 1 || header(msgs[0], ":message-type") != "event" {
			t.Fatalf("messages = %v, want the tick and a clean end", msgs)
		}
	})
	t.Run("time up", func(t *testing.T) {
		h := watchHandler(t, &watch{block: true}, WithMaxStreamDuration(time.Millisecond))
		srv := httptest.NewServer(h)
		defer srv.Close()
		if msgs := watchReply(t, srv.URL, false); len(msgs) != 0 {
			t.Fatalf("messages = %v, want a clean end", msgs)
		}
	})
}

// TestEventStreamOutlivesServerTimeouts: a stream lasts past the server's
// ReadTimeout and WriteTimeout, which are for one request and its reply
// (the write deadline would cut the connection).
func TestEventStreamOutlivesServerTimeouts(t *testing.T) {
	const timeout = 100 * time.Millisecond
	release := make(chan struct{})
	m, err := LoadModel([]byte(watchModel))
	if err != nil {
		t.Fatal(err)
	}
	h := newTestHandler(t, Service{Model: m, Name: "Watch", ShortName: "Watch", MaxBodyBytes: 1 << 10,
		Operations: []*Operation{Action("Watch", func(context.Context, *watchInput) (EventStream, error) {
			return streamFunc(func(ctx context.Context, w *EventWriter) error {
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
				return w.Send("Tick", tick{Data: []byte("late")})
			}), nil
		})}})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = timeout, timeout
	srv.Start()
	defer srv.Close()
	go func() {
		time.Sleep(3 * timeout) // past both timeouts (a shorter wait would only let the test pass vacuously)
		close(release)
	}()
	if msgs := watchReply(t, srv.URL, false); len(msgs) != 1 || header(msgs[0], ":event-type") != "Tick" {
		t.Fatalf("messages = %v, want the late tick", msgs)
	}
}

type streamFunc func(ctx context.Context, w *EventWriter) error

func (f streamFunc) Stream(ctx context.Context, w *EventWriter) error { return f(ctx, w) }
