package apply

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/time/rate"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

// Defaults of Options.
const (
	DefaultParallelism = 10
	DefaultMaxAttempts = 8
	DefaultBackoffBase = 250 * time.Millisecond
	DefaultBackoffMax  = 10 * time.Second
	// DefaultMaxRetryWait caps every wait between two attempts, a server's Retry-After
	// included: one answer must not hold the run (and the state's lock) for a day.
	DefaultMaxRetryWait = 30 * time.Second
	// DefaultRetryBudget bounds the time one invoice may spend on retries, from its first
	// attempt: no retry is started that would begin after it.
	DefaultRetryBudget = 2 * time.Minute
	// DefaultUnreachableAfter is how long no request may succeed, while requests keep meeting
	// refused or timed-out connections or 5xx answers, before the run stops as unreachable.
	DefaultUnreachableAfter = 15 * time.Second
)

// Client is the part of *api.Client apply uses; tests may wrap it.
type Client interface {
	CreateInvoice(ctx context.Context, body []byte) (*api.Invoice, error)
	CancelInvoice(ctx context.Context, foreignID string) error
}

// Options tune Run. The zero value is usable.
type Options struct {
	// Parallelism is how many requests are in flight at once; 0 means DefaultParallelism.
	Parallelism int
	// Rate bounds the requests per second (every attempt counts); 0 means unlimited.
	Rate float64
	// MaxAttempts bounds the attempts per invoice; 0 means DefaultMaxAttempts. When they run
	// out on uncertain outcomes, the record stays pending for the next apply to resolve.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the exponential backoff with equal jitter between
	// attempts; a Retry-After of the server is waited at least, up to MaxRetryWait.
	BackoffBase, BackoffMax time.Duration
	// MaxRetryWait caps each wait between attempts, Retry-After included; 0 means
	// DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// RetryBudget bounds one invoice's retries: a retry that would start later than this after
	// the invoice's first attempt is not made. 0 means DefaultRetryBudget.
	RetryBudget time.Duration
	// UnreachableAfter: when no request has succeeded for this long and requests keep failing
	// without an answer (refused, timed out) or with a 5xx, the run stops starting requests
	// and ends with ErrUnreachable. 0 means DefaultUnreachableAfter.
	UnreachableAfter time.Duration
	// Progress, if set, receives an event for every attempt that fails and every invoice
	// that is done. It is called from the workers, one call at a time.
	Progress func(Event)
	// Stopping, if set, is called once, at once, when ctx is cancelled during the run (the
	// operator's Ctrl-C), with the number of requests then at the API: they finish and their
	// outcome is recorded before Run returns, and no request is started after them.
	Stopping func(inFlight int)
	// Now is the clock of the records; nil means time.Now.
	Now func() time.Time
}

// Kind says how one change ended.
type Kind string

// The kinds of Item and Event.
const (
	Issued    Kind = "issued"    // created by this run, and the success answer matched the request
	Adopted   Kind = "adopted"   // "already been taken" after an uncertain attempt: issued, details unknown
	Cancelled Kind = "cancelled" // cancelled by this run
	Final     Kind = "final"     // a cancel refused because the invoice is confirmed or failed
	Failed    Kind = "failed"    // nothing was recorded as issued; the pending record is gone
	Pending   Kind = "pending"   // outcome unknown; the record stays pending for the next apply
	Skipped   Kind = "skipped"   // not sent: the run stopped first; no record is left
	Retry     Kind = "retry"     // an event only: an attempt failed and will be retried after Wait
)

// Item is what happened to one change.
type Item struct {
	Kind      Kind
	Action    plan.Action
	ForeignID string
	Address   string
	Range     hcl.Range
	Record    *state.Record // the record written last, nil when it was deleted
	Err       error         // the API's error for Failed, Pending and Final
	Warning   string
	Attempts  int

	needsPut bool // issued: the record is yet to be written
}

// Message is the operator's line about a failed or pending item: the config location, the
// foreign_id and the API's message.
func (it Item) Message() string {
	loc := ""
	if it.Range.Filename != "" {
		loc = fmt.Sprintf("%s:%d: ", it.Range.Filename, it.Range.Start.Line)
	}
	if it.Err == nil {
		return fmt.Sprintf("%s%s: %s", loc, it.ForeignID, it.Kind)
	}
	return fmt.Sprintf("%s%s: %v", loc, it.ForeignID, it.Err)
}

// Event is a progress report.
type Event struct {
	Kind      Kind
	ForeignID string
	Attempt   int
	Err       error
	Wait      time.Duration // Retry: the wait before the next attempt
	Item      *Item         // set when the change is done
	// Done counts the changes that ended (issued, adopted, cancelled, failed, pending);
	// Failed and Pending are among them. NotStarted counts the changes the run stopped
	// before sending, which are not done. Total is every change of the plan.
	Done, Failed, Pending, NotStarted, Total int
	Elapsed                                  time.Duration
}

// Result is what a run did, each list in foreign_id order.
type Result struct {
	Issued    []Item // created, the answer checked against the request
	Adopted   []Item // "already been taken" after an uncertain attempt: issued, details unknown
	Cancelled []Item // cancelled, or found final
	Failed    []Item
	Pending   []Item // still pending: the next apply resolves them
	Skipped   []Item // not started because the run stopped
	Warnings  []string
	Totals    []invoice.Total // of Issued only, by currency (Group is ""): adopted ones are not counted
	Elapsed   time.Duration
}

// Changed reports whether the run changed anything at the API or in the state.
func (r *Result) Changed() bool {
	return len(r.Issued)+len(r.Adopted)+len(r.Cancelled)+len(r.Failed)+len(r.Pending) > 0
}

// OK reports whether every change succeeded.
func (r *Result) OK() bool { return len(r.Failed) == 0 && len(r.Pending) == 0 && len(r.Skipped) == 0 }

// Errors returned by Run, matched with errors.Is.
var (
	// ErrInterrupted: the context was cancelled; requests in flight were finished and recorded.
	ErrInterrupted = errors.New("apply interrupted: no new requests were started; invoices whose outcome is unknown stay pending, and the next apply resolves them without creating any twice")
	// ErrAuth: the API refused the key or the signature; the run stopped at once.
	ErrAuth = errors.New("the API refused the key or the request signature; the run stopped")
	// ErrUnapplicable: the plan has errors (conflicts, invalid config) and cannot be applied.
	ErrUnapplicable = errors.New("the plan has errors and cannot be applied")
	// ErrState: the state could not be written; the run stopped, since no request may be sent
	// without its journal entry.
	ErrState = errors.New("the state could not be written; the run stopped")
	// ErrUnreachable: no request succeeded for Options.UnreachableAfter while requests kept
	// failing without an answer or with 5xx; the run stopped starting requests.
	ErrUnreachable = errors.New("the API is unreachable")
)

// NotOursError is a create refused as "already been taken" when no attempt of this state may
// have created the invoice: the account holds an invoice with this foreign_id that this state
// did not create (another configuration or state on the same account, or a lost or restored
// state). Nothing is recorded as issued.
type NotOursError struct {
	ForeignID string
	Err       error // the refusal
}

func (e *NotOursError) Error() string {
	return fmt.Sprintf("the API already holds an invoice with foreign_id %q that this state did not create (another configuration or state on the same account, or a lost or restored state): nothing was recorded as issued; %v", e.ForeignID, e.Err)
}

func (e *NotOursError) Unwrap() error { return e.Err }

// KeptPendingError is an invoice's error when the API refused a create definitely, but an
// earlier attempt may have created the invoice: its record stays pending.
type KeptPendingError struct {
	ForeignID string
	Err       error // the refusal
}

func (e *KeptPendingError) Error() string {
	return fmt.Sprintf("%v; kept pending, since an earlier attempt may have created the invoice", e.Err)
}

func (e *KeptPendingError) Unwrap() error { return e.Err }

// StateWriters is how many goroutines of a run with that parallelism can be writing to the
// state at once, for the state's group commits (boltstate and pgstate Options.Writers): the
// journal stage and the record stage each have parallelism. A store opened for only
// parallelism writers commits groups half as large as it could, with twice the fsyncs (10,000
// invoices without latency in BenchmarkApply10kNoLatencyP32Writers64: 10-20% less CPU per
// invoice, in three pairs of runs on a shared machine).
func StateWriters(parallelism int) int {
	if parallelism <= 0 {
		parallelism = DefaultParallelism
	}
	return 2 * parallelism
}

// Run applies p's changes through client, journaling every create in store. It returns the
// result whatever happens, and an error (ErrAuth, ErrInterrupted, ErrState) when the run was cut
// short. Failed and pending invoices are not an error of Run: see Result.OK.
func Run(ctx context.Context, p *plan.Plan, store state.Store, client Client, opts Options) (*Result, error) {
	if p.HasErrors() {
		return &Result{}, ErrUnapplicable
	}
	r := newRunner(store, client, opts)
	var work []*plan.Change
	for _, c := range p.Changes {
		if c.Action.IsChange() {
			work = append(work, c)
		}
	}
	r.total = len(work)
	// Resolve and cancel work from the state's own records, never from a plan file's copy:
	// the record written back must keep every field the state holds. Only those are read
	// whole: at 1,000,000 records the bodies of the rest are most of a snapshot's cost.
	whole := map[string]bool{}
	for _, c := range work {
		if c.Action == plan.Resolve || c.Action == plan.Cancel {
			whole[c.ForeignID] = true
		}
	}
	snap, err := state.SnapshotWith(ctx, store, state.SnapshotOptions{Full: func(s state.Summary) bool { return whole[s.ForeignID] }})
	if err != nil {
		return &Result{}, fmt.Errorf("%w: %v", ErrState, err)
	}
	r.records = snap.Records

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	r.stop = stop
	if r.opts.Stopping != nil {
		finished := make(chan struct{})
		defer close(finished)
		go func() {
			select {
			case <-ctx.Done():
				r.opts.Stopping(int(r.inFlight.Load()))
			case <-finished:
			}
		}()
	}
	// Three stages, each with Parallelism goroutines: journal (pending records), send,
	// record (issued records). The state's fsyncs then overlap the network round trips
	// instead of adding to them; every create is still sent only after its pending record is
	// durable.
	p2 := r.opts.Parallelism
	jobs := make(chan *plan.Change, groupSize)
	journalled := make(chan job, p2)
	toRecord := make(chan Item, p2)
	var wg1, wg2, wg3 sync.WaitGroup
	for range p2 {
		wg1.Add(1)
		go func() {
			defer wg1.Done()
			for cs := range groups(jobs) {
				for _, j := range r.journal(runCtx, cs) {
					journalled <- j
				}
			}
		}()
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for j := range journalled {
				if it := r.send(runCtx, j); it.needsPut {
					toRecord <- it
				} else {
					r.finish(it)
				}
			}
		}()
		wg3.Add(1)
		go func() {
			defer wg3.Done()
			for its := range groups(toRecord) {
				for _, it := range r.record(runCtx, its) {
					r.finish(it)
				}
			}
		}()
	}
	sent := 0
feed:
	for _, c := range work {
		select {
		case jobs <- c:
			sent++
		case <-runCtx.Done():
			break feed
		}
	}
	close(jobs)
	wg1.Wait()
	close(journalled)
	wg2.Wait()
	close(toRecord)
	wg3.Wait()
	for _, c := range work[sent:] {
		r.finish(r.notStarted(Item{Action: c.Action, ForeignID: c.ForeignID, Address: c.Address(), Range: c.Range}))
	}

	res := r.result()
	switch {
	case errors.Is(r.fatal, ErrUnreachable):
		return res, fmt.Errorf("%w: %d not started, %d kept pending (the next apply resolves them)", r.fatal, len(res.Skipped), len(res.Pending))
	case r.fatal != nil:
		return res, r.fatal
	case ctx.Err() != nil:
		return res, ErrInterrupted
	}
	return res, nil
}

// CheckCredentials runs check, the API call that proves the key and the secret (the accounts
// list), before a run. What may pass later (a 429, a 5xx, a timeout or a dropped connection)
// is retried with the run's backoff and attempts, as a create is: one transient failure of a
// request that changes nothing must not stop an apply that would have succeeded. Anything
// else (an auth error, a refusal, an interrupt) is returned at once.
func CheckCredentials(ctx context.Context, check func(context.Context) error, opts Options) error {
	r := newRunner(nil, nil, opts)
	var err error
	deadline := time.Now().Add(r.opts.RetryBudget)
	for attempt := 1; attempt <= r.opts.MaxAttempts; attempt++ {
		if attempt > 1 {
			d := r.backoff(attempt-1, err)
			if time.Until(deadline) < d || !r.sleep(ctx, d) {
				return err
			}
		}
		if err = check(ctx); err == nil || !api.Retryable(err) {
			return err
		}
	}
	return err
}

type runner struct {
	store   state.Store
	client  Client
	opts    Options
	limiter *rate.Limiter
	start   time.Time
	stop    context.CancelFunc
	records map[string]*state.Record // the state when the run started
	// inFlight counts the requests sent and not yet answered.
	inFlight atomic.Int64

	mu      sync.Mutex
	items   []Item
	done    int
	failed  int
	pending int
	skipped int
	total   int
	fatal   error
	lastOK  time.Time // the last answer that showed the API reachable, or the start
}

func newRunner(store state.Store, client Client, opts Options) *runner {
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = DefaultBackoffBase
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = DefaultBackoffMax
	}
	if opts.BackoffMax < opts.BackoffBase {
		opts.BackoffMax = opts.BackoffBase
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = DefaultMaxRetryWait
	}
	if opts.RetryBudget <= 0 {
		opts.RetryBudget = DefaultRetryBudget
	}
	if opts.UnreachableAfter <= 0 {
		opts.UnreachableAfter = DefaultUnreachableAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &runner{store: store, client: client, opts: opts, start: time.Now()}
	r.lastOK = r.start
	if opts.Rate > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(opts.Rate), max(1, int(opts.Rate)))
	}
	return r
}

// setFatal records the first run-stopping error and stops the run.
func (r *runner) setFatal(err error) {
	r.mu.Lock()
	if r.fatal == nil {
		r.fatal = err
	}
	r.mu.Unlock()
	r.stop()
}

func (r *runner) finish(it Item) {
	r.mu.Lock()
	r.items = append(r.items, it)
	switch it.Kind {
	case Skipped:
		r.skipped++
	case Failed:
		r.failed++
		r.done++
	case Pending:
		r.pending++
		r.done++
	default:
		r.done++
	}
	ev := r.eventLocked(it.Kind, it.ForeignID, it.Attempts, it.Err, 0)
	ev.Item = &it
	if r.opts.Progress != nil {
		r.opts.Progress(ev) // under the lock: one call at a time, in order
	}
	r.mu.Unlock()
}

func (r *runner) eventLocked(kind Kind, foreignID string, attempt int, err error, wait time.Duration) Event {
	return Event{Kind: kind, ForeignID: foreignID, Attempt: attempt, Err: err, Wait: wait,
		Done: r.done, Failed: r.failed, Pending: r.pending, NotStarted: r.skipped, Total: r.total, Elapsed: time.Since(r.start)}
}

func (r *runner) event(kind Kind, c *plan.Change, attempt int, err error, wait time.Duration) {
	if r.opts.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opts.Progress(r.eventLocked(kind, c.ForeignID, attempt, err, wait))
}

// observe follows the API's health from the outcome of each request. An answer that shows the
// API up (any answer but a 5xx) restarts the clock; a failure without an answer or a 5xx,
// when nothing succeeded for UnreachableAfter, stops the run: retrying every remaining
// invoice against an API that is gone would hold the state's lock for many minutes.
func (r *runner) observe(err error) {
	var (
		te *api.TransportError
		se *api.ServerError
	)
	down := errors.As(err, &te) || errors.As(err, &se)
	r.mu.Lock()
	now := time.Now()
	if !down {
		r.lastOK = now
		r.mu.Unlock()
		return
	}
	since := now.Sub(r.lastOK)
	r.mu.Unlock()
	if since >= r.opts.UnreachableAfter {
		r.setFatal(fmt.Errorf("%w: no request succeeded for %s (the last: %v); the run stopped starting requests", ErrUnreachable, since.Round(time.Second), err))
	}
}

// durable is the context of state writes and of requests already decided on: once a request
// is started it is finished and recorded, even when the run is being stopped.
func durable(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// job is a change on its way through the run's stages: journalled (a pending record is
// durable), sent, recorded.
type job struct {
	c         *plan.Change
	it        Item
	rec       *state.Record // the pending record, for creates and resolves
	uncertain bool
	done      bool // it is final already (refused before sending)
}

// journal is the first stage: the pending records of a group of creates are made durable here,
// in one write, before any of their jobs can reach a sender. A resolve's record is already
// pending.
func (r *runner) journal(ctx context.Context, cs []*plan.Change) []job {
	js := make([]job, len(cs))
	var recs []*state.Record
	for i, c := range cs {
		it := Item{Action: c.Action, ForeignID: c.ForeignID, Address: c.Address(), Range: c.Range}
		j := job{c: c, it: it}
		switch c.Action {
		case plan.Create:
			if ctx.Err() != nil {
				j.it, j.done = r.notStarted(it), true
				break
			}
			body := c.Body()
			now := r.opts.Now().UTC()
			j.rec = &state.Record{ForeignID: c.ForeignID, Phase: state.Pending, Body: body, BodyHash: invoice.Hash(body), CreatedAt: now, UpdatedAt: now}
			recs = append(recs, j.rec)
		case plan.Resolve:
			// uncertain from the start: the request was sent by an earlier run.
			cur := r.records[c.ForeignID]
			if cur == nil || cur.Phase != state.Pending || c.Before == nil || cur.BodyHash != c.Before.BodyHash {
				j.it.Kind, j.it.Err, j.done = Failed, errors.New("the state has no matching pending record to resolve (it changed since the plan); run plan again"), true
				break
			}
			j.rec, j.uncertain = cur.Clone(), true
		}
		js[i] = j
	}
	if len(recs) == 0 {
		return js
	}
	// One write for the group's pending records: none of them is sent before it is durable.
	if err := r.store.Put(durable(ctx), recs...); err != nil {
		r.setFatal(fmt.Errorf("%w: %v", ErrState, err))
		for i := range js {
			if js[i].c.Action == plan.Create && !js[i].done {
				js[i].it.Kind, js[i].it.Err, js[i].done = Failed, fmt.Errorf("not sent: the pending record could not be written: %w", err), true
			}
		}
	}
	return js
}

// send is the second stage. A create or resolve that succeeds comes back with needsPut: the
// third stage records it, so that the sender moves on to the next invoice at once.
func (r *runner) send(ctx context.Context, j job) Item {
	if j.done {
		return j.it
	}
	switch j.c.Action {
	case plan.Create, plan.Resolve:
		return r.create(ctx, j.c, j.it, j.rec, j.uncertain)
	case plan.Cancel:
		return r.cancel(ctx, j.c, j.it)
	}
	it := j.it
	it.Kind, it.Err = Failed, fmt.Errorf("apply does not know the action %q", j.c.Action)
	return it
}

// create sends rec.Body until an answer settles it. uncertain is true once a request may have
// created the invoice (an earlier run's pending record, or an uncertain attempt of this run):
// from then on only a success or "already been taken" may end the record. "Already been
// taken" proves our own earlier attempt only then; without it, the invoice at the API is not
// ours and nothing is recorded.
func (r *runner) create(ctx context.Context, c *plan.Change, it Item, rec *state.Record, uncertain bool) Item {
	var lastErr error
	var deadline time.Time
	for attempt := 1; ; attempt++ {
		if !r.wait(ctx) {
			break
		}
		if attempt == 1 {
			deadline = time.Now().Add(r.opts.RetryBudget)
		}
		it.Attempts = attempt
		r.inFlight.Add(1)
		inv, err := r.client.CreateInvoice(durable(ctx), rec.Body)
		r.inFlight.Add(-1)
		r.observe(err)
		if err == nil {
			if err = api.CheckAnswer(rec.Body, inv); err == nil {
				it.Kind = Issued
				return r.recordIssued(ctx, it, rec, inv)
			}
			// A success answer that names another invoice, currency or amount proves nothing
			// about ours: keep it pending and let the next apply resend the same bytes. Not
			// retried in this run: the server answering so is not to be trusted now.
			return r.keepPending(ctx, it, rec, err)
		}
		if errors.Is(err, api.ErrAlreadyTaken) {
			if !uncertain {
				return r.undo(ctx, it, rec, false, &NotOursError{ForeignID: c.ForeignID, Err: err})
			}
			it.Kind = Adopted
			it.Warning = fmt.Sprintf("%s: adopted: the API answered \"already been taken\" to the resend after an attempt whose outcome was unknown, so that attempt is taken to have created it; recorded as issued with details unknown (no id, URL or address until a callback); if another configuration or state could use this foreign_id, check the invoice in the dashboard", c.ForeignID)
			return r.recordIssued(ctx, it, rec, nil)
		}
		lastErr = err
		switch api.OutcomeOf(err) {
		case api.Fatal:
			var ae *api.AuthError
			if errors.As(err, &ae) && ae.MayHaveProcessed() {
				uncertain = true // an undocumented refusal proves nothing
			}
			r.setFatal(fmt.Errorf("%w: %w", ErrAuth, err))
			return r.undo(ctx, it, rec, uncertain, err)
		case api.Uncertain:
			uncertain = true
			rec.LastError = err.Error()
		default: // Definite
			if !api.Retryable(err) {
				return r.undo(ctx, it, rec, uncertain, err)
			}
		}
		if attempt >= r.opts.MaxAttempts {
			break
		}
		d := r.backoff(attempt, err)
		if time.Until(deadline) < d {
			break // the invoice's retry budget is spent
		}
		r.event(Retry, c, attempt, err, d)
		if !r.sleep(ctx, d) {
			break
		}
	}
	if !uncertain {
		// Only definite, retryable refusals (429s, connections refused) or no attempt at all:
		// nothing was created. When the run was stopped, the invoice was not started.
		if lastErr == nil || ctx.Err() != nil {
			return r.undo(ctx, r.notStarted(it), rec, false, nil)
		}
		return r.undo(ctx, it, rec, false, lastErr)
	}
	// The outcome is unknown: keep the journal entry for the next apply.
	if lastErr == nil {
		lastErr = errors.New("not resent: the run was stopped")
	}
	return r.keepPending(ctx, it, rec, lastErr)
}

// keepPending ends a create whose outcome is unknown: the record stays pending, saying why,
// for the next apply to resolve by resending the same bytes.
func (r *runner) keepPending(ctx context.Context, it Item, rec *state.Record, err error) Item {
	rec.UpdatedAt = r.opts.Now().UTC()
	rec.LastError = err.Error()
	if perr := r.store.Put(durable(ctx), rec); perr != nil {
		r.setFatal(fmt.Errorf("%w: %v", ErrState, perr))
	}
	it.Kind, it.Record, it.Err = Pending, rec, err
	return it
}

// notStarted is a change the run stopped before sending.
func (r *runner) notStarted(it Item) Item {
	it.Kind, it.Err = Skipped, errors.New("not sent: the run was stopped")
	return it
}

// undo ends a create refused definitely. A record that may have been created by an earlier
// attempt (of this run, or of the run that left a pending record) is kept pending, whatever
// the refusal says: the API's order of checks is not documented, so a refusal of the same
// bytes does not prove that the earlier request was refused too, and a forgotten invoice is a
// loss. Otherwise the pending record is deleted and the invoice reported failed.
func (r *runner) undo(ctx context.Context, it Item, rec *state.Record, uncertain bool, err error) Item {
	if uncertain {
		rec.UpdatedAt = r.opts.Now().UTC()
		if err != nil {
			rec.LastError = err.Error()
			err = &KeptPendingError{ForeignID: rec.ForeignID, Err: err}
		}
		if perr := r.store.Put(durable(ctx), rec); perr != nil {
			r.setFatal(fmt.Errorf("%w: %v", ErrState, perr))
		}
		it.Kind, it.Record, it.Err = Pending, rec, err
		return it
	}
	if derr := r.store.Delete(durable(ctx), rec.ForeignID); derr != nil {
		r.setFatal(fmt.Errorf("%w: %v", ErrState, derr))
	}
	if it.Kind == Skipped { // not sent at all
		it.Record = nil
		return it
	}
	it.Kind, it.Err = Failed, err
	return it
}

func (r *runner) recordIssued(ctx context.Context, it Item, rec *state.Record, inv *api.Invoice) Item {
	now := r.opts.Now().UTC()
	rec.Phase = state.Issued
	rec.UpdatedAt, rec.IssuedAt = now, now
	rec.LastError = ""
	if inv != nil {
		rec.DetailsKnown = true
		rec.ID, rec.URL, rec.Address, rec.Status = inv.ID, inv.URL, inv.Address, inv.Status
		rec.Currency, rec.Amount = inv.Currency, inv.Amount
		rec.SenderCurrency, rec.SenderAmount = inv.SenderCurrency, inv.SenderAmount
		rec.FixedAt, rec.ReleaseAt = inv.FixedAt, inv.ReleaseAt
	} else {
		rec.DetailsKnown = false
	}
	it.Record, it.needsPut = rec, true
	return it
}

// record is the third stage: the issued records of a group of answers are written in one
// write, then the items are done.
func (r *runner) record(ctx context.Context, its []Item) []Item {
	recs := make([]*state.Record, len(its))
	for i := range its {
		its[i].needsPut = false
		recs[i] = its[i].Record
	}
	if err := r.store.Put(durable(ctx), recs...); err != nil {
		// The invoices exist but the state still says pending: the next apply resolves them
		// ("already been taken"), so nothing is lost.
		r.setFatal(fmt.Errorf("%w: %v", ErrState, err))
		for i := range its {
			its[i].Kind, its[i].Err = Pending, fmt.Errorf("issued, but the state could not record it (the next apply resolves it): %w", err)
		}
	}
	return its
}

// groupSize is the most pending records, or answers, one write of the journal or the record
// stage holds. The stages take what is waiting, up to groupSize, instead of one at a time: the
// state then commits (and fsyncs) once for a group, beside what bbolt's batching joins.
const groupSize = 64

// groups yields what arrives on ch in groups: each one what was waiting when its first element
// arrived, up to groupSize. It ends when ch is closed and drained.
func groups[T any](ch <-chan T) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for first := range ch {
			g := []T{first}
		more:
			for len(g) < groupSize {
				select {
				case x, ok := <-ch:
					if !ok {
						break more
					}
					g = append(g, x)
				default:
					break more
				}
			}
			if !yield(g) {
				return
			}
		}
	}
}

func (r *runner) cancel(ctx context.Context, c *plan.Change, it Item) Item {
	cur := r.records[c.ForeignID]
	if cur == nil || cur.Phase != state.Issued {
		it.Kind, it.Err = Failed, errors.New("the state has no issued record to cancel (it changed since the plan); run plan again")
		return it
	}
	rec := cur.Clone()
	var lastErr error
	var deadline time.Time
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			d := r.backoff(attempt-1, lastErr)
			if attempt > r.opts.MaxAttempts || time.Until(deadline) < d {
				break
			}
			r.event(Retry, c, attempt-1, lastErr, d)
			if !r.sleep(ctx, d) {
				break
			}
		}
		if !r.wait(ctx) {
			break
		}
		if attempt == 1 {
			deadline = time.Now().Add(r.opts.RetryBudget)
		}
		it.Attempts = attempt
		r.inFlight.Add(1)
		err := r.client.CancelInvoice(durable(ctx), c.ForeignID)
		r.inFlight.Add(-1)
		r.observe(err)
		note := ""
		switch {
		case err == nil:
			rec.Status = "failed" // a cancelled invoice has the API status failed
		case errors.Is(err, api.ErrInvalidInvoiceState):
			note = "the API refused to cancel: the invoice is already confirmed or failed"
			it.Err = err
		case api.OutcomeOf(err) == api.Fatal:
			r.setFatal(fmt.Errorf("%w: %w", ErrAuth, err))
			it.Kind, it.Err = Failed, err
			return it
		case api.Retryable(err) || api.OutcomeOf(err) == api.Uncertain:
			// A cancel is idempotent: resending it is always safe.
			lastErr = err
			continue
		default:
			it.Kind, it.Err = Failed, err
			return it
		}
		now := r.opts.Now().UTC()
		rec.Phase = state.Cancelled
		rec.UpdatedAt = now
		if note != "" {
			rec.LastError = note
			it.Kind, it.Warning = Final, fmt.Sprintf("%s: %s; recorded as final", c.ForeignID, note)
		} else {
			rec.LastError = ""
			it.Kind = Cancelled
		}
		if perr := r.store.Put(durable(ctx), rec); perr != nil {
			r.setFatal(fmt.Errorf("%w: %v", ErrState, perr))
			it.Kind, it.Err = Failed, fmt.Errorf("cancelled, but the state could not record it: %w", perr)
			return it
		}
		it.Record = rec
		return it
	}
	if lastErr == nil || (ctx.Err() != nil && api.OutcomeOf(lastErr) == api.Definite) {
		return r.notStarted(it)
	}
	it.Kind, it.Err = Failed, lastErr
	return it
}

// wait takes a token of the rate limiter; false when the run is stopping.
func (r *runner) wait(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	if r.limiter == nil {
		return true
	}
	return r.limiter.Wait(ctx) == nil
}

// sleep waits d unless the run stops first.
func (r *runner) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff is the wait before retry n (1-based): equal jitter over an exponential bound, and at
// least the server's Retry-After; never more than MaxRetryWait.
func (r *runner) backoff(n int, err error) time.Duration {
	bound := r.opts.BackoffBase << min(n-1, 20)
	if bound > r.opts.BackoffMax || bound <= 0 {
		bound = r.opts.BackoffMax
	}
	d := bound/2 + rand.N(bound/2+1)
	var rl *api.RateLimitError
	if errors.As(err, &rl) && rl.RetryAfter > d {
		d = rl.RetryAfter + rand.N(r.opts.BackoffBase+1)
	}
	return min(d, r.opts.MaxRetryWait)
}

func (r *runner) result() *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Result{Elapsed: time.Since(r.start)}
	sort.Slice(r.items, func(i, j int) bool { return r.items[i].ForeignID < r.items[j].ForeignID })
	var totals invoice.Totals
	for _, it := range r.items {
		if it.Warning != "" {
			res.Warnings = append(res.Warnings, it.Warning)
		}
		switch it.Kind {
		case Issued:
			res.Issued = append(res.Issued, it)
		case Adopted:
			res.Adopted = append(res.Adopted, it)
		case Cancelled, Final:
			res.Cancelled = append(res.Cancelled, it)
		case Failed:
			res.Failed = append(res.Failed, it)
		case Pending:
			res.Pending = append(res.Pending, it)
		case Skipped:
			res.Skipped = append(res.Skipped, it)
		}
		if it.Kind == Issued && it.Record != nil {
			totals.AddBody("", it.Record.Body, it.ForeignID)
		}
	}
	res.Totals = totals.List(nil)
	return res
}
