package apply

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
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
	// attempts; a Retry-After of the server is waited at least.
	BackoffBase, BackoffMax time.Duration
	// Progress, if set, receives an event for every attempt that fails and every invoice
	// that is done. It is called from the workers, one call at a time.
	Progress func(Event)
	// Now is the clock of the records; nil means time.Now.
	Now func() time.Time
}

// Kind says how one change ended.
type Kind string

// The kinds of Item and Event.
const (
	Issued        Kind = "issued"         // created by this run
	AlreadyIssued Kind = "already_issued" // "already been taken" after an uncertain attempt or for a pending record
	Adopted       Kind = "adopted"        // a plain create met "already been taken": the invoice existed
	Cancelled     Kind = "cancelled"      // cancelled by this run
	Final         Kind = "final"          // a cancel refused because the invoice is confirmed or failed
	Failed        Kind = "failed"         // refused definitely: nothing was created; the pending record is gone
	Pending       Kind = "pending"        // outcome unknown; the record stays pending for the next apply
	Skipped       Kind = "skipped"        // not sent: the run stopped first; nothing was journalled
	Retry         Kind = "retry"          // an event only: an attempt failed and will be retried
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
	Item      *Item // set when the change is done
	// Done, Failed and Total count the changes at the moment of the event.
	Done, Failed, Total int
	Elapsed             time.Duration
}

// Result is what a run did, each list in foreign_id order.
type Result struct {
	Issued        []Item
	AlreadyIssued []Item // issued by an earlier attempt, or adopted
	Cancelled     []Item // cancelled, or found final
	Failed        []Item
	Pending       []Item // still pending: the next apply resolves them
	Skipped       []Item // not started because the run stopped
	Warnings      []string
	Totals        []invoice.Total // of Issued and AlreadyIssued, by currency (Group is "")
	Elapsed       time.Duration
}

// Changed reports whether the run changed anything at the API or in the state.
func (r *Result) Changed() bool {
	return len(r.Issued)+len(r.AlreadyIssued)+len(r.Cancelled)+len(r.Failed)+len(r.Pending) > 0
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
)

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
	// the record written back must keep every field the state holds.
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return &Result{}, fmt.Errorf("%w: %v", ErrState, err)
	}
	r.records = snap.Records

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	r.stop = stop
	// Three stages, each with Parallelism goroutines: journal (pending records), send,
	// record (issued records). The state's fsyncs then overlap the network round trips
	// instead of adding to them; every create is still sent only after its pending record is
	// durable.
	p2 := r.opts.Parallelism
	jobs := make(chan *plan.Change)
	journalled := make(chan job, p2)
	toRecord := make(chan Item, p2)
	var wg1, wg2, wg3 sync.WaitGroup
	for range p2 {
		wg1.Add(1)
		go func() {
			defer wg1.Done()
			for c := range jobs {
				journalled <- r.journal(runCtx, c)
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
			for it := range toRecord {
				r.finish(r.record(runCtx, it))
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
	for attempt := 1; attempt <= r.opts.MaxAttempts; attempt++ {
		if attempt > 1 && !r.sleep(ctx, r.backoff(attempt-1, err)) {
			return err
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

	mu     sync.Mutex
	items  []Item
	done   int
	failed int
	total  int
	fatal  error
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &runner{store: store, client: client, opts: opts, start: time.Now()}
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
	r.done++
	if it.Kind == Failed || it.Kind == Pending || it.Kind == Skipped {
		r.failed++
	}
	ev := Event{Kind: it.Kind, ForeignID: it.ForeignID, Attempt: it.Attempts, Err: it.Err, Item: &it,
		Done: r.done, Failed: r.failed, Total: r.total, Elapsed: time.Since(r.start)}
	if r.opts.Progress != nil {
		r.opts.Progress(ev) // under the lock: one call at a time, in order
	}
	r.mu.Unlock()
}

func (r *runner) event(kind Kind, c *plan.Change, attempt int, err error) {
	if r.opts.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opts.Progress(Event{Kind: kind, ForeignID: c.ForeignID, Attempt: attempt, Err: err,
		Done: r.done, Failed: r.failed, Total: r.total, Elapsed: time.Since(r.start)})
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

// journal is the first stage: a create's pending record is made durable here, before the job
// can reach a sender. A resolve's record is already pending.
func (r *runner) journal(ctx context.Context, c *plan.Change) job {
	it := Item{Action: c.Action, ForeignID: c.ForeignID, Address: c.Address(), Range: c.Range}
	j := job{c: c, it: it}
	switch c.Action {
	case plan.Create:
		if ctx.Err() != nil {
			j.it, j.done = r.notStarted(it), true
			return j
		}
		body := c.Body()
		now := r.opts.Now().UTC()
		j.rec = &state.Record{ForeignID: c.ForeignID, Phase: state.Pending, Body: body, BodyHash: invoice.Hash(body), CreatedAt: now, UpdatedAt: now}
		if err := r.store.Put(durable(ctx), j.rec); err != nil {
			r.setFatal(fmt.Errorf("%w: %v", ErrState, err))
			j.it.Kind, j.it.Err, j.done = Failed, fmt.Errorf("not sent: the pending record could not be written: %w", err), true
		}
	case plan.Resolve:
		// uncertain from the start: the request was sent by an earlier run.
		cur := r.records[c.ForeignID]
		if cur == nil || cur.Phase != state.Pending || c.Before == nil || cur.BodyHash != c.Before.BodyHash {
			j.it.Kind, j.it.Err, j.done = Failed, errors.New("the state has no matching pending record to resolve (it changed since the plan); run plan again"), true
			return j
		}
		j.rec, j.uncertain = cur.Clone(), true
	}
	return j
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
// created the invoice: from then on only a success or "already been taken" may end the record.
func (r *runner) create(ctx context.Context, c *plan.Change, it Item, rec *state.Record, uncertain bool) Item {
	var lastErr error
	for attempt := 1; attempt <= r.opts.MaxAttempts; attempt++ {
		if attempt > 1 {
			if !r.sleep(ctx, r.backoff(attempt-1, lastErr)) {
				break
			}
		}
		if !r.wait(ctx) {
			break
		}
		it.Attempts = attempt
		inv, err := r.client.CreateInvoice(durable(ctx), rec.Body)
		switch {
		case err == nil:
			it.Kind = Issued
			return r.recordIssued(ctx, it, rec, inv)
		case errors.Is(err, api.ErrAlreadyTaken):
			switch {
			case uncertain:
				it.Kind = AlreadyIssued
			default:
				it.Kind = Adopted
				it.Warning = fmt.Sprintf("%s: the API already had an invoice with this foreign_id, which the state did not know: recorded as issued, details unknown (was it created by another tool or another state?)", c.ForeignID)
			}
			return r.recordIssued(ctx, it, rec, nil)
		}
		lastErr = err
		switch api.OutcomeOf(err) {
		case api.Fatal:
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
		if attempt < r.opts.MaxAttempts {
			r.event(Retry, c, attempt, err)
		}
	}
	if !uncertain {
		// Only definite, retryable refusals (429s) or no attempt at all: nothing was created.
		if lastErr == nil {
			return r.undo(ctx, r.notStarted(it), rec, false, nil)
		}
		return r.undo(ctx, it, rec, false, lastErr)
	}
	// The outcome is unknown: keep the journal entry for the next apply.
	rec.UpdatedAt = r.opts.Now().UTC()
	if lastErr != nil {
		rec.LastError = lastErr.Error()
		if err := r.store.Put(durable(ctx), rec); err != nil {
			r.setFatal(fmt.Errorf("%w: %v", ErrState, err))
		}
	}
	it.Kind, it.Record, it.Err = Pending, rec, lastErr
	if it.Err == nil {
		it.Err = errors.New("not resent: the run was stopped")
	}
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

// record is the third stage: the issued record is written, then the item is done.
func (r *runner) record(ctx context.Context, it Item) Item {
	it.needsPut = false
	if err := r.store.Put(durable(ctx), it.Record); err != nil {
		// The invoice exists but the state still says pending: the next apply resolves it
		// ("already been taken"), so nothing is lost.
		r.setFatal(fmt.Errorf("%w: %v", ErrState, err))
		it.Kind, it.Err = Pending, fmt.Errorf("issued, but the state could not record it (the next apply resolves it): %w", err)
	}
	return it
}

func (r *runner) cancel(ctx context.Context, c *plan.Change, it Item) Item {
	cur := r.records[c.ForeignID]
	if cur == nil || cur.Phase != state.Issued {
		it.Kind, it.Err = Failed, errors.New("the state has no issued record to cancel (it changed since the plan); run plan again")
		return it
	}
	rec := cur.Clone()
	var lastErr error
	for attempt := 1; attempt <= r.opts.MaxAttempts; attempt++ {
		if attempt > 1 && !r.sleep(ctx, r.backoff(attempt-1, lastErr)) {
			break
		}
		if !r.wait(ctx) {
			break
		}
		it.Attempts = attempt
		err := r.client.CancelInvoice(durable(ctx), c.ForeignID)
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
			if attempt < r.opts.MaxAttempts {
				r.event(Retry, c, attempt, err)
			}
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
	if lastErr == nil {
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
// least the server's Retry-After.
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
	return d
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
		case AlreadyIssued, Adopted:
			res.AlreadyIssued = append(res.AlreadyIssued, it)
		case Cancelled, Final:
			res.Cancelled = append(res.Cancelled, it)
		case Failed:
			res.Failed = append(res.Failed, it)
		case Pending:
			res.Pending = append(res.Pending, it)
		case Skipped:
			res.Skipped = append(res.Skipped, it)
		}
		if (it.Kind == Issued || it.Kind == AlreadyIssued || it.Kind == Adopted) && it.Record != nil {
			totals.AddBody("", it.Record.Body, it.ForeignID)
		}
	}
	res.Totals = totals.List(nil)
	return res
}
