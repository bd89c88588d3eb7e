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
	runSteps(t, s, []cliStep{
		{"encrypt", []string{"stream", "encrypt", "orders"}, []string{"encrypting stream orders with alias/aws/kinesis"}, ""},
		{"describe", []string{"stream", "describe", "orders"}, []string{"Encryption:  KMS (alias/aws/kinesis)"}, ""},
		{"bad key", []string{"stream", "encrypt", "orders", "--key-id", "nope"}, nil, "InvalidArgumentException"},
		{"unknown key", []string{"stream", "encrypt", "orders", "--key-id", "alias/nope"}, nil, "KMSNotFoundException"},
		{"stop", []string{"stream", "encrypt", "orders", "--stop"}, []string{"stopped encryption of stream orders"}, ""},
		{"unknown stream", []string{"stream", "encrypt", "nope"}, nil, "ResourceNotFoundException"},
	})
	out, _, err := s.run(ctx, nil, "stream", "describe", "orders")
	if err != nil || strings.Contains(out, "Encryption") {
		t.Fatalf("describe after --stop: %v\n%s", err, out)
	}
	d, err := s.api.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "orders"})
	if err != nil || d.GetStreamDescriptionSummary().GetEncryptionType() != "NONE" {
		t.Fatalf("DescribeStreamSummary over gRPC: %v %v", d, err)
	}
}
