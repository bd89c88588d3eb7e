package main

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/groups"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// startGroupServer is startAPIServer with the GroupService; it returns a
// group client too.
func startGroupServer(t *testing.T) (*apiServer, spatev1.GroupServiceClient) {
	t.Helper()
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	grpcapi.Register(gs, store)
	grpcapi.RegisterGroups(gs, groups.New(store))
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(lis)
	}()
	t.Cleanup(func() {
		gs.Stop()
		<-served
	})
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return &apiServer{addr: lis.Addr().String(), api: spatev1.NewStreamServiceClient(cc), store: store}, spatev1.NewGroupServiceClient(cc)
}

func TestGroupCommands(t *testing.T) {
	s, gc := startGroupServer(t)
	ctx := clientTestContext(t)
	if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "orders", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.api.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "orders", PartitionKey: "k", ExplicitHashKey: "0", Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	ref := &spatev1.GroupRef{StreamName: "orders", Group: "billing"}
	if _, err := gc.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: ref, WorkerId: "w1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := gc.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{Group: ref, WorkerId: "w1", ShardId: "shardId-000000000000"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"list", []string{"group", "list", "orders"}, []string{"billing\n"}, ""},
		{"describe", []string{"group", "describe", "orders", "billing"},
			[]string{"Group: billing", "Initial position: TRIM_HORIZON", "Lease timeout: 10s", "Leases taken: 1",
				"w1 ", "shardId-000000000000  w1     1", "  3            "}, ""},
		{"describe json", []string{"group", "describe", "orders", "billing", "-o", "json"}, []string{`"leaseCounter":"1"`}, ""},
		{"stats", []string{"stats", "orders"}, []string{"GROUP", "billing  1        3            "}, ""},
		{"reset with live workers", []string{"group", "reset", "orders", "billing", "--to", "latest"}, nil, "ResourceInUseException"},
		{"reset bad position", []string{"group", "reset", "orders", "billing", "--to", "yesterday"}, nil, "--to"},
		{"describe missing", []string{"group", "describe", "orders", "nope"}, nil, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := s.run(ctx, nil, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if tt.args[len(tt.args)-1] == "json" {
					out = strings.Join(strings.Fields(out), "") // protojson varies its spaces
				}
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if _, err := gc.LeaveGroup(ctx, &spatev1.LeaveGroupRequest{Group: ref, WorkerId: "w1"}); err != nil {
		t.Fatal(err)
	}
	out, _, err := s.run(ctx, nil, "group", "reset", "orders", "billing", "--to", "latest")
	if err != nil || !strings.Contains(out, "Initial position: LATEST") {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if out, _, err = s.run(ctx, nil, "group", "delete", "orders", "billing"); err != nil || !strings.Contains(out, "deleted group billing") {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if out, _, err = s.run(ctx, nil, "group", "list", "orders"); err != nil || out != "" {
		t.Fatalf("list after delete: %v %q", err, out)
	}
}

func TestGroupFlags(t *testing.T) {
	tests := []struct {
		name    string
		flags   groupFlags
		wantErr string
	}{
		{"zero values are the defaults", groupFlags{}, ""},
		{"lease timeout too short", groupFlags{leaseTimeout: 999 * time.Millisecond}, "--group-lease-timeout"},
		{"lease timeout too long", groupFlags{leaseTimeout: time.Hour}, "--group-lease-timeout"},
		{"negative limit", groupFlags{maxWorkers: -1}, "--group-max-workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := shard.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			_, err = newGroups(store, prometheus.NewRegistry(), tt.flags, slog.Default())
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
