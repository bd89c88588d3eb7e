package functions

import (
	"context"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/spatehq/spate/apierr"
)

// TestFunctionMetrics: each way an invocation ends counts as Lambda's
// CloudWatch metrics count it, on the registry given with WithRegisterer.
func TestFunctionMetrics(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name        string
		ctx         context.Context
		res         Result
		err         error
		invocations float64
		errors      float64
		throttles   float64
	}{
		{"success", context.Background(), Result{Payload: []byte(`"ok"`)}, nil, 1, 0, 0},
		{"function error", context.Background(), Result{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"boom"}`)}, nil, 1, 1, 0},
		{"runtime failure", context.Background(), Result{}, apierr.New(apierr.InvalidRuntime, "cannot start"), 1, 1, 0},
		{"throttle", context.Background(), Result{}, apierr.New(apierr.TooManyRequests, "Rate Exceeded."), 0, 0, 1},
		{"caller gone", cancelled, Result{}, context.Canceled, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			f := newFixture(t, WithRegisterer(reg))
			f.create("fn")
			f.exec.run = func(Config, Invocation) (Result, error) { return tc.res, tc.err }
			_, _ = f.svc.InvokeAs(tc.ctx, InvokeInput{FunctionName: "fn", Payload: []byte(`{}`)})
			m := f.svc.metrics
			got := []float64{
				value(t, m.invocations.WithLabelValues("fn")),
				value(t, m.errors.WithLabelValues("fn")),
				value(t, m.throttles.WithLabelValues("fn")),
			}
			want := []float64{tc.invocations, tc.errors, tc.throttles}
			for i, name := range []string{"invocations", "errors", "throttles"} {
				if got[i] != want[i] {
					t.Errorf("%s = %v, want %v", name, got[i], want[i])
				}
			}
			if n := count(t, reg, "spate_function_duration_seconds"); n != int(tc.invocations) {
				t.Errorf("duration series = %d, want %v", n, tc.invocations)
			}
		})
	}
}

// TestFunctionMetricsAsyncAndDelete: Event invocations count when they
// run, a full queue counts as a throttle, and deleting a function drops
// its series.
func TestFunctionMetricsAsyncAndDelete(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	f := newFixture(t, WithRegisterer(reg), WithAsync(1, 1))
	f.create("fn")
	ran := make(chan struct{})
	release := make(chan struct{})
	f.exec.run = func(Config, Invocation) (Result, error) {
		ran <- struct{}{}
		<-release
		return Result{FunctionError: "Unhandled"}, nil
	}
	if _, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "Event"}); err != nil {
		t.Fatal(err)
	}
	<-ran
	_, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", InvocationType: "Event"})
	wantCode(t, err, apierr.TooManyRequests)
	m := f.svc.metrics
	if n := value(t, m.throttles.WithLabelValues("fn")); n != 1 {
		t.Fatalf("throttles = %v, want 1", n)
	}
	close(release)
	// The failed event is retried after a minute: the first attempt's
	// count is in once the queue's slot is free or the retry waits.
	for value(t, m.errors.WithLabelValues("fn")) != 1 {
		runtime.Gosched()
	}
	if n := value(t, m.invocations.WithLabelValues("fn")); n != 1 {
		t.Fatalf("invocations = %v, want 1", n)
	}
	if err := f.svc.DeleteFunction(f.ctx, "fn", ""); err != nil {
		t.Fatal(err)
	}
	if n := count(t, reg, ""); n != 0 {
		t.Fatalf("%d series left after delete", n)
	}
}

// value reads a counter.
func value(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// count is how many series reg holds of the family name (every family
// when name is "").
func count(t *testing.T, reg prometheus.Gatherer, name string) int {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fams {
		if name == "" || f.GetName() == name {
			n += len(f.GetMetric())
		}
	}
	return n
}

// TestFunctionMetricsDeletedWhileRunning: an invocation that ends after
// its function was deleted does not bring the function's series back.
// Before, it did, and they stayed for good: creating, invoking and
// deleting functions under new names grew the registry without bound.
func TestFunctionMetricsDeletedWhileRunning(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	f := newFixture(t, WithRegisterer(reg))
	f.create("fn")
	ran := make(chan struct{})
	release := make(chan struct{})
	f.exec.run = func(Config, Invocation) (Result, error) {
		close(ran)
		<-release
		return Result{FunctionError: "Unhandled"}, nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.svc.InvokeAs(f.ctx, InvokeInput{FunctionName: "fn", Payload: []byte(`{}`)})
		done <- err
	}()
	<-ran
	if err := f.svc.DeleteFunction(f.ctx, "fn", ""); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := count(t, reg, ""); n != 0 {
		t.Fatalf("%d series of the deleted function after its last invocation ended, want 0", n)
	}
}
