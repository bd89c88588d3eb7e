package membudget

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, b *Budget)
	}{
		{"acquire and release", func(t *testing.T, b *Budget) {
			h := mustAcquire(t, b, 60)
			if h.Bytes() != 60 {
				t.Errorf("Bytes = %d, want 60", h.Bytes())
			}
			h2 := mustAcquire(t, b, 40)
			h.Release()
			h.Release() // a second Release does nothing
			h2.Release()
			mustAcquire(t, b, 100).Release()
		}},
		{"queue then refuse", func(t *testing.T, b *Budget) {
			h := mustAcquire(t, b, 90)
			defer h.Release()
			if _, err := b.Acquire(t.Context(), 20); !errors.Is(err, ErrBusy) {
				t.Fatalf("Acquire over the budget: err = %v, want ErrBusy", err)
			}
			mustAcquire(t, b, 10).Release() // what is free is still given
		}},
		{"queue then proceed when released", func(t *testing.T, b *Budget) {
			long, _ := New(100, WithMaxWait(time.Hour))
			h := mustAcquire(t, long, 100)
			got := make(chan error, 1)
			go func() {
				h2, err := long.Acquire(t.Context(), 50)
				h2.Release()
				got <- err
			}()
			h.Release()
			if err := <-got; err != nil {
				t.Fatalf("queued Acquire: %v", err)
			}
		}},
		{"shrink returns the unused remainder", func(t *testing.T, b *Budget) {
			h := mustAcquire(t, b, 100)
			h.Shrink(30)
			h.Shrink(50) // never grows
			if h.Bytes() != 30 {
				t.Errorf("Bytes after Shrink = %d, want 30", h.Bytes())
			}
			h2 := mustAcquire(t, b, 70) // exactly the remainder
			h.Release()
			h2.Release()
			mustAcquire(t, b, 100).Release()
		}},
		{"larger than the budget is clamped", func(t *testing.T, b *Budget) {
			h := mustAcquire(t, b, 1000)
			if h.Bytes() != 100 {
				t.Errorf("Bytes = %d, want the budget's 100", h.Bytes())
			}
			h.Release()
		}},
		{"cancelled context while queued", func(t *testing.T, b *Budget) {
			long, _ := New(100, WithMaxWait(time.Hour))
			h := mustAcquire(t, long, 100)
			defer h.Release()
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := long.Acquire(ctx, 1); !errors.Is(err, context.Canceled) {
				t.Errorf("Acquire: err = %v, want context.Canceled", err)
			}
			if _, err := long.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait: err = %v, want context.Canceled", err)
			}
		}},
		{"wait queues past MaxWait until released", func(t *testing.T, b *Budget) {
			h := mustAcquire(t, b, 100)
			got := make(chan error, 1)
			go func() {
				h2, err := b.Wait(t.Context(), 100)
				h2.Release()
				got <- err
			}()
			// Acquire would have given up after MaxWait; Wait does not.
			if _, err := b.Acquire(t.Context(), 1); !errors.Is(err, ErrBusy) {
				t.Fatalf("Acquire while full: err = %v, want ErrBusy", err)
			}
			h.Release()
			if err := <-got; err != nil {
				t.Fatalf("Wait: %v", err)
			}
		}},
		{"zero max wait refuses at once", func(t *testing.T, b *Budget) {
			now, _ := New(100, WithMaxWait(0))
			h := mustAcquire(t, now, 100)
			defer h.Release()
			if _, err := now.Acquire(t.Context(), 1); !errors.Is(err, ErrBusy) {
				t.Errorf("err = %v, want ErrBusy", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(100, WithMaxWait(10*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			tt.run(t, b)
		})
	}
}

func TestNilBudgetIsUnlimited(t *testing.T) {
	var b *Budget
	h, err := b.Acquire(t.Context(), 1<<40)
	if err != nil || h != nil {
		t.Fatalf("Acquire = %v, %v; want nil, nil", h, err)
	}
	h.Shrink(1)
	h.Release()
	if h.Bytes() != 0 || b.Size() != 0 {
		t.Errorf("nil Hold holds %d, nil Budget has size %d", h.Bytes(), b.Size())
	}
}

func TestNewRefusesNonPositiveSize(t *testing.T) {
	for _, n := range []int64{0, -1} {
		if _, err := New(n); err == nil {
			t.Errorf("New(%d) succeeded", n)
		}
	}
}

func mustAcquire(t *testing.T, b *Budget, n int64) *Hold {
	t.Helper()
	h, err := b.Acquire(t.Context(), n)
	if err != nil {
		t.Fatalf("Acquire(%d): %v", n, err)
	}
	return h
}
