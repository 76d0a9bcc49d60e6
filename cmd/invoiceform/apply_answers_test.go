package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
)

// The end-to-end tests of issue 13: the answers the API gives, run through the real command
// in a process of its own, against the emulator on a loopback port and against a server of
// the test's own that answers as described.

// writeInvoices writes a config declaring the invoices id → amount (EUR).
func writeInvoices(t *testing.T, dir string, amounts map[string]string) {
	t.Helper()
	ids := make([]string, 0, len(amounts))
	for id := range amounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, `invoice %q {
  title              = "Order %s"
  currency           = "EUR"
  amount             = %q
  timer              = false
  end_user_reference = "c"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "a@example.com"
}
`, id, id, amounts[id])
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runProc runs cmd and returns its exit code, stdout and stderr. A command still running after
// limit is killed and fails the test: a guard against hanging, not a measurement.
func runProc(t *testing.T, cmd *exec.Cmd, limit time.Duration) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s still running after %s; killed.\nstdout:\n%s\nstderr:\n%s", cmd.Args, limit, out.String(), errb.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	for _, f := range []string{"panic:", "fatal error:", "WARNING: DATA RACE"} {
		if strings.Contains(out.String()+errb.String(), f) {
			t.Errorf("output contains %q:\n%s\n%s", f, out.String(), errb.String())
		}
	}
	return code, out.String(), errb.String()
}

// records reads the state file of dir.
func records(t *testing.T, dir string) map[string]*state.Record {
	t.Helper()
	s, err := boltstate.Open(filepath.Join(dir, "invoiceform.state"), boltstate.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap.Records
}

// jsonLines decodes the JSON objects of apply -json.
func jsonLines(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func summaryOf(t *testing.T, events []map[string]any) map[string]any {
	t.Helper()
	if len(events) == 0 || events[len(events)-1]["type"] != "summary" {
		t.Fatalf("no summary: %v", events)
	}
	return events[len(events)-1]
}

// TestTwoStatesOneAccount: two configurations (two states) on one account both declare
// dup-1. The second apply meets "already been taken" with no attempt of its own: it fails,
// names the invoice and the way to adopt it, records nothing, and its next plan still
// shows the create.
func TestTwoStatesOneAccount(t *testing.T) {
	_, srv, base := applyWorld(t, 0, emulator.Options{})
	first, second := t.TempDir(), t.TempDir()
	writeInvoices(t, first, map[string]string{"dup-1": "10.00"})
	writeInvoices(t, second, map[string]string{"dup-1": "500.00", "other-1": "20.00"})
	if code, out, errs := runProc(t, applyProcess(first, base, "-auto-approve"), time.Minute); code != 0 {
		t.Fatalf("first apply: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs := runProc(t, applyProcess(second, base, "-auto-approve"), time.Minute)
	if code != 1 {
		t.Fatalf("second apply: exit %d, want 1\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{`foreign_id "dup-1" that this state did not create`, "invoiceform state adopt dup-1",
		"Apply incomplete: 1 issued, 0 adopted, 0 cancelled, 1 failed", "Issued: EUR 20.00 (1)."} {
		if !strings.Contains(out, want) {
			t.Errorf("second apply's output lacks %q:\n%s", want, out)
		}
	}
	if line := lastMatch(out, "Apply incomplete: "); strings.Contains(line, "500") {
		t.Errorf("the EUR 500.00 that was never created is in the totals: %s", line)
	}
	if r := records(t, second)["dup-1"]; r != nil {
		t.Errorf("the second state recorded dup-1: %+v", r)
	}
	cmd := exec.Command(os.Args[0], "-chdir="+second, "plan")
	cmd.Env = append(testEnviron(), "INVOICEFORM_TEST_RUN_MAIN=1")
	if _, out, errs := runProc(t, cmd, time.Minute); !strings.Contains(out, "Plan: 1 to create (EUR 500.00)") {
		t.Errorf("the later plan does not show the create again:\n%s\n%s", out, errs)
	}
	inv, _ := srv.Lookup(emulator.DefaultKey, "dup-1")
	if inv.Amount != "10.00000000" || inv.Creates != 1 {
		t.Errorf("dup-1 at the emulator: %+v", inv)
	}
}

// TestAdoptedAfterDroppedAnswer: every create is committed and its answer dropped; the resend
// meets "already been taken", which after that uncertain attempt is adoption: reported as
// adopted with a warning, in its own count, outside the totals.
func TestAdoptedAfterDroppedAnswer(t *testing.T) {
	dir, srv, base := applyWorld(t, 2, emulator.Options{DropAfterCommit: 1})
	code, out, errs := runProc(t, applyProcess(dir, base, "-auto-approve", "-json"), time.Minute)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	events := jsonLines(t, out)
	adopted := 0
	for _, ev := range events {
		if ev["type"] == "adopted" {
			adopted++
			if w, _ := ev["warning"].(string); !strings.Contains(w, ev["foreign_id"].(string)+": adopted") {
				t.Errorf("adopted event without its warning: %v", ev)
			}
		}
		if ev["type"] == "issued" || ev["type"] == "already_issued" {
			t.Errorf("event %v", ev)
		}
	}
	sum := summaryOf(t, events)
	if adopted != 2 || sum["adopted"] != 2.0 || sum["issued"] != 0.0 || len(sum["totals"].([]any)) != 0 || len(sum["warnings"].([]any)) != 2 {
		t.Errorf("adopted events %d, summary %v", adopted, sum)
	}
	for id, r := range records(t, dir) {
		if r.Phase != state.Issued || r.DetailsKnown || r.URL != "" {
			t.Errorf("%s: %+v", id, r)
		}
	}
	checkConverged(t, dir, srv, 2)

	// The human summary says the same.
	dir2, _, base2 := applyWorld(t, 1, emulator.Options{DropAfterCommit: 1})
	_, out, _ = runProc(t, applyProcess(dir2, base2, "-auto-approve"), time.Minute)
	for _, want := range []string{"Warning: k-0000: adopted", "Apply complete: 0 issued, 1 adopted", "Adopted ("} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Issued: EUR") {
		t.Errorf("an adopted invoice is in the totals:\n%s", out)
	}
}

// answerServer is a server of the test's own in front of an emulator: in mode "sane" it
// passes every request through; otherwise it answers creates itself as the mode says.
type answerServer struct {
	mode  atomic.Value // string
	base  string       // its API URL, .../api/v2
	emu   *emulator.Server
	hits  atomic.Int64 // creates it answered itself
	close func()
}

func newAnswerServer(t *testing.T, n int) (*answerServer, string) {
	t.Helper()
	dir, emu, emuBase := applyWorld(t, n, emulator.Options{})
	u, err := url.Parse(emuBase)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(u)
	a := &answerServer{emu: emu}
	a.mode.Store("sane")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := a.mode.Load().(string)
		if mode == "sane" || !strings.HasSuffix(r.URL.Path, "/invoices/create") {
			proxy.ServeHTTP(w, r)
			return
		}
		a.hits.Add(1)
		switch mode {
		case "misrouted":
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprint(w, `{"data":{"id":990001,"url":"https://invoices.example.invalid/invoice/NOT-YOURS","foreign_id":"someone-elses-1","status":"created","currency":"EUR","amount":"99999.00000000"}}`)
		case "retry-after-day":
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
		case "redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		case "404":
			http.Error(w, "<html>Not Found</html>", http.StatusNotFound)
		}
	}))
	a.close = srv.Close
	t.Cleanup(srv.Close)
	a.base = srv.URL + "/api/v2"
	return a, dir
}

// TestMisroutedSuccessStaysPending: a 200 that names another invoice is not recorded: the
// record stays pending, apply exits 1 naming both invoices, and the next apply against a
// sane server resends the same bytes and records the real one.
func TestMisroutedSuccessStaysPending(t *testing.T) {
	a, dir := newAnswerServer(t, 2)
	a.mode.Store("misrouted")
	code, out, errs := runProc(t, applyProcess(dir, a.base, "-auto-approve"), time.Minute)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"k-0000", "k-0001", `"someone-elses-1"`, "99999.00000000", "Apply incomplete: 0 issued, 0 adopted, 0 cancelled, 0 failed, 2 pending"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if a.hits.Load() != 2 {
		t.Errorf("%d creates sent, want one per invoice (a mismatch is not retried in the run)", a.hits.Load())
	}
	for id, r := range records(t, dir) {
		if r.Phase != state.Pending || r.URL != "" || r.ID != 0 || !strings.Contains(r.LastError, "someone-elses-1") {
			t.Errorf("%s: %+v", id, r)
		}
	}
	a.mode.Store("sane")
	if code, out, errs := runProc(t, applyProcess(dir, a.base, "-auto-approve"), time.Minute); code != 0 || !strings.Contains(out, "Apply complete: 2 issued") {
		t.Fatalf("next apply: exit %d\n%s\n%s", code, out, errs)
	}
	for id, r := range records(t, dir) {
		if r.Phase != state.Issued || !strings.HasPrefix(r.URL, "https://invoices.emulator.invalid/") {
			t.Errorf("%s: %+v", id, r)
		}
	}
	checkConverged(t, dir, a.emu, 2)
}

// TestUndocumentedAnswersKeepPending: a redirect or a 404 to a create proves nothing: the
// records stay pending (not "failed, nothing was created"); the next apply resolves them.
func TestUndocumentedAnswersKeepPending(t *testing.T) {
	for _, mode := range []string{"redirect", "404"} {
		t.Run(mode, func(t *testing.T) {
			a, dir := newAnswerServer(t, 2)
			a.mode.Store(mode)
			code, out, errs := runProc(t, applyProcess(dir, a.base, "-auto-approve", "-retry-budget=2s"), time.Minute)
			if code != 1 || !strings.Contains(out, "2 pending") || strings.Contains(out, "nothing was created") {
				t.Fatalf("exit %d\n%s\n%s", code, out, errs)
			}
			for id, r := range records(t, dir) {
				if r.Phase != state.Pending {
					t.Errorf("%s: %+v", id, r)
				}
			}
			a.mode.Store("sane")
			if code, out, errs := runProc(t, applyProcess(dir, a.base, "-auto-approve"), time.Minute); code != 0 {
				t.Fatalf("next apply: exit %d\n%s\n%s", code, out, errs)
			}
			checkConverged(t, dir, a.emu, 2)
		})
	}
}

// TestRetryAfterIsCapped: a 429 with Retry-After: 86400 does not hold apply for a day: each
// wait is at most -max-retry-wait, and the run ends (the limit of run is a hang guard).
func TestRetryAfterIsCapped(t *testing.T) {
	a, dir := newAnswerServer(t, 2)
	a.mode.Store("retry-after-day")
	code, out, errs := runProc(t, applyProcess(dir, a.base, "-auto-approve", "-json", "-max-retry-wait=500ms"), 2*time.Minute)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	events := jsonLines(t, out)
	retries := 0
	for _, ev := range events {
		if ev["type"] == "retry" {
			retries++
			if w, _ := ev["wait_ms"].(float64); w <= 0 || w > 500 {
				t.Errorf("retry wait %v ms, want at most 500: %v", w, ev)
			}
		}
	}
	sum := summaryOf(t, events)
	if retries == 0 || sum["failed"] != 2.0 {
		t.Errorf("%d retries; summary %v", retries, sum)
	}
	if n := len(records(t, dir)); n != 0 {
		t.Errorf("%d records left after refusals that created nothing", n)
	}
}

// TestServerDisappears: the API goes away mid-run (its listener and connections closed). Apply
// stops starting requests, says the API is unreachable and how many were not started, and
// exits 1 well within a minute (the limit is a hang guard). The next apply, against the API
// back again, converges with every invoice created once.
func TestServerDisappears(t *testing.T) {
	const n = 3000
	dir, _, _ := applyWorld(t, n, emulator.Options{})
	// The emulator served by a listener of the test's own, which can go away and come back.
	emu, err := emulator.New(emulator.Options{Latency: emulator.Latency{Min: time.Millisecond, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(addr string) *http.Server {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: emu.Handler()}
		go func() { _ = hs.Serve(ln) }()
		t.Cleanup(func() { _ = hs.Close() })
		return hs
	}
	hs := serve("127.0.0.1:0")
	var addr string
	func() {
		// the address the server listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		_ = ln.Close()
	}()
	_ = hs.Close()
	hs = serve(addr)
	base := "http://" + addr + "/api/v2"
	cmd := applyProcess(dir, base, "-auto-approve", "-parallelism=8")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for len(emu.Invoices()) < 50 {
		select {
		case err := <-done:
			t.Fatalf("apply ended before the API went away: %v\n%s", err, out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	_ = hs.Close() // the listener and every connection: the API is gone
	gone := time.Now()
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("apply still running 90 s after the API went away\n%s\n%s", out.String(), errb.String())
	}
	t.Logf("from the API going away to apply's exit: %s", time.Since(gone).Round(10*time.Millisecond))
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v\n%s\n%s", err, out.String(), errb.String())
	}
	all := out.String() + errb.String()
	for _, want := range []string{"the API is unreachable", "not started", "check the endpoint, the network"} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q:\n%s", want, lastLines(all, 15))
		}
	}
	// The progress line agrees with the summary: the invoices not started are not "done".
	summary := lastMatch(out.String(), "Apply incomplete: ")
	progress := lastMatch(errb.String(), " done, ")
	var issued, adopted, cancelled, failed, pending, notStarted int
	if _, err := fmt.Sscanf(summary, "Apply incomplete: %d issued, %d adopted, %d cancelled, %d failed, %d pending, %d not started", &issued, &adopted, &cancelled, &failed, &pending, &notStarted); err != nil {
		t.Fatalf("summary %q: %v", summary, err)
	}
	want := fmt.Sprintf("%d/%d done", issued+adopted+failed+pending, n)
	if !strings.HasPrefix(progress, want) || !strings.Contains(progress, fmt.Sprintf("%d failed, %d pending, %d not started", failed, pending, notStarted)) {
		t.Errorf("progress %q does not agree with the summary %q", progress, summary)
	}
	if notStarted == 0 {
		t.Errorf("nothing was left not started: %q", summary)
	}

	// The API is back (same address, same invoices): the next apply converges.
	serve(addr)
	for i := 0; ; i++ {
		code, out, errs := runProc(t, applyProcess(dir, base, "-auto-approve", "-parallelism=16"), 3*time.Minute)
		if code == 0 {
			break
		}
		if i == 3 {
			t.Fatalf("no convergence: exit %d\n%s\n%s", code, lastLines(out, 10), errs)
		}
	}
	checkConverged(t, dir, emu, n)
}

func lastMatch(s, sub string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if j := strings.Index(lines[i], sub); j >= 0 {
			if sub == " done, " {
				return strings.TrimSpace(lines[i])
			}
			return lines[i][j:]
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
