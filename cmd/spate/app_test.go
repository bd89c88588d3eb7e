package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/api/grpcapi"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// analyticsServer is a store with streams "events" and "out" and an
// analytics.Service, served over gRPC (StreamService and
// AnalyticsService) on a free loopback port.
type analyticsServer struct {
	*apiServer
	store     *shard.Store
	analytics spatev1.AnalyticsServiceClient
}

func startAnalyticsServer(t *testing.T) *analyticsServer {
	t.Helper()
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	ctx := context.Background()
	for _, name := range []string{"events", "out"} {
		if err := store.CreateStream(ctx, shard.CreateStreamInput{Name: name, ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := analytics.New(ctx, store, analytics.WithCheckpointInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(grpcapi.MaxMessageSize))
	streams := grpcapi.Register(gs, store)
	an := grpcapi.RegisterAnalytics(gs, svc, store)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(lis)
	}()
	t.Cleanup(func() {
		streams.Close()
		an.Close()
		gs.Stop()
		<-served
		_ = svc.Close()
		_ = store.Close()
	})
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return &analyticsServer{
		apiServer: &apiServer{addr: lis.Addr().String(), api: spatev1.NewStreamServiceClient(cc)},
		store:     store,
		analytics: spatev1.NewAnalyticsServiceClient(cc),
	}
}

func (s *analyticsServer) put(t *testing.T, records ...string) {
	t.Helper()
	entries := make([]shard.Entry, len(records))
	for i, r := range records {
		entries[i] = shard.Entry{PartitionKey: "k", Data: []byte(r)}
	}
	if _, err := s.store.Append(context.Background(), "events", entries); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, failing the test after
// clientTestTimeout (a bound for slow machines, not an assertion on time).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(clientTestTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is an io.Writer that a running command and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAppCommands(t *testing.T) {
	s := startAnalyticsServer(t)
	ctx := clientTestContext(t)
	good := writeFile(t, "big.sql", "INSERT INTO out\nSELECT sym, price FROM events WHERE price > 10\n")
	bad := writeFile(t, "bad.sql", "INSERT INTO out\nSELECT sym FROM events WHERE \"sym\" = 'A'\n")

	steps := []struct {
		name    string
		args    []string
		stdin   string
		wantOut []string
		wantErr string
	}{
		{"list empty", []string{"app", "list"}, "", []string{"no applications"}, ""},
		{"create", []string{"app", "create", "big", "--sql-file", good}, "",
			[]string{"created application big: reads events, writes out, columns sym, price"}, ""},
		{"create from stdin", []string{"app", "create", "big2", "-f", "-"}, "INSERT INTO out SELECT sym FROM events", []string{"created application big2"}, ""},
		{"create again", []string{"app", "create", "big", "--sql-file", good}, "", nil, "ResourceInUseException: "},
		{"create bad sql", []string{"app", "create", "x", "--sql-file", bad}, "", nil, bad + ":2:"},
		{"create without file", []string{"app", "create", "x"}, "", nil, "--sql-file is required"},
		{"create missing file", []string{"app", "create", "x", "-f", "/nonexistent.sql"}, "", nil, "read the script"},
		{"list", []string{"app", "list"}, "", []string{"NAME", "STATUS", "big ", "big2", "events", "out"}, ""},
		{"describe", []string{"app", "describe", "big"}, "", []string{"Application:  big", "Source:       events", "Target:       out",
			"Columns:      sym, price", "SHARD", "shardId-000000000000", "SQL:\n  INSERT INTO out\n  SELECT sym"}, ""},
		{"describe missing", []string{"app", "describe", "nope"}, "", nil, "describe application nope: ResourceNotFoundException: "},
		{"stop", []string{"app", "stop", "big"}, "", []string{"stopped application big"}, ""},
		{"describe stopped", []string{"app", "describe", "big"}, "", []string{"Status:       STOPPED"}, ""},
		{"start", []string{"app", "start", "big"}, "", []string{"started application big"}, ""},
		{"delete", []string{"app", "delete", "big2"}, "", []string{"deleted application big2"}, ""},
		{"delete again", []string{"app", "delete", "big2"}, "", nil, "ResourceNotFoundException"},
		{"bad output", []string{"app", "list", "-o", "yaml"}, "", nil, "--output"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, _, err := s.run(ctx, strings.NewReader(st.stdin), st.args...)
			if st.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), st.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, st.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("spate %s: %v", strings.Join(st.args, " "), err)
			}
			for _, w := range st.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	t.Run("counts and json", func(t *testing.T) {
		s.put(t, `{"sym":"A","price":5}`, `{"sym":"B","price":50}`)
		waitFor(t, "rows counted", func() bool {
			out, _, err := s.run(ctx, nil, "app", "describe", "big", "-o", "json")
			if err != nil {
				t.Fatal(err)
			}
			var d struct {
				Name    string `json:"name"`
				Status  string `json:"status"`
				RowsIn  string `json:"rowsIn"` // int64 is a string in protobuf JSON
				RowsOut string `json:"rowsOut"`
			}
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			return d.Name == "big" && d.Status == "APPLICATION_STATUS_RUNNING" && d.RowsIn == "2" && d.RowsOut == "1"
		})
	})
}

func TestSQLValidate(t *testing.T) {
	s := startAnalyticsServer(t)
	ctx := clientTestContext(t)
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantOut string
		wantErr string
	}{
		{"insert", []string{"sql", "validate", "-"}, "INSERT INTO out SELECT sym, price FROM events",
			"ok: reads events, writes out, columns sym, price\n", ""},
		{"select", []string{"sql", "validate", "-"}, "SELECT sym AS s FROM events",
			"ok: reads events, writes rows to the caller (a bare SELECT: use 'spate sql run'), columns s\n", ""},
		{"error position", []string{"sql", "validate", "-"}, "SELECT sym\nFROM events\nWHERE \"sym\" = 'x'", "", "<stdin>:3:"},
		{"empty", []string{"sql", "validate", "-"}, "  \n", "", "<stdin>: the script is empty"},
		{"no file", []string{"sql", "validate", "/nonexistent.sql"}, "", "", "read the script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := s.run(ctx, strings.NewReader(tt.stdin), tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "InvalidArgumentException") || strings.Contains(err.Error(), "line ") {
					t.Errorf("a SQL error should read FILE:LINE:COLUMN: message, got %v", err)
				}
				return
			}
			if err != nil || out != tt.wantOut {
				t.Fatalf("got %q, %v; want %q", out, err, tt.wantOut)
			}
		})
	}
}

func TestSQLRun(t *testing.T) {
	// The rows, in order: AAPL, then B (1.1 * 3 is 3.3000000000000003 in
	// binary), then a symbol wider than the table so far.
	puts := []string{`{"sym":"AAPL","price":190.5,"note":null}`, `{"sym":"X","price":0.5}`,
		`{"sym":"B","price":1.1,"note":"hi"}`, `{"sym":"A-much-longer-symbol","price":2,"note":"hi"}`}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{
			name: "table",
			want: "SYM        TRIPLED  NOTE\n" +
				"AAPL         571.5  NULL\n" +
				"B              3.3  hi\n" +
				"SYM                    TRIPLED  NOTE\n" +
				"A-much-longer-symbol         6  hi\n",
		},
		{
			name: "json keeps every digit",
			args: []string{"-o", "json"},
			want: `{"sym":"AAPL","tripled":571.5,"note":null}` + "\n" +
				`{"sym":"B","tripled":3.3000000000000003,"note":"hi"}` + "\n" +
				`{"sym":"A-much-longer-symbol","tripled":6,"note":"hi"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startAnalyticsServer(t)
			ctx, cancel := context.WithCancel(clientTestContext(t))
			defer cancel()
			var out, errOut syncBuffer
			done := make(chan error, 1)
			go func() {
				args := append([]string{"sql", "run", "-"}, tt.args...)
				done <- s.runTo(ctx, strings.NewReader("SELECT sym, price * 3 AS tripled, note FROM events WHERE price > 1"), &out, &errOut, args...)
			}()
			// Running: positioned on the stream, so it sees what is put next.
			waitFor(t, "the application to run", func() bool {
				select {
				case err := <-done:
					t.Fatalf("sql run returned early: %v", err)
				default:
				}
				list, err := s.analytics.ListApplications(ctx, &spatev1.ListApplicationsRequest{})
				return err == nil && len(list.GetApplications()) == 1 &&
					list.GetApplications()[0].GetStatus() == spatev1.ApplicationStatus_APPLICATION_STATUS_RUNNING
			})
			if !strings.Contains(errOut.String(), "over stream events; Ctrl-C to stop") {
				t.Errorf("stderr = %q", errOut.String())
			}
			list, err := s.analytics.ListApplications(ctx, &spatev1.ListApplicationsRequest{})
			if err != nil || len(list.GetApplications()) != 1 || !list.GetApplications()[0].GetTemporary() {
				t.Fatalf("applications while running: %v, %v", list, err)
			}
			s.put(t, puts...)
			waitFor(t, "the rows", func() bool { return strings.Contains(out.String(), "A-much-longer-symbol") })
			if out.String() != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", out.String(), tt.want)
			}
			cancel() // Ctrl-C
			if err := <-done; err != nil {
				t.Fatalf("sql run after interrupt = %v, want nil", err)
			}
			list, err = s.analytics.ListApplications(clientTestContext(t), &spatev1.ListApplicationsRequest{})
			if err != nil || len(list.GetApplications()) != 0 {
				t.Fatalf("applications after interrupt: %v, %v", list, err)
			}
		})
	}
}

func TestSQLRunRejects(t *testing.T) {
	s := startAnalyticsServer(t)
	ctx := clientTestContext(t)
	tests := []struct {
		name, sql, wantErr string
	}{
		{"insert", "INSERT INTO out SELECT sym FROM events", "InvalidArgumentException: "},
		{"missing stream", "SELECT sym FROM nope", "ResourceNotFoundException: "},
		{"sql error", "SELECT sym FROM events WHERE \"sym\" = 1", "<stdin>:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.run(ctx, strings.NewReader(tt.sql), "sql", "run", "-")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFormatAppList(t *testing.T) {
	var b strings.Builder
	err := formatAppList(&b, []*spatev1.ApplicationDescription{
		{Name: "a", Status: spatev1.ApplicationStatus_APPLICATION_STATUS_RUNNING, Source: "events", Target: "out", RowsIn: 10, RowsOut: 2, LateRows: 1},
		{Name: "bb", Status: spatev1.ApplicationStatus_APPLICATION_STATUS_FAILED, Source: "events"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "NAME  STATUS   SOURCE  TARGET    ROWS IN  ROWS OUT  LATE  CREATED\n" +
		"a     RUNNING  events  out       10       2         1     -\n" +
		"bb    FAILED   events  (select)  0        0         0     -\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
