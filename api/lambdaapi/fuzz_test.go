package lambdaapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzLambdaRequest sends arbitrary methods, paths and bodies through the
// face: it must never panic, and every answer is a success or an error
// that names its type.
func FuzzLambdaRequest(f *testing.F) {
	f.Add("POST", "/2015-03-31/functions", `{"FunctionName":"fn","Runtime":"provided.al2","Role":"arn:aws:iam::000000000000:role/r","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`)
	f.Add("PUT", "/2015-03-31/functions/fn/configuration", `{"Timeout":5,"Environment":{"Variables":{"A_B":"c"}}}`)
	f.Add("POST", "/2015-03-31/functions/fn/invocations", `{"a":[1,2,{"b":null}]}`)
	f.Add("POST", "/2017-03-31/tags/arn:aws:lambda:us-east-1:000000000000:function:fn", `{"Tags":{"k":"v"}}`)
	f.Add("PUT", "/2017-10-31/functions/fn/concurrency", `{"ReservedConcurrentExecutions":-1}`)
	f.Add("POST", "/2015-03-31/event-source-mappings", `{"FunctionName":"fn"}`)
	f.Add("GET", "/2015-03-31/functions/%3A%3A", `[[[[`)
	h, _ := newTestHandler(f, WithMappings(&fakeMappings{}))
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#") || method == "" || strings.ContainsAny(method, " \t\r\n/") {
			return
		}
		r, err := http.NewRequest(method, "http://spate"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 400 && w.Header().Get("X-Amzn-ErrorType") == "" && w.Code != http.StatusMovedPermanently {
			t.Fatalf("%s %s: %d without an error type: %s", method, path, w.Code, w.Body)
		}
		if w.Code >= 500 && w.Code != 502 {
			t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
	})
}
