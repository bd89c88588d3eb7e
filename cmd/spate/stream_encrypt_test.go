package main

import (
	"strings"
	"testing"

	"github.com/spatehq/spate/kms"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// TestStreamEncryptCommand starts and stops encryption with spate stream
// encrypt and checks what spate stream describe shows.
func TestStreamEncryptCommand(t *testing.T) {
	keys, err := kms.Open("") // in memory
	if err != nil {
		t.Fatal(err)
	}
	s := startAPIServerWith(t, shard.WithKeys(keys))
	ctx := clientTestContext(t)
	if _, _, err := s.run(ctx, nil, "stream", "create", "orders"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		args    []string
		wantOut []string
		wantErr string
	}{
		{"encrypt", []string{"stream", "encrypt", "orders"}, []string{"encrypting stream orders with alias/aws/kinesis"}, ""},
		{"describe", []string{"stream", "describe", "orders"}, []string{"Encryption:  KMS (alias/aws/kinesis)"}, ""},
		{"bad key", []string{"stream", "encrypt", "orders", "--key-id", "nope"}, nil, "InvalidArgumentException"},
		{"unknown key", []string{"stream", "encrypt", "orders", "--key-id", "alias/nope"}, nil, "KMSNotFoundException"},
		{"stop", []string{"stream", "encrypt", "orders", "--stop"}, []string{"stopped encryption of stream orders"}, ""},
		{"unknown stream", []string{"stream", "encrypt", "nope"}, nil, "ResourceNotFoundException"},
	}
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
	out, _, err := s.run(ctx, nil, "stream", "describe", "orders")
	if err != nil || strings.Contains(out, "Encryption") {
		t.Fatalf("describe after --stop: %v\n%s", err, out)
	}
	d, err := s.api.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "orders"})
	if err != nil || d.GetStreamDescriptionSummary().GetEncryptionType() != "NONE" {
		t.Fatalf("DescribeStreamSummary over gRPC: %v %v", d, err)
	}
}
