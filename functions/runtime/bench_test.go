//go:build unix

package runtime

import (
	"context"
	"testing"

	"github.com/spatehq/spate/functions"
)

// BenchmarkWarmInvoke measures one invocation of a warm aws-lambda-go
// instance: the hand-over through /next, the handler, /response, the END
// and REPORT lines.
func BenchmarkWarmInvoke(b *testing.B) {
	m := New(WithWorkDir(b.TempDir()))
	defer m.Close()
	fn := testConfig(b, "bench")
	inv := functions.Invocation{Payload: []byte(`{"op":"echo","msg":"hi"}`)}
	if _, err := m.Execute(context.Background(), fn, inv); err != nil { // warm up: the cold start
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		res, err := m.Execute(context.Background(), fn, inv)
		if err != nil || res.FunctionError != "" {
			b.Fatalf("%v %s", err, res.Payload)
		}
	}
}
