package runtime

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSocketUID(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9FA9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1151930 2 0 100 0 0 10 0
   1: 0100007F:C350 0100007F:9FA9 01 00000000:00000000 00:00000000 00000000  1000        0 1151931 1 0 20 4 30 10 -1
   2: 0100007F:9FA9 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1151932 1 0 20 4 30 10 -1
   3: garbage
`
	path := filepath.Join(t.TempDir(), "tcp")
	if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		local, remote int
		uid           int
		found         bool
	}{
		{0xC350, 0x9FA9, 1000, true}, // the client's socket: its owner
		{0x9FA9, 0xC350, 0, true},    // the server's side
		{0xC350, 0x1234, 0, false},
		{0x9FA9, 0, 0, true}, // the listener itself
	} {
		uid, found := socketUID(path, tc.local, tc.remote)
		if uid != tc.uid || found != tc.found {
			t.Errorf("socketUID(%d, %d) = %d %v, want %d %v", tc.local, tc.remote, uid, found, tc.uid, tc.found)
		}
	}
	if _, found := socketUID(filepath.Join(t.TempDir(), "none"), 1, 2); found {
		t.Error("found a socket in no table")
	}
}
