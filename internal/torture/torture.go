package torture

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/internal/proctest"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
)

// State is how the commands of one world reach its state.
type State struct {
	// Args are given to every command that uses the state, after the command's name
	// (e.g. -state=PATH).
	Args []string
	// Env is added to the environment of every command (e.g. a connection string).
	Env []string
	// File is the file that holds the state, when the backend is a file; "" otherwise. The
	// write-failure torture makes its writes fail (LimitFileSize).
	File string
	// Name is how the commands name the state in messages (the path, or the workspace).
	Name string
	// Cut, for a database backend, makes the state's writes fail now: it ends every
	// connection the world's commands hold to the server. nil for a file.
	Cut func() error
}

// Backend makes an empty state for a world: the seam through which the same torture runs on
// every state store.
type Backend struct {
	Name string
	// New prepares a state for the world whose configuration directory is dir. It may
	// register cleanups on t.
	New func(t testing.TB, dir string) State
}

// Bolt is the bbolt file backend: a state file in the world's directory, named by -state.
func Bolt() Backend {
	return Backend{Name: "bolt", New: func(t testing.TB, dir string) State {
		p := filepath.Join(dir, "invoiceform.state")
		return State{Args: []string{"-state=" + p}, File: p, Name: p}
	}}
}

// Postgres is the PostgreSQL backend: a workspace of its own on the test server (see
// state/pgstate/pgtest; the server must be up), named in a settings file of the world's
// directory. The world's commands connect under an application name of their own, so that
// Cut ends their connections and no one else's.
func Postgres() Backend {
	return Backend{Name: "pg", New: func(t testing.TB, dir string) State {
		cs := pgtest.ConnString(t)
		ws := pgtest.Workspace(t, cs)
		app := pgtest.Name("torture")
		settings := fmt.Sprintf("settings {\n  backend \"pg\" {\n    workspace = %q\n  }\n}\n", ws)
		if err := os.WriteFile(filepath.Join(dir, "backend.hcl"), []byte(settings), 0o600); err != nil {
			t.Fatal(err)
		}
		sep := "?"
		if strings.Contains(cs, "?") {
			sep = "&"
		}
		return State{
			Env:  []string{"INVOICEFORM_PG_CONN_STR=" + cs + sep + "application_name=" + app},
			Name: ws,
			Cut: func() error {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				conn, err := pgx.Connect(ctx, cs)
				if err != nil {
					return err
				}
				defer conn.Close(ctx)
				_, err = conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app)
				return err
			},
		}
	}}
}

// Build compiles cmd/invoiceform into dir and returns the binary's path; with race it is
// built with the race detector. It is run from inside the module (a test's directory).
func Build(dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "invoiceform")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "github.com/invoiceform/invoiceform/cmd/invoiceform")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("torture: go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// Options describe a world.
type Options struct {
	Bin     string   // the invoiceform binary
	Env     []string // added to every command's environment
	Backend Backend
	// Seed drives every random choice of the world: the emulator's fault draws and the
	// moments chosen by the tests through Rand.
	Seed int64
	// Emulator holds the fault shares and latency; its Seed is replaced by one drawn from Seed.
	Emulator emulator.Options
	// ApplyArgs are added to every apply (e.g. -request-timeout shorter than the slow faults).
	ApplyArgs []string
	// Repro is the command line that replays this world, quoted in every failure.
	Repro string
}

// Counts are what the torture did and found. They add up across worlds.
type Counts struct {
	Rounds        int   // rounds of a scenario (one or two applies each)
	Processes     int   // invoiceform processes started
	Kills         int   // applies ended by SIGKILL while running
	Interrupts    int   // applies stopped by SIGINT
	LockRefused   int   // applies that failed at once on the held lock
	LockWaited    int   // applies that waited for the lock and then ran
	WriteFailures int   // applies stopped by a failing state write
	Faults        int64 // faults injected by the emulator (500, 429, drop, slow)
	Duplicates    int   // invoices created more than once
	Lost          int   // declared invoices not issued, or invoices at the API the state lacks
	Phantoms      int   // records in the state the API lacks
	Mismatches    int   // records whose API fields (id, status, currency, amount) differ from the API's
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Rounds += o.Rounds
	c.Processes += o.Processes
	c.Kills += o.Kills
	c.Interrupts += o.Interrupts
	c.LockRefused += o.LockRefused
	c.LockWaited += o.LockWaited
	c.WriteFailures += o.WriteFailures
	c.Faults += o.Faults
	c.Duplicates += o.Duplicates
	c.Lost += o.Lost
	c.Phantoms += o.Phantoms
	c.Mismatches += o.Mismatches
}

// String is the one-line summary.
func (c Counts) String() string {
	return fmt.Sprintf("rounds=%d kills=%d interrupts=%d lock_refused=%d lock_waited=%d write_failures=%d faults=%d duplicates=%d lost=%d phantoms=%d mismatches=%d processes=%d",
		c.Rounds, c.Kills, c.Interrupts, c.LockRefused, c.LockWaited, c.WriteFailures, c.Faults, c.Duplicates, c.Lost, c.Phantoms, c.Mismatches, c.Processes)
}

// World is one configuration directory, one emulator and one state.
type World struct {
	t      testing.TB
	opts   Options
	Dir    string
	Srv    *emulator.Server
	Base   string // the API's URL, .../api/v2
	State  State
	Rand   *rand.Rand
	Counts Counts

	declared int
}

// forbidden are what no output may ever contain: a crash of the process, a data race of a
// race-enabled binary, or an invoice this state did not create (a create that met "already
// been taken" with no uncertain attempt before it, which means a request was sent without its
// journal entry, or a journal entry was dropped while its request may have been processed).
var forbidden = []string{"panic:", "fatal error:", "WARNING: DATA RACE", "that this state did not create"}

// New makes a world: an empty configuration directory, an emulator started on a loopback
// port with the options' faults, and a state from the backend. Everything is stopped and
// removed when the test ends.
func New(t testing.TB, opts Options) *World {
	t.Helper()
	w := &World{t: t, opts: opts, Dir: t.TempDir(), Rand: rand.New(rand.NewPCG(uint64(opts.Seed), 0x7041))}
	eo := opts.Emulator
	eo.Seed = int64(w.Rand.Uint64() >> 1)
	srv, err := emulator.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	if w.Base, err = srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	w.Srv = srv
	t.Cleanup(func() { _ = srv.Close() })
	w.State = opts.Backend.New(t, w.Dir)
	hcl := `invoice "order" {
  for_each           = { for r in csvdecode(file("ids.csv")) : r.id => r }
  foreign_id         = each.key
  title              = "Order ${each.key}"
  currency           = "EUR"
  amount             = each.value.amount
  timer              = false
  end_user_reference = "c"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "a@example.com"
}
`
	if err := os.WriteFile(filepath.Join(w.Dir, "main.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	w.Declare(0)
	return w
}

// ID is the foreign_id of the i-th declared invoice.
func ID(i int) string { return fmt.Sprintf("t-%05d", i) }

// Declare makes the configuration declare the invoices 0..n-1.
func (w *World) Declare(n int) {
	w.t.Helper()
	var b strings.Builder
	b.WriteString("id,amount\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,%d.%02d\n", ID(i), 10+i%90, i%100)
	}
	if err := os.WriteFile(filepath.Join(w.Dir, "ids.csv"), []byte(b.String()), 0o600); err != nil {
		w.t.Fatal(err)
	}
	w.declared = n
}

// Declared is how many invoices the configuration declares.
func (w *World) Declared() int { return w.declared }

// Errorf fails the test with the seed and the command that replays it.
func (w *World) Errorf(format string, args ...any) {
	w.t.Helper()
	w.t.Errorf("%s\n(seed %d; replay: %s)", fmt.Sprintf(format, args...), w.opts.Seed, w.opts.Repro)
}

// Logf logs to the test's log.
func (w *World) Logf(format string, args ...any) {
	w.t.Helper()
	w.t.Logf(format, args...)
}

// Fatalf is Errorf, then stops the test.
func (w *World) Fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("%s\n(seed %d; replay: %s)", fmt.Sprintf(format, args...), w.opts.Seed, w.opts.Repro)
}

// command is `invoiceform -chdir=DIR SUB... STATEARGS... ARGS...` with the world's
// environment. Variables of invoiceform from the test's own environment are left out, so a
// backend chosen for another test cannot leak in.
func (w *World) command(sub []string, args ...string) *exec.Cmd {
	argv := append([]string{"-chdir=" + w.Dir}, sub...)
	argv = append(argv, w.State.Args...)
	argv = append(argv, args...)
	cmd := exec.Command(w.opts.Bin, argv...)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INVOICEFORM_") })
	env = append(env, "INVOICEFORM_ENDPOINT="+w.Base,
		"INVOICEFORM_API_KEY="+emulator.DefaultKey, "INVOICEFORM_API_SECRET="+emulator.DefaultSecret, "NO_COLOR=1")
	env = append(env, w.opts.Env...)
	cmd.Env = append(env, w.State.Env...)
	return cmd
}

// Proc is a running invoiceform process (proctest.Proc) of a world.
type Proc struct {
	*proctest.Proc
	w *World
}

// Start starts `invoiceform apply` with the state's flags, the world's ApplyArgs and args.
// The process is killed when the test ends, if it still runs.
func (w *World) Start(args ...string) *Proc {
	w.t.Helper()
	cmd := w.command([]string{"apply"}, append(slices.Clone(w.opts.ApplyArgs), args...)...)
	p := &Proc{Proc: proctest.Start(w.t, cmd), w: w}
	w.Counts.Processes++
	return p
}

// Wait waits up to limit for the process to exit and returns its exit code (-1 when a
// signal ended it) and its output. A process still running after limit is a hang: the test
// fails, and the process is killed. So does an output with a forbidden string.
func (p *Proc) Wait(limit time.Duration) (int, string) {
	p.w.t.Helper()
	code, out, err := p.Proc.Wait(limit)
	if err != nil {
		p.w.Fatalf("%v:\n%s", err, out)
	}
	for _, f := range forbidden {
		if strings.Contains(out, f) {
			p.w.Errorf("the output of %s contains %q:\n%s", p, f, out)
		}
	}
	return code, out
}

// Created is how many invoices the emulator holds.
func (w *World) Created() int { return len(w.Srv.Invoices()) }

// WaitUnderWay waits until the emulator holds more than before invoices (the apply is
// sending creates, so its signal handler is in place) or p has exited. It reports whether p
// still runs.
func (w *World) WaitUnderWay(p *Proc, before int) bool {
	deadline := time.Now().Add(30 * time.Second)
	for w.Created() <= before {
		select {
		case <-p.Done():
			return false
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			w.Fatalf("apply sent no create within 30 s")
		}
	}
	return p.Running()
}

// RandomMoment waits for a moment drawn from Rand: either a delay up to maxDelay after now,
// or until the emulator has answered between 1 and maxRequests more requests. It returns
// early when p exits, and reports whether p still runs.
func (w *World) RandomMoment(p *Proc, maxDelay time.Duration, maxRequests int) bool {
	if w.Rand.IntN(2) == 0 {
		return p.After(time.Duration(w.Rand.Int64N(int64(maxDelay))))
	}
	target := w.Srv.Faults().Requests + 1 + int64(w.Rand.IntN(maxRequests))
	deadline := time.Now().Add(30 * time.Second)
	for w.Srv.Faults().Requests < target && time.Now().Before(deadline) {
		select {
		case <-p.Done():
			return false
		case <-time.After(time.Millisecond):
		}
	}
	return p.Running()
}

// Converge applies until a run succeeds (at most runs times), then checks that a further
// apply has nothing to do.
func (w *World) Converge(runs int) {
	w.t.Helper()
	for i := 1; ; i++ {
		code, out := w.Start("-auto-approve", "-parallelism=16", "-lock-timeout=60s").Wait(3 * time.Minute)
		if code == 0 {
			break
		}
		if code != 1 {
			w.Errorf("apply exited %d (want 0 or 1):\n%s", code, out)
		}
		w.t.Logf("converging: apply %d exited %d: %s", i, code, lastLine(out))
		if i == runs {
			w.Fatalf("no convergence after %d applies; the last one:\n%s", runs, out)
		}
	}
	code, out := w.Start("-auto-approve", "-detailed-exitcode").Wait(time.Minute)
	if code != 0 || !strings.Contains(out, "No changes.") {
		w.Errorf("after convergence, apply is not a no-op (exit %d):\n%s", code, out)
	}
}

// Report is what Check found.
type Report struct {
	Invoices, Records                      int
	Duplicates, Lost, Phantoms, Mismatches int
	Problems                               []string
}

// Check compares the emulator's invoices (through /_emulator/invoices) with the state
// (through `invoiceform state export`) and the declared invoices: exactly one invoice per
// declared foreign_id, each created once and issued in the state; no pending record; nothing
// at the emulator the state lacks and nothing in the state the emulator lacks; and no record
// whose API fields (id, status, currency, amount) differ from what the emulator holds (a
// record adopted with details unknown has none of them). Any problem fails the test. The
// findings are added to the world's counts.
func (w *World) Check() Report {
	w.t.Helper()
	var r Report
	problem := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }

	invs := w.controlInvoices()
	r.Invoices = len(invs)
	perID := map[string]int{}
	byID := map[string]emulator.Invoice{}
	for _, inv := range invs {
		perID[inv.ForeignID]++
		byID[inv.ForeignID] = inv
		if inv.Creates != 1 {
			r.Duplicates++
			problem("%s: created %d times at the emulator", inv.ForeignID, inv.Creates)
		}
	}
	for id, n := range perID {
		if n > 1 {
			r.Duplicates++
			problem("%s: %d invoices at the emulator", id, n)
		}
	}

	full := w.records()
	r.Records = len(full)
	recs := make(map[string]string, len(full))
	for id, rec := range full {
		recs[id] = rec.Phase
		inv, ok := byID[id]
		if !ok {
			continue
		}
		var diffs []string
		if rec.ID != 0 && rec.ID != inv.ID {
			diffs = append(diffs, fmt.Sprintf("id %d, the API's %d", rec.ID, inv.ID))
		}
		if rec.Status != "" && rec.Status != inv.Status {
			diffs = append(diffs, fmt.Sprintf("status %q, the API's %q", rec.Status, inv.Status))
		}
		if rec.Currency != "" && rec.Currency != inv.Currency {
			diffs = append(diffs, fmt.Sprintf("currency %q, the API's %q", rec.Currency, inv.Currency))
		}
		if rec.Amount != "" && !sameDecimal(rec.Amount, inv.Amount) {
			diffs = append(diffs, fmt.Sprintf("amount %q, the API's %q", rec.Amount, inv.Amount))
		}
		if rec.DetailsKnown && (rec.ID == 0 || rec.Currency == "" || rec.Amount == "") {
			diffs = append(diffs, "details known, but the id, currency or amount is missing")
		}
		if !rec.DetailsKnown && (rec.ID != 0 || rec.URL != "") {
			diffs = append(diffs, "details unknown, but an id or URL recorded")
		}
		if len(diffs) > 0 {
			r.Mismatches++
			problem("%s: the state's record differs from the API's invoice: %s", id, strings.Join(diffs, "; "))
		}
	}
	lost := map[string]bool{}
	for i := range w.declared {
		id := ID(i)
		switch phase, ok := recs[id]; {
		case !ok:
			lost[id] = true
			problem("%s: declared, but not in the state", id)
		case phase != "issued":
			lost[id] = true
			problem("%s: declared, but %s in the state", id, phase)
		}
		if perID[id] == 0 {
			lost[id] = true
			problem("%s: declared, but not at the emulator", id)
		}
	}
	for id := range perID {
		if _, ok := recs[id]; !ok {
			lost[id] = true
			problem("%s: at the emulator, but not in the state", id)
		}
	}
	for id, phase := range recs {
		if perID[id] == 0 && phase == "issued" {
			r.Phantoms++
			problem("%s: issued in the state, but the emulator has no such invoice", id)
		}
	}
	r.Lost = len(lost)
	w.Counts.Duplicates += r.Duplicates
	w.Counts.Lost += r.Lost
	w.Counts.Phantoms += r.Phantoms
	w.Counts.Mismatches += r.Mismatches
	if len(r.Problems) > 0 {
		slices.Sort(r.Problems)
		if len(r.Problems) > 30 {
			r.Problems = append(r.Problems[:30], fmt.Sprintf("... and %d more", len(r.Problems)-30))
		}
		w.Errorf("after convergence: %d duplicates, %d lost, %d only in the state, %d differing from the API (emulator %d invoices, state %d records, %d declared):\n  %s",
			r.Duplicates, r.Lost, r.Phantoms, r.Mismatches, r.Invoices, r.Records, w.declared, strings.Join(r.Problems, "\n  "))
	}
	return r
}

func (w *World) controlURL(path string) string {
	return strings.TrimSuffix(w.Base, "/api/v2") + "/_emulator" + path
}

func (w *World) controlInvoices() []emulator.Invoice {
	w.t.Helper()
	var body struct{ Invoices []emulator.Invoice }
	w.getJSON(w.controlURL("/invoices"), &body)
	return body.Invoices
}

// Faults reads the emulator's fault counters through /_emulator/faults.
func (w *World) Faults() emulator.Faults {
	w.t.Helper()
	var f emulator.Faults
	w.getJSON(w.controlURL("/faults"), &f)
	return f
}

func (w *World) getJSON(url string, v any) {
	w.t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		w.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		w.Fatalf("GET %s: %v", url, err)
	}
}

// stateRecord is a record as `invoiceform state export` writes it.
type stateRecord struct {
	ForeignID    string `json:"foreign_id"`
	Phase        string `json:"phase"`
	ID           int64  `json:"id"`
	URL          string `json:"url"`
	Status       string `json:"status"`
	Currency     string `json:"currency"`
	Amount       string `json:"amount"`
	DetailsKnown bool   `json:"details_known"`
}

// sameDecimal compares two decimal texts exactly ("12.34" and "12.34000000" agree).
func sameDecimal(a, b string) bool {
	x, okx := new(big.Rat).SetString(a)
	y, oky := new(big.Rat).SetString(b)
	return okx && oky && x.Cmp(y) == 0
}

// records reads the state's records through `invoiceform state export` (the whole record:
// `state list` shows a pending or adopted record's requested amount in place of the API's).
func (w *World) records() map[string]stateRecord {
	w.t.Helper()
	cmd := w.command([]string{"state", "export"}, "-lock-timeout=60s")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		w.Fatalf("invoiceform state export: %v\n%s", err, stderr.String())
	}
	var doc struct {
		Records []stateRecord `json:"records"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		w.Fatalf("invoiceform state export: %v", err) // the output holds personal data: not quoted
	}
	recs := make(map[string]stateRecord, len(doc.Records))
	for _, e := range doc.Records {
		recs[e.ForeignID] = e
	}
	return recs
}

// Finish adds the emulator's injected faults to the counts; call it once, at the end.
func (w *World) Finish() Counts {
	f := w.Faults()
	w.Counts.Faults += f.Fail500 + f.RateLimit429 + f.DropAfterCommit + f.Slow
	return w.Counts
}

// lastLine is the last line of s.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
