package main

import (
	"encoding/json"
	"net"
	"slices"
	"strings"
	"testing"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// validMetricNames is how the error for an unknown metric lists the names.
const validMetricNames = "IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, " +
	"WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds or ALL"

func TestParseMetricNames(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"kinesis names", []string{"IncomingBytes", "IteratorAgeMilliseconds"}, []string{"IncomingBytes", "IteratorAgeMilliseconds"}, ""},
		{"any case", []string{"incomingbytes", "OUTGOINGRECORDS", "writeProvisionedThroughputExceeded"},
			[]string{"IncomingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded"}, ""},
		{"snake and kebab case", []string{"incoming_bytes", "read-provisioned-throughput-exceeded"},
			[]string{"IncomingBytes", "ReadProvisionedThroughputExceeded"}, ""},
		{"duplicates once", []string{"OutgoingBytes", "outgoingbytes", "OUTGOING_BYTES"}, []string{"OutgoingBytes"}, ""},
		{"all", []string{"all"}, []string{"ALL"}, ""},
		{"all absorbs the rest", []string{"IncomingBytes", "All", "OutgoingBytes"}, []string{"ALL"}, ""},
		{"eight names", []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
			"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds", "incomingbytes"},
			[]string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
				"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}, ""},
		{"unknown", []string{"IncomingBytes", "IncomingByte"}, nil, `metric "IncomingByte": want one of ` + validMetricNames},
		{"cloudwatch stream metric", []string{"GetRecords.Bytes"}, nil, `metric "GetRecords.Bytes": want one of`},
		{"empty", []string{""}, nil, `metric "": want one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMetricNames(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseMetricNames(%q) = %q, %v; want an error containing %q", tt.args, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("parseMetricNames(%q) = %q, %v; want %q", tt.args, got, err, tt.want)
			}
		})
	}
}

func TestMonitoringCommands(t *testing.T) {
	s := startAPIServer(t)
	ctx := clientTestContext(t)
	if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{
		StreamName: "orders", ShardCount: 2, StreamMode: spatev1.StreamMode_STREAM_MODE_PROVISIONED}); err != nil {
		t.Fatal(err)
	}
	desc, err := s.api.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	arn := desc.GetStreamDescriptionSummary().GetStreamArn()

	all := []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
		"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}
	allButOutgoingBytes := slices.DeleteFunc(slices.Clone(all), func(m string) bool { return m == "OutgoingBytes" })

	steps := []struct {
		name        string
		args        []string
		wantOut     string   // all of stdout
		wantErr     string   // substring of the error; "" for success
		wantMetrics []string // what DescribeStream and DescribeStreamSummary report afterwards
	}{
		{"enable two", []string{"stream", "monitoring", "enable", "orders", "IncomingBytes", "incomingrecords"},
			"orders: IncomingBytes, IncomingRecords (was: none)\n", "", []string{"IncomingBytes", "IncomingRecords"}},
		{"enable again", []string{"stream", "monitoring", "enable", "orders", "INCOMINGBYTES"},
			"orders: IncomingBytes, IncomingRecords (was: IncomingBytes, IncomingRecords)\n", "", []string{"IncomingBytes", "IncomingRecords"}},
		{"enable all", []string{"stream", "monitoring", "enable", "orders", "ALL"},
			"orders: " + strings.Join(all, ", ") + " (was: IncomingBytes, IncomingRecords)\n", "", all},
		{"disable one", []string{"stream", "monitoring", "disable", "orders", "outgoing_bytes"},
			"orders: " + strings.Join(allButOutgoingBytes, ", ") + " (was: " + strings.Join(all, ", ") + ")\n", "", allButOutgoingBytes},
		{"unknown metric", []string{"stream", "monitoring", "disable", "orders", "IncomingBytes", "Latency"},
			"", `metric "Latency": want one of ` + validMetricNames, allButOutgoingBytes},
		{"no metric", []string{"stream", "monitoring", "enable", "orders"},
			"", "requires at least 2 arg(s)", allButOutgoingBytes},
		{"missing stream", []string{"stream", "monitoring", "enable", "nope", "IncomingBytes"},
			"", "enable enhanced monitoring of stream nope: ResourceNotFoundException: ", allButOutgoingBytes},
		{"missing stream disable", []string{"stream", "monitoring", "disable", "nope", "all"},
			"", "disable enhanced monitoring of stream nope: ResourceNotFoundException: ", allButOutgoingBytes},
		{"disable all by arn", []string{"stream", "monitoring", "disable", arn, "All"},
			"orders: none (was: " + strings.Join(allButOutgoingBytes, ", ") + ")\n", "", nil},
		{"disable when none", []string{"stream", "monitoring", "disable", "orders", "IteratorAgeMilliseconds"},
			"orders: none (was: none)\n", "", nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, _, err := s.run(ctx, nil, st.args...)
			if st.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), st.wantErr) {
					t.Errorf("error = %v, want one containing %q", err, st.wantErr)
				}
			} else if err != nil {
				t.Errorf("spate %s: %v", strings.Join(st.args, " "), err)
			}
			if out != st.wantOut {
				t.Errorf("output = %q, want %q", out, st.wantOut)
			}

			d, err := describeAll(ctx, s.api, "orders")
			if err != nil {
				t.Fatal(err)
			}
			if got := d.GetShardLevelMetrics(); !slices.Equal(got, st.wantMetrics) {
				t.Errorf("DescribeStream shard-level metrics = %q, want %q", got, st.wantMetrics)
			}
			sum, err := s.api.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "orders"})
			if err != nil {
				t.Fatal(err)
			}
			if got := sum.GetStreamDescriptionSummary().GetShardLevelMetrics(); !slices.Equal(got, st.wantMetrics) {
				t.Errorf("DescribeStreamSummary shard-level metrics = %q, want %q", got, st.wantMetrics)
			}
		})
	}
}

// TestMonitoringDescribe checks that `spate stream describe` shows the
// enabled metrics, and only when there are some.
func TestMonitoringDescribe(t *testing.T) {
	s := startAPIServer(t)
	ctx := clientTestContext(t)
	if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{
		StreamName: "orders", ShardCount: 1, StreamMode: spatev1.StreamMode_STREAM_MODE_PROVISIONED}); err != nil {
		t.Fatal(err)
	}
	out, _, err := s.run(ctx, nil, "stream", "describe", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "Metrics:") {
		t.Errorf("describe shows metrics before any were enabled:\n%s", out)
	}
	if _, err := s.api.EnableEnhancedMonitoring(ctx, &spatev1.EnableEnhancedMonitoringRequest{
		StreamName: "orders", ShardLevelMetrics: []string{"IteratorAgeMilliseconds", "IncomingBytes"}}); err != nil {
		t.Fatal(err)
	}
	out, _, err = s.run(ctx, nil, "stream", "describe", "orders")
	if err != nil {
		t.Fatal(err)
	}
	// Shards: and Metrics: share the column of the other attributes.
	if want := "Shards:     1 (1 open)\nMetrics:    IncomingBytes, IteratorAgeMilliseconds\n"; !strings.Contains(out, want) {
		t.Errorf("describe output lacks %q:\n%s", want, out)
	}
	out, _, err = s.run(ctx, nil, "stream", "describe", "orders", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		ShardLevelMetrics []string `json:"shardLevelMetrics"`
	}
	want := []string{"IncomingBytes", "IteratorAgeMilliseconds"}
	if err := json.Unmarshal([]byte(out), &d); err != nil || !slices.Equal(d.ShardLevelMetrics, want) {
		t.Errorf("describe -o json: shardLevelMetrics = %q, %v; want %q:\n%s", d.ShardLevelMetrics, err, want, out)
	}
}

// TestMonitoringUnknownMetricDoesNotDial points the command at an address
// where nothing listens: a bad name must be reported as such, not as an
// unreachable server.
func TestMonitoringUnknownMetricDoesNotDial(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &apiServer{addr: lis.Addr().String()}
	lis.Close()
	ctx := clientTestContext(t)
	_, _, err = s.run(ctx, nil, "stream", "monitoring", "enable", "orders", "bytes")
	if err == nil || !strings.HasPrefix(err.Error(), `metric "bytes": want one of `+validMetricNames) {
		t.Errorf("error = %v, want the list of metric names", err)
	}
	// The same command with a good name does dial, and fails for it.
	_, _, err = s.run(ctx, nil, "stream", "monitoring", "enable", "orders", "IncomingBytes")
	if err == nil || !strings.Contains(err.Error(), "is 'spate serve' running there?") {
		t.Errorf("error = %v, want a hint about the server", err)
	}
}
