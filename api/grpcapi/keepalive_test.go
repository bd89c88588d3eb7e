package grpcapi

import (
	"testing"
	"time"
)

// TestKeepaliveContract: DialOptions' clients ping less often than
// ConnOptions' servers allow, with room for timer jitter, so the server
// never sends our own clients away with "too_many_pings".
func TestKeepaliveContract(t *testing.T) {
	if clientPingInterval < minClientPingInterval+10*time.Second {
		t.Errorf("clients ping every %v, servers allow pings %v apart: want a margin of 10 s", clientPingInterval, minClientPingInterval)
	}
	for _, l := range []ConnLimits{{}, {Handshake: time.Second, Idle: time.Minute, MaxStreams: 10}} {
		if n := len(ConnOptions(l)); n < 3 {
			t.Errorf("ConnOptions(%+v) has %d options, want the keep-alive policy, parameters and stream cap", l, n)
		}
	}
}
