package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name, level, format string
		wantErr             string
		wantJSON            bool
	}{
		{name: "text info", level: "info", format: "text"},
		{name: "json debug", level: "debug", format: "json", wantJSON: true},
		{name: "upper case level", level: "WARN", format: "text"},
		{name: "bad level", level: "loud", format: "text", wantErr: "--log-level"},
		{name: "bad format", level: "info", format: "xml", wantErr: "--log-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger, err := newLogger(&buf, tt.level, tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("newLogger(%q, %q) error = %v, want one about %s", tt.level, tt.format, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newLogger(%q, %q): %v", tt.level, tt.format, err)
			}
			logger.Error("hello", "k", "v")
			if got := json.Valid(bytes.TrimSpace(buf.Bytes())); got != tt.wantJSON {
				t.Errorf("output %q: JSON = %v, want %v", buf.String(), got, tt.wantJSON)
			}
		})
	}
}

// TestHelp runs --help on every command of the tree.
func TestHelp(t *testing.T) {
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		t.Run(strings.Join(append(path, "help"), "_"), func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append(path[1:], "--help"))
			if err := root.Execute(); err != nil {
				t.Fatalf("%s --help: %v", strings.Join(path, " "), err)
			}
			if !strings.Contains(out.String(), "Usage:") {
				t.Errorf("%s --help printed no usage:\n%s", strings.Join(path, " "), out.String())
			}
		})
		for _, sub := range c.Commands() {
			if !sub.Hidden && sub.Name() != "help" && sub.Name() != "completion" {
				walk(sub, append(path, sub.Name()))
			}
		}
	}
	walk(newRootCmd(), []string{"spate"})
}

func TestServeRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*serveConfig)
		wantErr string
	}{
		{"durability", func(c *serveConfig) { c.durability = "eventually" }, "--durability"},
		{"create delay", func(c *serveConfig) { c.createDelay = -time.Second }, "--create-delay"},
		{"iterator ttl", func(c *serveConfig) { c.iteratorTTL = 0 }, "--iterator-ttl"},
		{"shard count updates", func(c *serveConfig) { c.scaleCalls = -1 }, "--shard-count-updates"},
		{"log level", func(c *serveConfig) { c.logLevel = "chatty" }, "--log-level"},
		{"log format", func(c *serveConfig) { c.logFormat = "yaml" }, "--log-format"},
		{"http address", func(c *serveConfig) { c.httpAddr = "127.0.0.1:http-port" }, "--http-addr"},
		{"grpc address", func(c *serveConfig) { c.grpcAddr = "not an address" }, "--grpc-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testServeConfig(t)
			tt.change(&cfg)
			err := serve(context.Background(), cfg, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("serve error = %v, want one about %s", err, tt.wantErr)
			}
		})
	}
}

// TestServeShutdown starts serve on free ports, checks that both APIs
// answer, cancels the context (what SIGTERM does) while a gRPC Subscribe is
// open, and checks that serve ends the subscription, drains without hitting
// the timeout and returns nil.
func TestServeShutdown(t *testing.T) {
	cfg := testServeConfig(t)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		err := serve(ctx, cfg, pw)
		pw.Close()
		served <- err
	}()

	lines := make(chan map[string]any, 1000) // never blocks the server's logging
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Errorf("log line is not JSON: %q", sc.Text())
				continue
			}
			lines <- rec
		}
	}()
	var httpAddr, grpcAddr string
	for rec := range lines {
		if rec["msg"] == "spate serving" {
			httpAddr, _ = rec["http_addr"].(string)
			grpcAddr, _ = rec["grpc_addr"].(string)
			break
		}
	}
	if httpAddr == "" || grpcAddr == "" {
		t.Fatalf("no \"spate serving\" line with both addresses; serve: %v", <-served)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "StreamNames") {
		t.Errorf("ListStreams: %s %s", resp.Status, body)
	}
	// A Subscribe stream never ends on its own: shutdown must end it rather
	// than wait for the drain timeout.
	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	api := spatev1.NewStreamServiceClient(cc)
	if _, err := api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatalf("gRPC CreateStream: %v", err)
	}
	if _, err := api.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "s", PartitionKey: "k", Data: []byte("x")}); err != nil {
		t.Fatalf("gRPC PutRecord: %v", err)
	}
	sub, err := api.Subscribe(context.Background(), &spatev1.SubscribeRequest{
		StreamName: "s", ShardId: "shardId-000000000000",
		StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON},
	})
	if err != nil {
		t.Fatalf("gRPC Subscribe: %v", err)
	}
	if _, err := sub.Recv(); err != nil { // the subscription is running
		t.Fatalf("gRPC Subscribe: first event: %v", err)
	}

	cancel()
	if _, err := sub.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("Subscribe after shutdown: %v, want Unavailable", err)
	}
	var msgs []string
	for rec := range lines {
		msgs = append(msgs, rec["msg"].(string))
	}
	if err := <-served; err != nil {
		t.Fatalf("serve after cancel: %v", err)
	}
	if len(msgs) == 0 || msgs[len(msgs)-1] != "spate stopped" {
		t.Errorf("log after cancel = %q, want it to end with \"spate stopped\"", msgs)
	}
	for _, m := range msgs {
		if strings.Contains(m, "incomplete") {
			t.Errorf("shutdown did not drain cleanly: %q", m)
		}
	}
	if conn, err := net.Dial("tcp", httpAddr); err == nil {
		conn.Close()
		t.Errorf("HTTP address %s still accepts after shutdown", httpAddr)
	}
}

// testServeConfig is serve's defaults on a temporary directory and free
// loopback ports.
func testServeConfig(t *testing.T) serveConfig {
	return serveConfig{
		dataDir:     t.TempDir(),
		httpAddr:    "127.0.0.1:0",
		grpcAddr:    "127.0.0.1:0",
		durability:  "sync",
		iteratorTTL: shard.IteratorTTL,
		region:      defaultRegion,
		accountID:   defaultAccountID,
		logLevel:    "debug",
		logFormat:   "json",
		listen:      defaultListenConfig(),
	}
}
