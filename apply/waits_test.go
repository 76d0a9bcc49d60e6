package apply_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/state"
)

// dayLimited answers every create with a 429 asking for a day's wait.
type dayLimited struct{ apply.Client }

func (dayLimited) CreateInvoice(context.Context, []byte) (*api.Invoice, error) {
	return nil, &api.RateLimitError{Op: "POST /invoices/create", Status: 429, RetryAfter: 24 * time.Hour}
}

// TestRetryAfterCapAndInterrupt: a day-long Retry-After is waited at most the default cap
// (30 s), and the wait ends at once when the context is cancelled (Ctrl-C).
func TestRetryAfterCapAndInterrupt(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	e.write(specs(3))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var waits []time.Duration
	var cancelled time.Time
	res, err := apply.Run(ctx, e.plan(), e.store, dayLimited{}, apply.Options{Parallelism: 3, Progress: func(ev apply.Event) {
		if ev.Kind != apply.Retry {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, ev.Wait)
		if len(waits) == 3 {
			cancelled = time.Now()
			cancel()
		}
	}})
	stopped := time.Since(cancelled)
	if !errors.Is(err, apply.ErrInterrupted) {
		t.Fatalf("err = %v", err)
	}
	for _, w := range waits {
		if w <= 0 || w > apply.DefaultMaxRetryWait {
			t.Errorf("wait %s, want at most %s", w, apply.DefaultMaxRetryWait)
		}
	}
	if stopped > 5*time.Second { // a guard: the waits were 30 s long
		t.Errorf("the run took %s to end after the cancel", stopped)
	}
	// Nothing was created (429s): not started, no record left, not counted as done.
	if len(res.Skipped) != 3 || len(res.Failed)+len(res.Pending) != 0 {
		t.Errorf("result %+v", res)
	}
	if n := len(e.snapshot().Records); n != 0 {
		t.Errorf("%d records left", n)
	}
}

// TestRetryBudget: an invoice's retries end when its budget is spent.
func TestRetryBudget(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	e.write(specs(1))
	start := time.Now()
	res, err := e.apply(context.Background(), dayLimited{}, apply.Options{MaxAttempts: 1000, MaxRetryWait: 50 * time.Millisecond, RetryBudget: 300 * time.Millisecond})
	if err != nil || len(res.Failed) != 1 || res.Failed[0].Attempts < 3 || res.Failed[0].Attempts > 12 {
		t.Fatalf("%v %+v", err, res)
	}
	if d := time.Since(start); d > 10*time.Second { // a hang guard
		t.Errorf("took %s", d)
	}
}

// misrouted answers every create with a success naming another invoice.
type misrouted struct{ apply.Client }

func (misrouted) CreateInvoice(context.Context, []byte) (*api.Invoice, error) {
	return &api.Invoice{ID: 77, URL: "https://x.invalid/not-yours", ForeignID: "someone-elses-1", Currency: "EUR", Amount: "99999.00000000"}, nil
}

func TestMismatchedAnswerStaysPending(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ss := specs(2)
	e.write(ss)
	res, err := e.apply(context.Background(), misrouted{}, apply.Options{})
	if err != nil || len(res.Pending) != 2 || res.OK() || len(res.Totals) != 0 {
		t.Fatalf("%v %+v", err, res)
	}
	var m *api.MismatchError
	if !errors.As(res.Pending[0].Err, &m) || m.Field != "foreign_id" || !strings.Contains(res.Pending[0].Message(), "inv-0000") ||
		!strings.Contains(res.Pending[0].Message(), "someone-elses-1") || res.Pending[0].Attempts != 1 {
		t.Errorf("pending: %+v", res.Pending[0])
	}
	for id, r := range e.snapshot().Records {
		if r.Phase != state.Pending || r.URL != "" || r.ID != 0 || !strings.Contains(r.LastError, "someone-elses-1") {
			t.Errorf("%s: %+v", id, r)
		}
	}
	// The next apply, against the real API, resends the same bytes and records the real one.
	res, err = e.apply(context.Background(), e.client(emulator.DefaultSecret, 0), apply.Options{})
	if err != nil || len(res.Issued) != 2 {
		t.Fatalf("%v %+v", err, res)
	}
	e.checkExactlyOnce(ss)
}

// refusing fails every create with a connection refused (never sent).
type refusing struct{ apply.Client }

func (refusing) CreateInvoice(context.Context, []byte) (*api.Invoice, error) {
	time.Sleep(time.Millisecond)
	return nil, &api.TransportError{Op: "POST /invoices/create", Err: errors.New("connection refused"), Mutating: true}
}

// TestUnreachableEndsTheRun: when no request succeeds for the window, the run stops, and
// its progress counts agree with its result.
func TestUnreachableEndsTheRun(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	e.write(specs(200))
	var last apply.Event
	res, err := e.apply(context.Background(), refusing{}, apply.Options{Parallelism: 4, UnreachableAfter: 300 * time.Millisecond,
		Progress: func(ev apply.Event) { last = ev }})
	if !errors.Is(err, apply.ErrUnreachable) || !strings.Contains(err.Error(), "not started") {
		t.Fatalf("err = %v", err)
	}
	if len(res.Skipped) < 150 {
		t.Errorf("only %d not started", len(res.Skipped))
	}
	if last.NotStarted != len(res.Skipped) || last.Failed != len(res.Failed) || last.Pending != len(res.Pending) ||
		last.Done != len(res.Issued)+len(res.Adopted)+len(res.Failed)+len(res.Pending) || last.Total != 200 {
		t.Errorf("last event %+v, result: %d failed, %d pending, %d not started", last, len(res.Failed), len(res.Pending), len(res.Skipped))
	}
	if n := len(e.snapshot().Records); n != 0 {
		t.Errorf("%d records left for requests never sent", n)
	}
}
