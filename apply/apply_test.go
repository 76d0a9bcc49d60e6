package apply_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
)

// spec is one declared invoice of a test config.
type spec struct {
	id     string
	amount string
	cancel bool
}

func specs(n int) []spec {
	s := make([]spec, n)
	for i := range s {
		s[i] = spec{id: fmt.Sprintf("inv-%04d", i), amount: fmt.Sprintf("%d.50", 10+i)}
	}
	return s
}

// env is one test's world: a config directory, a real bbolt state, a real emulator.
type env struct {
	t     testing.TB
	dir   string
	srv   *emulator.Server
	base  string
	store *boltstate.Store
}

func newEnv(t testing.TB, eo emulator.Options) *env { return newEnvWriters(t, eo, 8) }

// newEnvWriters opens the state for that many writers, as apply -parallelism does.
func newEnvWriters(t testing.TB, eo emulator.Options, writers int) *env {
	t.Helper()
	srv, err := emulator.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	store, err := boltstate.Open(filepath.Join(dir, "invoiceform.state"), boltstate.Options{Writers: writers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &env{t: t, dir: dir, srv: srv, base: base, store: store}
}

func (e *env) client(secret string, timeout time.Duration) *api.Client {
	e.t.Helper()
	c, err := api.New(api.Config{Endpoint: e.base, Key: emulator.DefaultKey, Secret: secret, Timeout: timeout})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) write(ss []spec) {
	e.t.Helper()
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, `invoice %q {
  title              = "Order %s"
  currency           = "EUR"
  amount             = %q
  timer              = false
  end_user_reference = "customer-1"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "buyer@example.com"
  cancel             = %t
}
`, s.id, s.id, s.amount, s.cancel)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "main.hcl"), []byte(b.String()), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) plan() *plan.Plan {
	e.t.Helper()
	cfg, diags := config.Load(e.dir, config.LoadOptions{})
	if diags.HasErrors() {
		e.t.Fatalf("config: %v", diags)
	}
	snap, err := e.store.Snapshot(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	p := plan.Make(cfg.Invoices, snap, plan.Options{Endpoint: e.base})
	if p.HasErrors() {
		e.t.Fatalf("plan: %v", p.Diagnostics)
	}
	return p
}

func (e *env) apply(ctx context.Context, c apply.Client, opts apply.Options) (*apply.Result, error) {
	e.t.Helper()
	if opts.BackoffBase == 0 {
		opts.BackoffBase, opts.BackoffMax = time.Millisecond, 20*time.Millisecond
	}
	return apply.Run(ctx, e.plan(), e.store, c, opts)
}

func (e *env) snapshot() *state.Snapshot {
	e.t.Helper()
	snap, err := e.store.Snapshot(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return snap
}

// checkExactlyOnce checks the money property: every invoice at the emulator was created
// once, every declared id is issued in the state, and the state claims nothing the emulator
// lacks.
func (e *env) checkExactlyOnce(declared []spec) {
	e.t.Helper()
	at := map[string]emulator.Invoice{}
	for _, inv := range e.srv.Invoices() {
		if inv.Creates != 1 {
			e.t.Errorf("%s: created %d times at the emulator", inv.ForeignID, inv.Creates)
		}
		at[inv.ForeignID] = inv
	}
	snap := e.snapshot()
	for _, s := range declared {
		r := snap.Records[s.id]
		if r == nil || (r.Phase != state.Issued && r.Phase != state.Cancelled) {
			e.t.Errorf("%s: declared but not issued in the state: %+v", s.id, r)
		}
	}
	for id, r := range snap.Records {
		if _, ok := at[id]; !ok {
			e.t.Errorf("%s: in the state (%s) but not at the emulator", id, r.Phase)
		}
	}
	if len(at) != len(snap.Records) {
		e.t.Errorf("emulator has %d invoices, state %d records", len(at), len(snap.Records))
	}
}

// journalChecker wraps the client and fails the test when a create is sent without its
// pending record, holding exactly the bytes sent, durable in the state.
type journalChecker struct {
	apply.Client
	t     *testing.T
	store state.Store
}

func (j journalChecker) CreateInvoice(ctx context.Context, body []byte) (*api.Invoice, error) {
	snap, err := j.store.Snapshot(context.Background())
	if err != nil {
		j.t.Error(err)
	}
	found := false
	for _, r := range snap.Records {
		if r.Phase == state.Pending && string(r.Body) == string(body) {
			found = true
		}
	}
	if !found {
		j.t.Errorf("create sent without its pending record: %s", body)
	}
	return j.Client.CreateInvoice(ctx, body)
}

func TestCreateThenNoOp(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ss := specs(25)
	e.write(ss)
	res, err := e.apply(context.Background(), journalChecker{e.client(emulator.DefaultSecret, 0), t, e.store}, apply.Options{Parallelism: 4})
	if err != nil || !res.OK() || len(res.Issued) != 25 {
		t.Fatalf("apply: err %v, issued %d, failed %v", err, len(res.Issued), res.Failed)
	}
	for _, it := range res.Issued {
		if it.Record == nil || it.Record.URL == "" || !it.Record.DetailsKnown || it.Record.ID == 0 {
			t.Errorf("%s: issued without the API's answer: %+v", it.ForeignID, it.Record)
		}
	}
	if len(res.Totals) != 1 || res.Totals[0].Currency != "EUR" || res.Totals[0].Count != 25 ||
		res.Totals[0].Sum.Cmp(invoice.MustParseAmount("562.5")) != 0 {
		t.Errorf("totals: %+v", res.Totals)
	}
	e.checkExactlyOnce(ss)
	p := e.plan()
	if p.HasChanges() {
		t.Fatalf("second plan has changes: %v", p.Counts())
	}
	res, err = apply.Run(context.Background(), p, e.store, e.client(emulator.DefaultSecret, 0), apply.Options{})
	if err != nil || res.Changed() {
		t.Fatalf("no-op apply: %v %+v", err, res)
	}
	e.checkExactlyOnce(ss)
}

func TestPartialFailure(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ss := specs(5)
	ss[2].amount = "5.00" // under the emulator's EUR minimum of 10.00
	e.write(ss)
	res, err := e.apply(context.Background(), e.client(emulator.DefaultSecret, 0), apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Issued) != 4 || len(res.Failed) != 1 || res.Failed[0].ForeignID != "inv-0002" {
		t.Fatalf("issued %d, failed %+v", len(res.Issued), res.Failed)
	}
	msg := res.Failed[0].Message()
	if !strings.Contains(msg, "main.hcl:23:") || !strings.Contains(msg, "amount") {
		t.Errorf("failure message %q lacks the config line or the API's message", msg)
	}
	if _, ok := e.snapshot().Records["inv-0002"]; ok {
		t.Error("the refused invoice's pending record was kept")
	}
	ok := append(append([]spec{}, ss[:2]...), ss[3:]...)
	e.checkExactlyOnce(ok)
}

func TestAuthFailureStopsTheRun(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ss := specs(40)
	e.write(ss)
	res, err := e.apply(context.Background(), e.client("wrong-secret", 0), apply.Options{Parallelism: 2})
	var ae *api.AuthError
	if !errors.Is(err, apply.ErrAuth) || !errors.As(err, &ae) || ae.Code != "bad_header_signature" {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if len(res.Issued) != 0 || len(res.Skipped) == 0 {
		t.Errorf("issued %d, skipped %d: the run did not stop", len(res.Issued), len(res.Skipped))
	}
	if n := len(e.snapshot().Records); n != 0 {
		t.Errorf("%d records left after refusals", n)
	}
	if n := len(e.srv.Invoices()); n != 0 {
		t.Errorf("%d invoices created with a wrong secret", n)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Error("the secret is in the error")
	}
}

func TestConvergesUnderFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    emulator.Options
		timeout time.Duration
	}{
		{"fail500", emulator.Options{Fail500: 0.3}, 0},
		{"ratelimit429", emulator.Options{RateLimit429: 0.3, RetryAfter: time.Millisecond}, 0},
		{"dropaftercommit", emulator.Options{DropAfterCommit: 0.3}, 0},
		{"slowpasttimeout", emulator.Options{SlowPastTimeout: 0.3, SlowDelay: 2 * time.Second}, 300 * time.Millisecond},
		{"mixed", emulator.Options{Fail500: 0.15, RateLimit429: 0.1, DropAfterCommit: 0.15, SlowPastTimeout: 0.1, SlowDelay: 2 * time.Second}, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Seed = 42
			e := newEnv(t, tc.opts)
			ss := specs(60)
			e.write(ss)
			c := journalChecker{e.client(emulator.DefaultSecret, tc.timeout), t, e.store}
			runs := 0
			for ; runs < 10 && e.plan().HasChanges(); runs++ {
				if _, err := e.apply(context.Background(), c, apply.Options{Parallelism: 8, MaxAttempts: 3}); err != nil {
					t.Fatalf("run %d: %v", runs, err)
				}
			}
			if e.plan().HasChanges() {
				t.Fatalf("not converged after %d runs: %v", runs, e.plan().Counts())
			}
			e.checkExactlyOnce(ss)
			if f := e.srv.Faults(); f.Fail500+f.RateLimit429+f.DropAfterCommit+f.Slow == 0 {
				t.Errorf("no fault was injected: %+v", f)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ss := specs(2)
	e.write(ss)
	c := e.client(emulator.DefaultSecret, 0)
	// Journal both as a crashed run would have; only the first request reached the API.
	p := e.plan()
	now := time.Now().UTC()
	for i, ch := range p.Changes {
		body := ch.Body()
		if err := e.store.Put(context.Background(), &state.Record{ForeignID: ch.ForeignID, Phase: state.Pending, Body: body, BodyHash: invoice.Hash(body), CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := c.CreateInvoice(context.Background(), body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := e.plan().Counts()[plan.Resolve]; n != 2 {
		t.Fatalf("plan has %d resolves, want 2", n)
	}
	res, err := e.apply(context.Background(), c, apply.Options{})
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if len(res.Adopted) != 1 || res.Adopted[0].ForeignID != "inv-0000" || res.Adopted[0].Kind != apply.Adopted ||
		len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "inv-0000: adopted") {
		t.Errorf("adopted: %+v, warnings %q", res.Adopted, res.Warnings)
	}
	if len(res.Totals) != 1 || res.Totals[0].Count != 1 {
		t.Errorf("totals count the adopted invoice: %+v", res.Totals)
	}
	if len(res.Issued) != 1 || res.Issued[0].ForeignID != "inv-0001" {
		t.Errorf("issued: %+v", res.Issued)
	}
	snap := e.snapshot()
	if r := snap.Records["inv-0000"]; r.Phase != state.Issued || r.DetailsKnown {
		t.Errorf("inv-0000: %+v", r)
	}
	if r := snap.Records["inv-0001"]; r.Phase != state.Issued || !r.DetailsKnown || r.URL == "" {
		t.Errorf("inv-0001: %+v", r)
	}
	e.checkExactlyOnce(ss)
	if inv, _ := e.srv.Lookup(emulator.DefaultKey, "inv-0000"); inv.Duplicates != 1 {
		t.Errorf("inv-0000 duplicates = %d, want the one resend", inv.Duplicates)
	}
}

// TestAlreadyTakenWithoutAttemptFails: a plain create refused as "already been taken" meets an
// invoice this state did not create (another state on the account, a lost state): it fails,
// nothing is recorded, and the next plan still shows the create.
func TestAlreadyTakenWithoutAttemptFails(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ss := specs(2)
	e.write(ss)
	c := e.client(emulator.DefaultSecret, 0)
	if _, err := c.CreateInvoice(context.Background(), e.plan().Changes[0].Body()); err != nil {
		t.Fatal(err)
	}
	res, err := e.apply(context.Background(), c, apply.Options{})
	var notOurs *apply.NotOursError
	if err != nil || len(res.Failed) != 1 || !errors.As(res.Failed[0].Err, &notOurs) || notOurs.ForeignID != "inv-0000" ||
		!errors.Is(res.Failed[0].Err, api.ErrAlreadyTaken) || len(res.Adopted) != 0 || len(res.Issued) != 1 || res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if len(res.Totals) != 1 || res.Totals[0].Count != 1 || res.Totals[0].Sum.Cmp(invoice.MustParseAmount("11.50")) != 0 {
		t.Errorf("totals: %+v", res.Totals)
	}
	if r := e.snapshot().Records["inv-0000"]; r != nil {
		t.Errorf("a record was kept for an invoice this state did not create: %+v", r)
	}
	if p := e.plan(); p.Counts()[plan.Create] != 1 {
		t.Errorf("the next plan: %v, want the create again", p.Counts())
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ss := specs(2)
	e.write(ss)
	c := e.client(emulator.DefaultSecret, 0)
	if _, err := e.apply(context.Background(), c, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetStatus(emulator.DefaultKey, "inv-0001", "confirmed", ""); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()
	ss[0].cancel, ss[1].cancel = true, true
	e.write(ss)
	res, err := e.apply(context.Background(), c, apply.Options{})
	if err != nil || len(res.Cancelled) != 2 {
		t.Fatalf("%v %+v", err, res)
	}
	// apply reads only the records it resolves or cancels whole (state.SnapshotWith); what
	// it writes back keeps the body and every answer field of the record.
	for id, b := range before.Records {
		a := e.snapshot().Records[id]
		if !bytes.Equal(a.Body, b.Body) || a.BodyHash != b.BodyHash || a.URL != b.URL || a.Address != b.Address || a.ID != b.ID || a.CreatedAt != b.CreatedAt || len(b.Body) == 0 {
			t.Errorf("%s: cancel lost fields of the record:\n%+v\nwas\n%+v", id, a, b)
		}
	}
	if res.Cancelled[0].Kind != apply.Cancelled || res.Cancelled[1].Kind != apply.Final {
		t.Errorf("kinds: %s %s", res.Cancelled[0].Kind, res.Cancelled[1].Kind)
	}
	for _, id := range []string{"inv-0000", "inv-0001"} {
		if r := e.snapshot().Records[id]; r.Phase != state.Cancelled {
			t.Errorf("%s: phase %s", id, r.Phase)
		}
	}
	if inv, _ := e.srv.Lookup(emulator.DefaultKey, "inv-0000"); inv.Status != "failed" {
		t.Errorf("cancelled invoice has status %q at the emulator", inv.Status)
	}
	if p := e.plan(); p.HasChanges() {
		t.Errorf("after cancel: %v", p.Counts())
	}
}

// TestInterrupt cancels the context mid-run, as Ctrl-C does: the run stops starting requests,
// what was in flight is recorded, and the next run converges without duplicates.
func TestInterrupt(t *testing.T) {
	e := newEnv(t, emulator.Options{DropAfterCommit: 0.2, Seed: 7})
	ss := specs(80)
	e.write(ss)
	c := journalChecker{e.client(emulator.DefaultSecret, 0), t, e.store}
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	res, err := e.apply(ctx, c, apply.Options{Parallelism: 4, Progress: func(ev apply.Event) {
		if ev.Done >= 10 {
			once.Do(cancel)
		}
	}})
	if !errors.Is(err, apply.ErrInterrupted) || !strings.Contains(err.Error(), "next apply resolves") {
		t.Fatalf("err = %v", err)
	}
	if len(res.Skipped) == 0 {
		t.Fatalf("nothing skipped: %+v", res)
	}
	for i := 0; i < 5 && e.plan().HasChanges(); i++ {
		if _, err := e.apply(context.Background(), c, apply.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	e.checkExactlyOnce(ss)
}

// TestResolveRefusedStaysPending: a pending record whose resend is refused is kept, since an
// earlier attempt may have created the invoice; the operator is told how to forget it.
func TestResolveRefusedStaysPending(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ss := specs(1)
	ss[0].amount = "5.00"
	e.write(ss)
	body := e.plan().Changes[0].Body()
	now := time.Now().UTC()
	if err := e.store.Put(context.Background(), &state.Record{ForeignID: "inv-0000", Phase: state.Pending, Body: body, BodyHash: invoice.Hash(body), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	res, err := e.apply(context.Background(), e.client(emulator.DefaultSecret, 0), apply.Options{})
	var kept *apply.KeptPendingError
	if err != nil || len(res.Pending) != 1 || !errors.As(res.Pending[0].Err, &kept) || kept.ForeignID != "inv-0000" {
		t.Fatalf("%v %+v", err, res)
	}
	if r := e.snapshot().Records["inv-0000"]; r == nil || r.Phase != state.Pending || r.LastError == "" {
		t.Errorf("record: %+v", r)
	}
}

// TestCheckCredentialsRetries: the credentials check retries what may pass later, as creates
// are retried, and gives up at once on an auth error. The torture suite found applies that did
// nothing because one /accounts/list answer was a 500.
func TestCheckCredentialsRetries(t *testing.T) {
	serverError := &api.ServerError{Op: "POST /accounts/list", Status: 500}
	auth := &api.AuthError{Op: "POST /accounts/list", Status: 403, Code: "bad_header_key"}
	rateLimited := &api.RateLimitError{Op: "POST /accounts/list", Status: 429}
	for _, tc := range []struct {
		name    string
		answers []error // the answer of each call; the last one repeats
		calls   int
		want    error
	}{
		{"passes", []error{nil}, 1, nil},
		{"500s, then passes", []error{serverError, rateLimited, serverError, nil}, 4, nil},
		{"auth error at once", []error{auth, nil}, 1, auth},
		{"500s to the last attempt", []error{serverError}, 5, serverError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := apply.CheckCredentials(context.Background(), func(context.Context) error {
				calls++
				return tc.answers[min(calls, len(tc.answers))-1]
			}, apply.Options{MaxAttempts: 5, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
			if !errors.Is(err, tc.want) || calls != tc.calls {
				t.Errorf("err = %v after %d calls, want %v after %d", err, calls, tc.want, tc.calls)
			}
		})
	}

	// Against the real emulator: every answer a 500 until the attempts run out.
	srv, err := emulator.New(emulator.Options{Fail500: 1})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := api.New(api.Config{Endpoint: base, Key: emulator.DefaultKey, Secret: emulator.DefaultSecret})
	if err != nil {
		t.Fatal(err)
	}
	err = apply.CheckCredentials(context.Background(), func(ctx context.Context) error {
		_, err := c.Accounts(ctx)
		return err
	}, apply.Options{MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
	var se *api.ServerError
	if !errors.As(err, &se) || srv.Faults().Fail500 != 3 {
		t.Errorf("err = %v after %d 500s, want a server error after 3", err, srv.Faults().Fail500)
	}
}
