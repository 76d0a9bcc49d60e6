package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/internal/proctest"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
)

// gatedAPI serves the emulator's API in front of srv, holding every create until release is
// closed; arrived counts the creates that reached it.
func gatedAPI(t *testing.T, srv *emulator.Server) (base string, arrived *atomic.Int32, release chan struct{}) {
	t.Helper()
	arrived = new(atomic.Int32)
	release = make(chan struct{})
	h := srv.Handler()
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/invoices/create") {
			arrived.Add(1)
			select {
			case <-release:
			case <-time.After(time.Minute): // a guard, not a measurement
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		gate.Close()
	})
	return gate.URL + "/api/v2", arrived, release
}

// waitArrived waits until n creates are held at the gate.
func waitArrived(t *testing.T, p *proctest.Proc, arrived *atomic.Int32, n int32) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for arrived.Load() < n {
		if time.Now().After(deadline) || !p.Running() {
			t.Fatalf("%d creates arrived, want %d; output:\n%s", arrived.Load(), n, p.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestApplyInterruptAcknowledged: the first Ctrl-C during an apply is answered at once on
// stderr with the number of requests in flight, while they are still unanswered; they then
// finish and are recorded, and nothing new is started.
func TestApplyInterruptAcknowledged(t *testing.T) {
	dir, srv, _ := applyWorld(t, 8, emulator.Options{})
	base, arrived, release := gatedAPI(t, srv)
	p := proctest.Start(t, applyProcess(dir, base, "-auto-approve", "-parallelism=3"))
	waitArrived(t, p, arrived, 3)
	p.Signal(os.Interrupt)
	const want = "Stopping: 3 requests in flight finish and are recorded; no new one is started. Ctrl-C again to leave them pending for the next apply to resolve."
	if ok, err := p.WaitOutput(30*time.Second, func(out string) bool { return strings.Contains(out, want) }); !ok || err != nil {
		t.Fatalf("no acknowledgement of the interrupt (%v); output:\n%s", err, p.Output())
	}
	if n := arrived.Load(); n != 3 {
		t.Errorf("%d creates arrived, want the 3 in flight only", n)
	}
	close(release)
	code, out, err := p.Wait(time.Minute)
	if err != nil || code != exitError {
		t.Fatalf("exit %d (%v), want 1; output:\n%s", code, err, out)
	}
	if !strings.Contains(out, "3 issued") || !strings.Contains(out, "5 not started") {
		t.Errorf("summary: want 3 issued, 5 not started; output:\n%s", out)
	}
	if n := arrived.Load(); n != 3 {
		t.Errorf("%d creates arrived after the interrupt, want 3", n)
	}
}

// TestApplySecondInterrupt: a second Ctrl-C after the acknowledgement ends the process at
// once, the requests in flight unanswered; their records stay pending, which the next apply
// resolves (TestInterrupt of internal/torture checks that it does, without duplicates).
func TestApplySecondInterrupt(t *testing.T) {
	dir, srv, _ := applyWorld(t, 4, emulator.Options{})
	base, arrived, _ := gatedAPI(t, srv)
	p := proctest.Start(t, applyProcess(dir, base, "-auto-approve", "-parallelism=2"))
	waitArrived(t, p, arrived, 2)
	p.Signal(os.Interrupt)
	if ok, err := p.WaitOutput(30*time.Second, func(out string) bool { return strings.Contains(out, "Stopping: 2 requests in flight") }); !ok || err != nil {
		t.Fatalf("no acknowledgement of the interrupt (%v); output:\n%s", err, p.Output())
	}
	p.Signal(os.Interrupt)
	code, out, err := p.Wait(30 * time.Second)
	if err != nil || code == exitOK {
		t.Fatalf("exit %d (%v) after a second Ctrl-C, want the process ended; output:\n%s", code, err, out)
	}
	s, err := boltstate.Open(filepath.Join(dir, "invoiceform.state"), boltstate.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The journal runs ahead of the sends: the records of the requests in flight, and of
	// any journalled but not sent, are pending; none was recorded as issued.
	pending := 0
	for id, r := range snap.Records {
		if r.Phase == state.Pending {
			pending++
		} else {
			t.Errorf("%s: %s after the second Ctrl-C, want pending", id, r.Phase)
		}
	}
	if pending < 2 {
		t.Errorf("%d pending records after the second Ctrl-C, want at least the 2 in flight", pending)
	}
}
