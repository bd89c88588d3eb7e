package awsproto

import (
	"slices"
	"testing"
)

// parseList reads {"L":[{"S":"...","B":"..."}, ...]} with the fast parser.
func parseList(body string) (strs []string, blobs []Blob, ok bool) {
	p := NewFastParser([]byte(body))
	ok = p.Object(func(key []byte) bool {
		if string(key) != "L" {
			return false
		}
		return p.List(func() bool {
			return p.Object(func(key []byte) bool {
				switch string(key) {
				case "S":
					var s *string
					if !p.String(&s) {
						return false
					}
					strs = append(strs, *s)
					return true
				case "B":
					var b Blob
					if !p.Blob(&b) {
						return false
					}
					blobs = append(blobs, b)
					return true
				}
				return false
			})
		})
	})
	return strs, blobs, ok && p.End()
}

func TestFastParser(t *testing.T) {
	tests := []struct {
		name, body string
		ok         bool
		strs       []string
		blobs      int
	}{
		{"values", ` { "L" : [ { "S" : "a" , "B" : "AAE=" } , {"S":"é"} ] } `, true, []string{"a", "é"}, 1},
		{"empty list", `{"L":[]}`, true, nil, 0},
		{"empty object", `{}`, true, nil, 0},
		{"empty blob", `{"L":[{"B":""}]}`, true, nil, 1},
		{"escape", `{"L":[{"S":"\u0061"}]}`, false, nil, 0},
		{"number", `{"L":[{"S":1}]}`, false, nil, 0},
		{"bad base64", `{"L":[{"B":"AAE"}]}`, false, nil, 0},
		{"trailing comma", `{"L":[{},]}`, false, nil, 0},
		{"trailing data", `{} x`, false, nil, 0},
		{"unterminated", `{"L":[`, false, nil, 0},
		{"invalid UTF-8", "{\"L\":[{\"S\":\"\xff\"}]}", false, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			strs, blobs, ok := parseList(tt.body)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && (!slices.Equal(strs, tt.strs) || len(blobs) != tt.blobs) {
				t.Errorf("got %q and %d blobs", strs, len(blobs))
			}
			for _, b := range blobs {
				if b == nil {
					t.Error("a decoded blob is nil; want empty, non-nil")
				}
			}
		})
	}
}
