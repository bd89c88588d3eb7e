package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// analyticsFixture is a store with streams "events" and "out" and an
// analytics.Service, served over an in-memory gRPC connection.
type analyticsFixture struct {
	store  *shard.Store
	server *AnalyticsServer
	client spatev1.AnalyticsServiceClient
}

func newAnalyticsFixture(t *testing.T) *analyticsFixture {
	t.Helper()
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
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
	t.Cleanup(func() {
		_ = svc.Close()
		_ = store.Close()
	})
	var srv *AnalyticsServer
	conn := serveBufconn(t, func(gs *grpc.Server) { srv = RegisterAnalytics(gs, svc, store) })
	return &analyticsFixture{store: store, server: srv, client: spatev1.NewAnalyticsServiceClient(conn)}
}

func (f *analyticsFixture) put(t *testing.T, records ...string) {
	t.Helper()
	entries := make([]shard.Entry, len(records))
	for i, r := range records {
		entries[i] = shard.Entry{PartitionKey: fmt.Sprint(i), Data: []byte(r)}
	}
	if _, err := f.store.Append(context.Background(), "events", entries); err != nil {
		t.Fatal(err)
	}
}

func TestAnalyticsLifecycle(t *testing.T) {
	f := newAnalyticsFixture(t)
	ctx := testContext(t)
	created, err := f.client.CreateApplication(ctx, &spatev1.CreateApplicationRequest{
		ApplicationName: "big", Sql: "INSERT INTO out SELECT sym, price FROM events WHERE price > 10",
	})
	if err != nil {
		t.Fatal(err)
	}
	d := created.GetApplicationDescription()
	if d.GetName() != "big" || d.GetSource() != "events" || d.GetTarget() != "out" ||
		strings.Join(d.GetColumns(), ",") != "sym,price" || d.GetCreatedAt() == nil || d.GetTemporary() {
		t.Fatalf("created %v", d)
	}
	f.put(t, `{"sym":"A","price":5}`, `{"sym":"B","price":50}`)
	deadline := time.Now().Add(testTimeout)
	for {
		resp, err := f.client.DescribeApplication(ctx, &spatev1.DescribeApplicationRequest{ApplicationName: "big"})
		if err != nil {
			t.Fatal(err)
		}
		d = resp.GetApplicationDescription()
		if d.GetRowsIn() == 2 && d.GetRowsOut() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows never counted: %v", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d.GetStatus() != spatev1.ApplicationStatus_APPLICATION_STATUS_RUNNING || len(d.GetInputs()) != 1 ||
		d.GetInputs()[0].GetShardId() != "shardId-000000000000" {
		t.Fatalf("described %v", d)
	}

	list, err := f.client.ListApplications(ctx, &spatev1.ListApplicationsRequest{})
	if err != nil || len(list.GetApplications()) != 1 || list.GetApplications()[0].GetName() != "big" {
		t.Fatalf("list = %v, %v", list, err)
	}
	if _, err := f.client.StopApplication(ctx, &spatev1.StopApplicationRequest{ApplicationName: "big"}); err != nil {
		t.Fatal(err)
	}
	resp, err := f.client.DescribeApplication(ctx, &spatev1.DescribeApplicationRequest{ApplicationName: "big"})
	if err != nil || resp.GetApplicationDescription().GetStatus() != spatev1.ApplicationStatus_APPLICATION_STATUS_STOPPED {
		t.Fatalf("after stop: %v, %v", resp, err)
	}
	if _, err := f.client.StartApplication(ctx, &spatev1.StartApplicationRequest{ApplicationName: "big"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.DeleteApplication(ctx, &spatev1.DeleteApplicationRequest{ApplicationName: "big"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.DescribeApplication(ctx, &spatev1.DescribeApplicationRequest{ApplicationName: "big"})
	wantAPIError(t, err, apierr.ResourceNotFound, codes.NotFound, "big")
}

func TestAnalyticsErrors(t *testing.T) {
	f := newAnalyticsFixture(t)
	ctx := testContext(t)
	if _, err := f.client.CreateApplication(ctx, &spatev1.CreateApplicationRequest{ApplicationName: "dup", Sql: "SELECT v FROM events"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		call  func() error
		code  apierr.Code
		grpc  codes.Code
		inMsg string
	}{
		{"duplicate", func() error {
			_, err := f.client.CreateApplication(ctx, &spatev1.CreateApplicationRequest{ApplicationName: "dup", Sql: "SELECT v FROM events"})
			return err
		}, apierr.ResourceInUse, codes.FailedPrecondition, "dup"},
		{"missing source", func() error {
			_, err := f.client.CreateApplication(ctx, &spatev1.CreateApplicationRequest{ApplicationName: "x", Sql: "SELECT v FROM nope"})
			return err
		}, apierr.ResourceNotFound, codes.NotFound, "nope"},
		{"stop missing", func() error {
			_, err := f.client.StopApplication(ctx, &spatev1.StopApplicationRequest{ApplicationName: "nope"})
			return err
		}, apierr.ResourceNotFound, codes.NotFound, "nope"},
		{"start missing", func() error {
			_, err := f.client.StartApplication(ctx, &spatev1.StartApplicationRequest{ApplicationName: "nope"})
			return err
		}, apierr.ResourceNotFound, codes.NotFound, "nope"},
		{"delete missing", func() error {
			_, err := f.client.DeleteApplication(ctx, &spatev1.DeleteApplicationRequest{ApplicationName: "nope"})
			return err
		}, apierr.ResourceNotFound, codes.NotFound, "nope"},
		{"results missing", func() error {
			s, err := f.client.Results(ctx, &spatev1.ResultsRequest{ApplicationName: "nope"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}, apierr.ResourceNotFound, codes.NotFound, "nope"},
		{"schema missing", func() error {
			_, err := f.client.DiscoverSchema(ctx, &spatev1.DiscoverSchemaRequest{StreamName: "nope"})
			return err
		}, apierr.ResourceNotFound, codes.NotFound, "nope"},
		{"schema limit", func() error {
			_, err := f.client.DiscoverSchema(ctx, &spatev1.DiscoverSchemaRequest{StreamName: "events", Limit: 100000})
			return err
		}, apierr.InvalidArgument, codes.InvalidArgument, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.call(), tt.code, tt.grpc, tt.inMsg)
			if _, _, ok := SQLPosition(tt.call()); ok {
				t.Error("a non-SQL error has a SQL position")
			}
		})
	}
}

func TestAnalyticsSQLErrors(t *testing.T) {
	f := newAnalyticsFixture(t)
	ctx := testContext(t)
	script := "SELECT v\nFROM events\nWHERE \"v\" = 1"
	_, compileErr := query.Compile(script)
	var qe *query.Error
	if !errors.As(compileErr, &qe) {
		t.Fatalf("query.Compile(%q) = %v, want a *query.Error", script, compileErr)
	}
	for _, call := range []struct {
		name string
		do   func() error
	}{
		{"validate", func() error {
			_, err := f.client.ValidateSql(ctx, &spatev1.ValidateSqlRequest{Sql: script})
			return err
		}},
		{"create", func() error {
			_, err := f.client.CreateApplication(ctx, &spatev1.CreateApplicationRequest{ApplicationName: "x", Sql: script})
			return err
		}},
	} {
		t.Run(call.name, func(t *testing.T) {
			err := call.do()
			wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, fmt.Sprintf("line %d, column %d: %s", qe.Line, qe.Column, qe.Msg))
			line, col, ok := SQLPosition(err)
			if !ok || line != qe.Line || col != qe.Column || line != 3 {
				t.Errorf("SQLPosition = %d, %d, %v; want %d, %d (line 3)", line, col, ok, qe.Line, qe.Column)
			}
		})
	}

	resp, err := f.client.ValidateSql(ctx, &spatev1.ValidateSqlRequest{Sql: "SELECT sym AS s, price FROM events"})
	if err != nil {
		t.Fatal(err)
	}
	d := resp.GetApplicationDescription()
	if d.GetSource() != "events" || d.GetTarget() != "" || strings.Join(d.GetColumns(), ",") != "s,price" || d.GetName() != "" {
		t.Errorf("validate = %v", d)
	}
}

func TestAnalyticsResults(t *testing.T) {
	f := newAnalyticsFixture(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	_, err := f.client.CreateApplication(ctx, &spatev1.CreateApplicationRequest{
		ApplicationName: "adhoc", Sql: "SELECT sym, price * 2 AS doubled FROM events WHERE sym LIKE 'A%'", Temporary: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := f.client.Results(ctx, &spatev1.ResultsRequest{ApplicationName: "adhoc"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || strings.Join(first.GetColumns(), ",") != "sym,doubled" || first.GetRow() != "" {
		t.Fatalf("first message %v, %v", first, err)
	}
	f.put(t, `{"sym":"AAPL","price":1.5}`, `{"sym":"MSFT","price":2}`, `{"sym":"AMZN","price":3}`)
	var rows []string
	for len(rows) < 2 {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if len(msg.GetColumns()) != 0 {
			t.Fatalf("columns again: %v", msg)
		}
		rows = append(rows, msg.GetRow())
	}
	if got := strings.Join(rows, " "); got != `{"sym":"AAPL","doubled":3} {"sym":"AMZN","doubled":6}` {
		t.Fatalf("rows %s", got)
	}

	// Close ends the stream with Unavailable, and refuses new ones.
	f.server.Close()
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("after Close: %v, want Unavailable", err)
	}
	again, err := f.client.Results(testContext(t), &spatev1.ResultsRequest{ApplicationName: "adhoc"})
	if err == nil {
		_, err = again.Recv()
	}
	if status.Code(err) != codes.Unavailable && status.Code(err) != codes.NotFound {
		// NotFound: the temporary application left with its last reader.
		t.Fatalf("results after Close: %v", err)
	}
}

func TestAnalyticsDiscoverSchema(t *testing.T) {
	f := newAnalyticsFixture(t)
	f.put(t, `{"sym":"A","n":1,"q":{"bid":1.5}}`, `{"sym":"B","n":2}`, `[]`)
	resp, err := f.client.DiscoverSchema(testContext(t), &spatev1.DiscoverSchemaRequest{StreamName: "events"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStreamName() != "events" || resp.GetSampled() != 3 || resp.GetNotObjects() != 1 || len(resp.GetColumns()) != 3 {
		t.Fatalf("schema %v", resp)
	}
	bid := resp.GetColumns()[2]
	if bid.GetName() != "q.bid" || bid.GetExpr() != "q->>'$.bid'" || bid.GetType() != "DOUBLE" || !bid.GetNullable() ||
		bid.GetPresence() != 0.5 || bid.GetExample() != "1.5" {
		t.Errorf("nested column %v", bid)
	}
}

// TestAnalyticsHostileSQL: scripts that crashed the server with a stack
// overflow (issue 11) are refused with InvalidArgument and a position.
func TestAnalyticsHostileSQL(t *testing.T) {
	f := newAnalyticsFixture(t)
	ctx := testContext(t)
	scripts := []struct {
		name, sql, inMsg string
		column           int
	}{
		{"2 MB of 1+1+", "SELECT " + strings.Repeat("1+", 1_000_000) + "1 FROM events", "the script is 2000020 bytes; the limit is 102400 bytes", 102401},
		{"1,048,000 bangs", "SELECT " + strings.Repeat("!", 1_048_000) + "1 AS x FROM events", "the limit is 102400 bytes", 102401},
		{"100 KB of 1+1+", "SELECT " + strings.Repeat("1+", 50_000) + "1 FROM events", "nested too deeply", 8},
		{"100 KB of parentheses", "SELECT " + strings.Repeat("(", 50_000) + "1" + strings.Repeat(")", 50_000) + " FROM events", "nested too deeply", 8 + query.MaxDepth},
	}
	for _, s := range scripts {
		for _, call := range []struct {
			name string
			do   func() error
		}{
			{"validate", func() error {
				_, err := f.client.ValidateSql(ctx, &spatev1.ValidateSqlRequest{Sql: s.sql})
				return err
			}},
			{"create", func() error {
				_, err := f.client.CreateApplication(ctx, &spatev1.CreateApplicationRequest{ApplicationName: "hostile", Sql: s.sql})
				return err
			}},
		} {
			t.Run(s.name+" "+call.name, func(t *testing.T) {
				err := call.do()
				if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), s.inMsg) {
					t.Fatalf("err = %.300v; want InvalidArgument with %q", err, s.inMsg)
				}
				if line, col, ok := SQLPosition(err); !ok || line != 1 || col != s.column {
					t.Errorf("SQLPosition = %d, %d, %v; want 1, %d", line, col, ok, s.column)
				}
			})
		}
	}
}

// TestAnalyticsInternalStreamsAreHidden: a delivery stream's buffer
// ("firehose:x") is refused by name, whether it exists or not (issue 11
// defect 6).
func TestAnalyticsInternalStreamsAreHidden(t *testing.T) {
	f := newAnalyticsFixture(t)
	ctx := testContext(t)
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "firehose:x", ShardCount: 1, Internal: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"firehose:x", "firehose:nope"} {
		for _, call := range []struct {
			name string
			do   func() error
		}{
			{"discover", func() error {
				_, err := f.client.DiscoverSchema(ctx, &spatev1.DiscoverSchemaRequest{StreamName: name})
				return err
			}},
			{"validate", func() error {
				_, err := f.client.ValidateSql(ctx, &spatev1.ValidateSqlRequest{Sql: "SELECT v FROM `" + name + "`"})
				return err
			}},
			{"create", func() error {
				_, err := f.client.CreateApplication(ctx, &spatev1.CreateApplicationRequest{ApplicationName: "a", Sql: "SELECT v FROM `" + name + "`"})
				return err
			}},
		} {
			t.Run(name+" "+call.name, func(t *testing.T) {
				err := call.do()
				if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), `stream name "`+name+`" is invalid`) {
					t.Fatalf("err = %v; want InvalidArgument saying the name is invalid", err)
				}
			})
		}
	}
}
