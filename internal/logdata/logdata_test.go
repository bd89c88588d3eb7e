package logdata

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestRecords(t *testing.T) {
	recs := Records(50)
	for i, r := range recs {
		var v map[string]any
		if err := json.Unmarshal(r, &v); err != nil {
			t.Fatalf("record %d is not JSON: %v\n%s", i, err, r)
		}
		if len(r) < 900 || len(r) > 1200 || r[len(r)-1] != '\n' {
			t.Errorf("record %d: %d bytes, want about 1 KiB ending in a newline", i, len(r))
		}
	}
	if bytes.Equal(recs[0], recs[1]) {
		t.Error("records repeat: GZIP would have it too easy")
	}
}
