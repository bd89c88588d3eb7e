package awsprototest

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// CheckNoInventedReplacements fails the test if req, decoded from body,
// holds a U+FFFD that body did not send (raw or as the escape \ufffd): the
// mark of a string that was not Unicode text and was silently rewritten
// by encoding/json instead of refused.
func CheckNoInventedReplacements(t testing.TB, body []byte, req any) {
	t.Helper()
	if !utf8.Valid(body) {
		t.Fatalf("accepted a body that is not UTF-8: %q", body)
	}
	if bytes.Contains(body, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
		return
	}
	if path, ok := findReplacement(reflect.ValueOf(req), "request"); ok {
		t.Fatalf("%s holds U+FFFD that %q did not send", path, body)
	}
}

func findReplacement(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return findReplacement(v.Elem(), path)
	case reflect.String:
		return path, strings.ContainsRune(v.String(), utf8.RuneError)
	case reflect.Struct:
		for i := range v.NumField() {
			if p, ok := findReplacement(v.Field(i), path+"."+v.Type().Field(i).Name); ok {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // blobs carry bytes, not text
		}
		for i := range v.Len() {
			if p, ok := findReplacement(v.Index(i), path+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if p, ok := findReplacement(it.Key(), path+" key"); ok {
				return p, true
			}
			if p, ok := findReplacement(it.Value(), path+"["+it.Key().String()+"]"); ok {
				return p, true
			}
		}
	}
	return "", false
}
