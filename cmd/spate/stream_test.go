package main

import (
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestFormatDescription(t *testing.T) {
	created := timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	d := &spatev1.StreamDescription{
		StreamName: "orders", StreamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/orders",
		StreamStatus: spatev1.StreamStatus_STREAM_STATUS_ACTIVE, StreamMode: spatev1.StreamMode_STREAM_MODE_PROVISIONED,
		RetentionPeriodHours: 24, StreamCreationTimestamp: created,
		Shards: []*spatev1.Shard{
			{ShardId: "shardId-000000000000", HashKeyRange: &spatev1.HashKeyRange{StartingHashKey: "0", EndingHashKey: "99"},
				SequenceNumberRange: &spatev1.SequenceNumberRange{StartingSequenceNumber: "1", EndingSequenceNumber: "9"}},
			{ShardId: "shardId-000000000001", ParentShardId: "shardId-000000000000",
				HashKeyRange: &spatev1.HashKeyRange{StartingHashKey: "0", EndingHashKey: "49"}},
			{ShardId: "shardId-000000000002", ParentShardId: "shardId-000000000000", AdjacentParentShardId: "shardId-000000000003",
				HashKeyRange: &spatev1.HashKeyRange{StartingHashKey: "50", EndingHashKey: "99"}},
		},
	}
	want := `Stream:     orders
ARN:        arn:aws:kinesis:us-east-1:000000000000:stream/orders
Status:     ACTIVE
Mode:       PROVISIONED
Created:    2026-01-02T03:04:05Z
Retention:  24 hours
Shards:     3 (2 open)

SHARD                 STATE   PARENTS                                    STARTING HASH KEY  ENDING HASH KEY
shardId-000000000000  closed  -                                          0                  99
shardId-000000000001  open    shardId-000000000000                       0                  49
shardId-000000000002  open    shardId-000000000000,shardId-000000000003  50                 99
`
	var b strings.Builder
	if err := formatDescription(&b, d); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFormatStreamList(t *testing.T) {
	tests := []struct {
		name    string
		streams []*spatev1.StreamSummary
		want    string
	}{
		{"empty", nil, "no streams\n"},
		{"two", []*spatev1.StreamSummary{
			{StreamName: "a", StreamStatus: spatev1.StreamStatus_STREAM_STATUS_ACTIVE, StreamMode: spatev1.StreamMode_STREAM_MODE_ON_DEMAND,
				StreamCreationTimestamp: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))},
			{StreamName: "longer-name", StreamStatus: spatev1.StreamStatus_STREAM_STATUS_CREATING, StreamMode: spatev1.StreamMode_STREAM_MODE_PROVISIONED},
		}, `NAME         STATUS    MODE         CREATED
a            ACTIVE    ON_DEMAND    2026-01-02T03:04:05Z
longer-name  CREATING  PROVISIONED  -
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := formatStreamList(&b, tt.streams); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestStreamCommands(t *testing.T) {
	s := startAPIServer(t)
	ctx := clientTestContext(t)

	runSteps(t, s, []cliStep{
		{"create", []string{"stream", "create", "orders", "--shards", "3", "--tag", "team=core"}, []string{"created stream orders"}, ""},
		{"create on-demand", []string{"stream", "create", "clicks", "--mode", "on-demand"}, []string{"created stream clicks"}, ""},
		{"create default", []string{"stream", "create", "logs"}, []string{"created stream logs"}, ""},
		{"create again", []string{"stream", "create", "orders"}, nil, "ResourceInUseException: "},
		{"bad mode", []string{"stream", "create", "x", "--mode", "fast"}, nil, "--mode"},
		{"list", []string{"stream", "list"}, []string{"NAME", "clicks", "ON_DEMAND", "logs", "orders", "PROVISIONED"}, ""},
		{"describe", []string{"stream", "describe", "orders"}, []string{"Stream:     orders", "Shards:     3 (3 open)", "shardId-000000000002"}, ""},
		{"describe on-demand", []string{"stream", "describe", "clicks"}, []string{"Shards:     4 (4 open)"}, ""},
		{"describe default", []string{"stream", "describe", "logs"}, []string{"Shards:     1 (1 open)"}, ""},
		{"describe unknown", []string{"stream", "describe", "nope"}, nil, "describe stream nope: ResourceNotFoundException: "},
		{"delete", []string{"stream", "delete", "clicks"}, []string{"deleted stream clicks"}, ""},
		{"describe deleted", []string{"stream", "describe", "clicks"}, nil, "ResourceNotFoundException"},
		{"bad output", []string{"stream", "list", "-o", "yaml"}, nil, "--output"},
	})

	t.Run("json output", func(t *testing.T) {
		out, _, err := s.run(ctx, nil, "stream", "describe", "orders", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			StreamName string `json:"streamName"`
			Shards     []struct {
				ShardID string `json:"shardId"`
			} `json:"shards"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil || d.StreamName != "orders" || len(d.Shards) != 3 {
			t.Errorf("describe -o json = %+v, %v:\n%s", d, err, out)
		}
		out, _, err = s.run(ctx, nil, "stream", "list", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var l struct {
			StreamNames []string `json:"streamNames"`
		}
		if err := json.Unmarshal([]byte(out), &l); err != nil || strings.Join(l.StreamNames, ",") != "logs,orders" {
			t.Errorf("list -o json = %+v, %v:\n%s", l, err, out)
		}
	})
}

// TestUnreachableServer: every command fails at once, with a hint, when no
// server listens at --grpc-addr. `put` from stdin used to retry for 9 s
// after reading its first batch.
func TestUnreachableServer(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &apiServer{addr: lis.Addr().String()}
	lis.Close()
	tests := []struct {
		name string
		args []string
		// stdinUnread: the command fails before reading stdin.
		stdinUnread bool
	}{
		{name: "stream list", args: []string{"stream", "list"}},
		{name: "put DATA", args: []string{"put", "s", "x"}},
		{name: "put from stdin", args: []string{"put", "s"}, stdinUnread: true},
		{name: "firehose put from stdin", args: []string{"firehose", "put", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := &readCounter{r: strings.NewReader(numberedLines(10))}
			_, _, err := s.run(clientTestContext(t), stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), "is unavailable (is 'spate serve' running there?") {
				t.Errorf("error = %v, want a hint about the server", err)
			}
			if tt.stdinUnread && stdin.n > 0 {
				t.Errorf("read %d bytes of stdin before failing", stdin.n)
			}
		})
	}
}

// readCounter counts the bytes read through it.
type readCounter struct {
	r io.Reader
	n int
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// cliStep is one command of a table-driven CLI test.
type cliStep struct {
	name    string
	args    []string
	wantOut []string // substrings of stdout
	wantErr string   // substring of the error; "" for success
}

// runSteps runs each step against s as a subtest, in order.
func runSteps(t *testing.T, s *apiServer, steps []cliStep) {
	t.Helper()
	ctx := clientTestContext(t)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, _, err := s.run(ctx, nil, st.args...)
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
}
