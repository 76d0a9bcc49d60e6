package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
)

// applyWorld is a config directory with n invoices and an emulator on a real port.
func applyWorld(t *testing.T, n int, eo emulator.Options) (dir string, srv *emulator.Server, base string) {
	t.Helper()
	srv, err := emulator.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	base, err = srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	dir = t.TempDir()
	hcl := `variable "ids" {
  type    = list(string)
  default = [` + ids(n) + `]
}

invoice "order" {
  for_each           = toset(var.ids)
  foreign_id         = each.key
  title              = "Order ${each.key}"
  currency           = "EUR"
  amount             = "12.34"
  timer              = false
  end_user_reference = "c"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "a@example.com"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, srv, base
}

func ids(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%q", fmt.Sprintf("k-%04d", i))
	}
	return strings.Join(s, ", ")
}

// applyProcess is `invoiceform apply` as a real process of this test binary.
func applyProcess(dir, base string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-chdir=" + dir, "apply"}, args...)...)
	cmd.Env = append(testEnviron(), "INVOICEFORM_TEST_RUN_MAIN=1", "INVOICEFORM_ENDPOINT="+base,
		"INVOICEFORM_API_KEY="+emulator.DefaultKey, "INVOICEFORM_API_SECRET="+emulator.DefaultSecret)
	return cmd
}

// checkConverged opens the state file and checks the money property against the emulator.
func checkConverged(t *testing.T, dir string, srv *emulator.Server, n int) {
	t.Helper()
	s, err := boltstate.Open(filepath.Join(dir, "invoiceform.state"), boltstate.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkStoreConverged(t, s, srv, n)
}

// checkStoreConverged checks that every one of the n invoices was created once at the
// emulator and is issued in the state, and nothing else exists.
func checkStoreConverged(t *testing.T, s state.Store, srv *emulator.Server, n int) {
	t.Helper()
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]bool{}
	for _, inv := range srv.Invoices() {
		if inv.Creates != 1 {
			t.Errorf("%s created %d times", inv.ForeignID, inv.Creates)
		}
		at[inv.ForeignID] = true
	}
	for i := range n {
		id := fmt.Sprintf("k-%04d", i)
		if r := snap.Records[id]; r == nil || r.Phase != state.Issued {
			t.Errorf("%s: not issued in the state: %+v", id, r)
		}
		if !at[id] {
			t.Errorf("%s: not at the emulator", id)
		}
	}
	if len(at) != n || len(snap.Records) != n {
		t.Errorf("emulator %d invoices, state %d records, want %d", len(at), len(snap.Records), n)
	}
}

// TestApplyLockContention: a second apply waits -lock-timeout for the state, then fails clearly
// without sending anything.
func TestApplyLockContention(t *testing.T) {
	dir, srv, base := applyWorld(t, 3, emulator.Options{})
	s, err := boltstate.Open(filepath.Join(dir, "invoiceform.state"), boltstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := applyProcess(dir, base, "-auto-approve", "-lock-timeout=50ms").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "locked by another invoiceform process") {
		t.Fatalf("apply under a held lock: %v\n%s", err, out)
	}
	if n := len(srv.Invoices()); n != 0 {
		t.Fatalf("%d invoices sent without the lock", n)
	}
	s.Close()
	if out, err := applyProcess(dir, base, "-auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	checkConverged(t, dir, srv, 3)
}

// controlInvoices reads the emulator's invoices over HTTP, through /_emulator/invoices.
func controlInvoices(t *testing.T, base string) []emulator.Invoice {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(base, "/api/v2") + "/_emulator/invoices")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Invoices []emulator.Invoice }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Invoices
}

// TestApplyConvergesUnderFaults runs the real binary against each emulator fault until an
// apply succeeds, then checks through /_emulator/ that every invoice was created once.
func TestApplyConvergesUnderFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts emulator.Options
		args []string
	}{
		{"drops", emulator.Options{DropAfterCommit: 0.3}, nil},
		{"500s", emulator.Options{Fail500: 0.3}, nil},
		{"429s", emulator.Options{RateLimit429: 0.3, RetryAfter: time.Second}, nil},
		{"slow", emulator.Options{SlowPastTimeout: 0.2, SlowDelay: 3 * time.Second}, []string{"-request-timeout=300ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Seed = 11
			const n = 40
			dir, srv, base := applyWorld(t, n, tc.opts)
			for i := 0; ; i++ {
				out, err := applyProcess(dir, base, append([]string{"-auto-approve", "-parallelism=8"}, tc.args...)...).CombinedOutput()
				if err == nil {
					break
				}
				if i == 5 {
					t.Fatalf("no convergence after %d runs: %v\n%s", i+1, err, out)
				}
			}
			invs := controlInvoices(t, base)
			if len(invs) != n {
				t.Errorf("/_emulator/invoices lists %d invoices, want %d", len(invs), n)
			}
			for _, inv := range invs {
				if inv.Creates != 1 {
					t.Errorf("%s created %d times", inv.ForeignID, inv.Creates)
				}
			}
			checkConverged(t, dir, srv, n)
			if f := srv.Faults(); f.Fail500+f.RateLimit429+f.DropAfterCommit+f.Slow == 0 {
				t.Errorf("no fault was injected: %+v", f)
			}
		})
	}
}
