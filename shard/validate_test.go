package shard

import (
	"errors"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
)

func TestValidateConsumerName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string // "" for accepted
	}{
		{"", ""},
		{"audit", ""},
		{"a-Z_0.9", ""},
		{strings.Repeat("x", 128), ""},
		{"firehose:orders", `consumer_name "firehose:orders" is invalid`},
		{"two words", `consumer_name "two words" is invalid`},
		{strings.Repeat("x", 129), "consumer_name is 129 bytes long"},
	}
	for _, tt := range tests {
		err := ValidateConsumerName("consumer_name", tt.name)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("ValidateConsumerName(%.20q) = %v, want nil", tt.name, err)
			}
			continue
		}
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Code != apierr.Validation || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ValidateConsumerName(%.20q) = %v, want a ValidationException containing %q", tt.name, err, tt.wantErr)
		}
	}
}
