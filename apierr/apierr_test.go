package apierr

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Code
		msg  string
	}{
		{"direct", New(ResourceNotFound, "stream %s not found", "a"), ResourceNotFound, "stream a not found"},
		{"wrapped", fmt.Errorf("put: %w", New(InvalidArgument, "bad key")), InvalidArgument, "bad key"},
		{"plain", errors.New("disk on fire"), InternalFailure, "internal failure; see the server log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeOf(tt.err); got != tt.want {
				t.Errorf("CodeOf = %q, want %q", got, tt.want)
			}
			if got := MessageOf(tt.err); got != tt.msg {
				t.Errorf("MessageOf = %q, want %q", got, tt.msg)
			}
			if !Is(tt.err, tt.want) && tt.want != InternalFailure {
				t.Errorf("Is(%v, %q) = false", tt.err, tt.want)
			}
		})
	}
}
