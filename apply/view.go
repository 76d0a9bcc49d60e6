package apply

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/diagview"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
)

// MaxURLsListed bounds the invoices listed with their URL in the summary.
const MaxURLsListed = 50

// WriteSummary writes the human summary of a run: the invoices issued (with their URL for
// small runs), the failures with the API's message and config line, what stays pending, the
// warnings and the totals per currency.
func WriteSummary(w io.Writer, res *Result) error { return writeSummary(w, res, nil) }

// writeSummary is WriteSummary with hint, when not nil, adding advice to the message of a
// failed or pending invoice.
func writeSummary(w io.Writer, res *Result, hint func(error) string) error {
	message := func(it Item) string {
		m := it.Message()
		if hint != nil && it.Err != nil {
			if h := hint(it.Err); h != "" {
				m += " (" + h + ")"
			}
		}
		return m
	}
	var b strings.Builder
	if n := len(res.Issued); n > 0 && n <= MaxURLsListed {
		b.WriteString("\nIssued:\n")
		width := 0
		for _, it := range res.Issued {
			width = max(width, len(it.ForeignID))
		}
		for _, it := range res.Issued {
			url := "(no URL in the answer)"
			if it.Record != nil && it.Record.URL != "" {
				url = it.Record.URL
			}
			fmt.Fprintf(&b, "  %-*s  %s\n", width, it.ForeignID, url)
		}
	} else if n > MaxURLsListed {
		fmt.Fprintf(&b, "\nIssued %d invoices: their payment URLs are in the state, listed by \"invoiceform state list\" (-json for a program).\n", n)
	}
	if n := len(res.Adopted); n > 0 {
		b.WriteString("\nAdopted (\"already been taken\" after an attempt whose outcome was unknown; details unknown, not in the totals):\n")
		for i, it := range res.Adopted {
			if i == MaxURLsListed {
				fmt.Fprintf(&b, "  ... and %d more\n", n-i)
				break
			}
			fmt.Fprintf(&b, "  %s\n", it.ForeignID)
		}
	}
	for _, it := range res.Cancelled {
		fmt.Fprintf(&b, "Cancelled: %s (%s)\n", it.ForeignID, it.Kind)
	}
	if len(res.Failed) > 0 {
		b.WriteString("\nFailed (nothing was recorded as issued for these):\n")
		for _, it := range res.Failed {
			fmt.Fprintf(&b, "  %s\n", message(it))
		}
	}
	if len(res.Pending) > 0 {
		b.WriteString("\nOutcome unknown, kept pending (the next apply resolves them without creating any twice):\n")
		for _, it := range res.Pending {
			fmt.Fprintf(&b, "  %s\n", message(it))
		}
	}
	if len(res.Skipped) > 0 {
		fmt.Fprintf(&b, "\nNot started: %d (the run stopped first; the next apply creates them)\n", len(res.Skipped))
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n", wn)
	}
	fmt.Fprintf(&b, "\n%s\n", SummaryLine(res))
	_, err := io.WriteString(w, b.String())
	return err
}

// SummaryLine is the closing line, e.g. "Apply complete: 3 issued, 0 adopted, 0 cancelled,
// 0 failed, 0 pending, 0 not started in 1.2s. Issued: EUR 1,234.50 (3)." The totals are of
// the issued invoices only, whose answers were checked against the requests.
func SummaryLine(res *Result) string {
	word := "complete"
	if !res.OK() {
		word = "incomplete"
	}
	s := fmt.Sprintf("Apply %s: %d issued, %d adopted, %d cancelled, %d failed, %d pending, %d not started in %s.",
		word, len(res.Issued), len(res.Adopted), len(res.Cancelled), len(res.Failed), len(res.Pending), len(res.Skipped), res.Elapsed.Round(time.Millisecond))
	if len(res.Totals) > 0 {
		parts := make([]string, len(res.Totals))
		for i, t := range res.Totals {
			parts[i] = fmt.Sprintf("%s %s (%d)", t.Currency, invoice.FormatMoney(t.Currency, t.Sum), t.Count)
		}
		s += " Issued: " + strings.Join(parts, "; ") + "."
	}
	return s
}

// jsonEvent is one line of apply -json.
type jsonEvent struct {
	Type       string `json:"type"`
	ForeignID  string `json:"foreign_id,omitempty"`
	Attempt    int    `json:"attempt,omitempty"`
	WaitMS     int64  `json:"wait_ms,omitempty"`
	Error      string `json:"error,omitempty"`
	Warning    string `json:"warning,omitempty"`
	Location   string `json:"location,omitempty"`
	URL        string `json:"url,omitempty"`
	ID         int64  `json:"id,omitempty"`
	Done       int    `json:"done"`
	Failed     int    `json:"failed"`
	Pending    int    `json:"pending"`
	NotStarted int    `json:"not_started"`
	Total      int    `json:"total"`
	ElapsedMS  int64  `json:"elapsed_ms"`
}

// JSONProgress returns a Progress hook writing one JSON object per event to w.
func JSONProgress(w io.Writer) func(Event) {
	enc := json.NewEncoder(w)
	return func(ev Event) {
		je := jsonEvent{Type: string(ev.Kind), ForeignID: ev.ForeignID, Attempt: ev.Attempt, WaitMS: ev.Wait.Milliseconds(),
			Done: ev.Done, Failed: ev.Failed, Pending: ev.Pending, NotStarted: ev.NotStarted, Total: ev.Total, ElapsedMS: ev.Elapsed.Milliseconds()}
		if ev.Err != nil {
			je.Error = ev.Err.Error()
		}
		if it := ev.Item; it != nil {
			if it.Range.Filename != "" {
				je.Location = fmt.Sprintf("%s:%d", it.Range.Filename, it.Range.Start.Line)
			}
			if it.Record != nil {
				je.URL, je.ID = it.Record.URL, it.Record.ID
			}
			je.Warning = it.Warning
		}
		_ = enc.Encode(je)
	}
}

// WriteJSONSummary writes the closing JSON object of apply -json.
func WriteJSONSummary(w io.Writer, res *Result, runErr error) error {
	type total struct {
		Currency string `json:"currency"`
		Count    int    `json:"count"`
		Amount   string `json:"amount"`
	}
	out := struct {
		Type       string   `json:"type"`
		OK         bool     `json:"ok"`
		Issued     int      `json:"issued"`
		Adopted    int      `json:"adopted"`
		Cancelled  int      `json:"cancelled"`
		Failed     int      `json:"failed"`
		Pending    int      `json:"pending"`
		NotStarted int      `json:"not_started"`
		Totals     []total  `json:"totals"`
		AdoptedIDs []string `json:"adopted_foreign_ids"`
		Warnings   []string `json:"warnings"`
		Error      string   `json:"error,omitempty"`
		ElapsedMS  int64    `json:"elapsed_ms"`
	}{Type: "summary", OK: res.OK() && runErr == nil, Issued: len(res.Issued), Adopted: len(res.Adopted),
		Cancelled: len(res.Cancelled), Failed: len(res.Failed), Pending: len(res.Pending), NotStarted: len(res.Skipped),
		Totals: []total{}, AdoptedIDs: []string{}, Warnings: []string{}, ElapsedMS: res.Elapsed.Milliseconds()}
	for _, it := range res.Adopted {
		out.AdoptedIDs = append(out.AdoptedIDs, it.ForeignID)
	}
	out.Warnings = append(out.Warnings, res.Warnings...)
	for _, t := range res.Totals {
		out.Totals = append(out.Totals, total{t.Currency, t.Count, t.Sum.String()})
	}
	if runErr != nil {
		out.Error = runErr.Error()
	}
	return json.NewEncoder(w).Encode(out)
}

// TextProgress returns a Progress hook for people. On a terminal it redraws one line
// (done/total, rate, ETA, failures); otherwise it writes a plain line at most every interval,
// and one for each failure. Call the returned flush at the end.
func TextProgress(w io.Writer, tty bool, interval time.Duration) (hook func(Event), flush func()) {
	var mu sync.Mutex
	var last time.Time
	var lastEv Event
	line := func(ev Event) string {
		rate := 0.0
		if s := ev.Elapsed.Seconds(); s > 0 {
			rate = float64(ev.Done) / s
		}
		eta := "?"
		if rate > 0 {
			eta = (time.Duration(float64(ev.Total-ev.Done-ev.NotStarted)/rate) * time.Second).Round(time.Second).String()
		}
		s := fmt.Sprintf("%d/%d done, %.0f/s, ETA %s, %d failed, %d pending", ev.Done, ev.Total, rate, eta, ev.Failed, ev.Pending)
		if ev.NotStarted > 0 {
			s += fmt.Sprintf(", %d not started", ev.NotStarted)
		}
		return s
	}
	hook = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		lastEv = ev
		if ev.Kind == Failed {
			if tty {
				fmt.Fprint(w, "\r\033[K")
			}
			fmt.Fprintf(w, "Failed: %s\n", ev.Item.Message())
		}
		now := time.Now()
		if tty {
			if now.Sub(last) >= 100*time.Millisecond || ev.Done+ev.NotStarted == ev.Total {
				fmt.Fprintf(w, "\r\033[K%s", line(ev))
				last = now
			}
			return
		}
		if last.IsZero() {
			last = now
		}
		if now.Sub(last) >= interval {
			fmt.Fprintln(w, line(ev))
			last = now
		}
	}
	flush = func() {
		mu.Lock()
		defer mu.Unlock()
		if lastEv.Total == 0 {
			return
		}
		if tty {
			fmt.Fprintf(w, "\r\033[K%s\n", line(lastEv))
		} else {
			fmt.Fprintln(w, line(lastEv))
		}
	}
	return hook, flush
}

// View shows an apply: the plan before it, the progress, and the summary after it. The
// command picks HumanView or JSONView once, from -json.
type View interface {
	plan.View
	// PlanErrors says that the plan, or the configuration it is made from, has the errors
	// among diags, so nothing was applied.
	PlanErrors(diags hcl.Diagnostics)
	// NoChanges says that there is nothing to apply.
	NoChanges()
	// Progress returns the hook for Options.Progress, and a flush to call after Run.
	Progress() (hook func(Event), flush func())
	// Stopping acknowledges an interrupt at once (Options.Stopping): inFlight requests
	// finish and are recorded, and a second interrupt leaves them pending.
	Stopping(inFlight int)
	// Summary shows what the run did; runErr is Run's error.
	Summary(res *Result, runErr error) error
	// Error shows an error that ended the command, for a reader of the output who would
	// otherwise see no reason for its end.
	Error(err error)
}

// HumanView writes the plan and the summary on Stdout, the progress on Stderr.
type HumanView struct {
	plan.HumanView
	// TTY says that Stderr is a terminal: the progress is one line, redrawn.
	TTY bool
	// Epilogue, when set, is a paragraph written after the summary.
	Epilogue string
	// Hint, when set, is the advice added to the message of a failed or pending invoice.
	Hint func(error) string
}

func (v HumanView) PlanErrors(hcl.Diagnostics) {
	fmt.Fprintln(v.Stderr, "The plan has errors: nothing was applied.")
}

func (v HumanView) NoChanges() {
	fmt.Fprintln(v.Stdout, "\nNo changes. Every declared invoice is issued as declared.")
}

func (v HumanView) Progress() (func(Event), func()) {
	return TextProgress(v.Stderr, v.TTY, 2*time.Second)
}

func (v HumanView) Summary(res *Result, _ error) error {
	if err := writeSummary(v.Stdout, res, v.Hint); err != nil {
		return err
	}
	if v.Epilogue != "" {
		fmt.Fprintf(v.Stdout, "\n%s\n", v.Epilogue)
	}
	return nil
}

// Error writes nothing: the command prints the error on Stderr.
func (HumanView) Error(error) {}

// Stopping writes the acknowledgement of an interrupt on Stderr, clearing the progress line
// of a terminal first.
func (v HumanView) Stopping(inFlight int) {
	if v.TTY {
		fmt.Fprint(v.Stderr, "\r\033[K")
	}
	fmt.Fprintln(v.Stderr, StoppingMessage(inFlight))
}

// StoppingMessage is the acknowledgement of an interrupt during a run.
func StoppingMessage(inFlight int) string {
	switch inFlight {
	case 0:
		return "Stopping: no request is in flight; no new one is started. Not started invoices are created by the next apply."
	case 1:
		return "Stopping: 1 request in flight finishes and is recorded; no new one is started. Ctrl-C again to leave it pending for the next apply to resolve."
	}
	return fmt.Sprintf("Stopping: %d requests in flight finish and are recorded; no new one is started. Ctrl-C again to leave them pending for the next apply to resolve.", inFlight)
}

// JSONView writes one JSON object per line on Stdout: the plan summary, each event, the
// final summary, or an error. Stderr gets what people alone need.
type JSONView struct {
	plan.JSONView
	Stderr io.Writer
	// Hint, when set, gives the error event's advice.
	Hint func(error) string
}

func (v JSONView) Plan(p *plan.Plan, _ map[string]*hcl.File) error {
	d := plan.NewDocument(p, plan.ViewOptions{ShowSensitive: v.ShowSensitive})
	return json.NewEncoder(v.Stdout).Encode(struct {
		Type        string                `json:"type"`
		PlanHash    string                `json:"plan_hash"`
		Summary     plan.Summary          `json:"summary"`
		Totals      []plan.Total          `json:"totals"`
		Diagnostics []diagview.Diagnostic `json:"diagnostics"`
	}{"plan", d.PlanHash, d.Summary, d.Totals, d.Diagnostics})
}

// PlanErrors writes an error event after the plan line (or the diagnostics of a
// configuration that did not load): a pipeline step reading the events for an error finds
// one, whatever stopped the apply.
func (v JSONView) PlanErrors(diags hcl.Diagnostics) {
	fmt.Fprintln(v.Stderr, "The plan has errors: nothing was applied.")
	v.Error(PlanError(diags))
}

// PlanError is the error of a plan or a configuration with errors: their count and each
// error's summary and detail.
func PlanError(diags hcl.Diagnostics) error {
	var msgs []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		m := d.Summary
		if d.Subject != nil {
			m = fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, m)
		}
		if d.Detail != "" {
			m += ": " + d.Detail
		}
		msgs = append(msgs, m)
	}
	what := fmt.Sprintf("%d errors", len(msgs))
	if len(msgs) == 1 {
		what = "1 error"
	}
	return fmt.Errorf("the plan has %s, so nothing was applied: %s", what, strings.Join(msgs, "; "))
}

func (JSONView) NoChanges() {}

func (v JSONView) Progress() (func(Event), func()) { return JSONProgress(v.Stdout), func() {} }

// Stopping writes the acknowledgement of an interrupt for people, on Stderr; the events on
// Stdout end with the summary as always.
func (v JSONView) Stopping(inFlight int) { fmt.Fprintln(v.Stderr, StoppingMessage(inFlight)) }

func (v JSONView) Summary(res *Result, runErr error) error {
	return WriteJSONSummary(v.Stdout, res, runErr)
}

// Error writes an error event: a pipeline step reading the events learns why there were
// none.
func (v JSONView) Error(err error) {
	ev := struct {
		Type  string `json:"type"`
		Error string `json:"error"`
		Hint  string `json:"hint,omitempty"`
	}{Type: "error", Error: err.Error()}
	if v.Hint != nil {
		ev.Hint = v.Hint(err)
	}
	_ = json.NewEncoder(v.Stdout).Encode(ev)
}
