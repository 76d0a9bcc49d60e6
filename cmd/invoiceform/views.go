package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

// stateView shows what the state holds: show without a plan file, state list and state
// show. newStateView picks the human, JSON or Markdown one once, from the flags.
type stateView interface {
	// Summary is show's summary of the state.
	Summary(s *plan.StateSummary) error
	// List is state list; exists is false when there is no state at where.
	List(where string, entries []plan.StateEntry, exists bool) error
	// Record is state show.
	Record(r *state.Record) error
}

func newStateView(e *env, asJSON, markdown bool) stateView {
	h := humanStateView{e}
	switch {
	case asJSON:
		return jsonStateView{h}
	case markdown:
		return markdownStateView{h}
	}
	return h
}

type humanStateView struct{ e *env }

func (v humanStateView) Summary(s *plan.StateSummary) error {
	return plan.WriteStateSummaryText(v.e.stdout, s)
}

func (v humanStateView) List(where string, entries []plan.StateEntry, exists bool) error {
	switch {
	case !exists:
		fmt.Fprintf(v.e.stderr, "No state at %s: nothing has been applied here yet.\n", where)
		return nil
	case len(entries) == 0:
		fmt.Fprintf(v.e.stderr, "The state %s has no records.\n", where)
		return nil
	}
	return plan.WriteStateListText(v.e.stdout, entries)
}

func (v humanStateView) Record(r *state.Record) error {
	w := v.e.stdout
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	unix := func(p *int64) string {
		if p == nil {
			return ""
		}
		return fmt.Sprintf("%d (%s)", *p, time.Unix(*p, 0).UTC().Format(time.RFC3339))
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	line("foreign_id", r.ForeignID)
	line("phase", string(r.Phase))
	if r.Phase != state.Pending {
		line("details_known", fmt.Sprint(r.DetailsKnown))
	}
	if r.ID != 0 {
		line("id", fmt.Sprint(r.ID))
	}
	line("status", r.Status)
	line("amount", strings.TrimSpace(r.Amount+" "+r.Currency))
	line("sender_amount", strings.TrimSpace(r.SenderAmount+" "+r.SenderCurrency))
	line("url", r.URL)
	line("address", r.Address)
	line("fixed_at", unix(r.FixedAt))
	line("release_at", unix(r.ReleaseAt))
	line("created_at", stamp(r.CreatedAt))
	line("updated_at", stamp(r.UpdatedAt))
	line("issued_at", stamp(r.IssuedAt))
	line("paid_at", stamp(r.PaidAt))
	line("last_error", r.LastError)
	line("body_hash", r.BodyHash)
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeHistory(w, r.History); err != nil {
		return err
	}
	var body bytes.Buffer
	if json.Indent(&body, r.Body, "  ", "  ") != nil {
		body.Reset()
		body.Write(r.Body)
	}
	_, err := fmt.Fprintf(w, "body:\n  %s\n", body.String())
	return err
}

// jsonStateView writes JSON documents on stdout; what people need to know besides stays on
// stderr.
type jsonStateView struct{ h humanStateView }

func (v jsonStateView) Summary(s *plan.StateSummary) error { return writeJSON(v.h.e.stdout, s) }

func (v jsonStateView) List(where string, entries []plan.StateEntry, exists bool) error {
	if !exists {
		fmt.Fprintf(v.h.e.stderr, "No state at %s: nothing has been applied here yet.\n", where)
		entries = []plan.StateEntry{}
	}
	return writeJSON(v.h.e.stdout, entries)
}

func (v jsonStateView) Record(r *state.Record) error { return writeJSON(v.h.e.stdout, r) }

// markdownStateView writes show's summary as a pull-request comment; the state commands
// have no Markdown form and are written for people.
type markdownStateView struct{ humanStateView }

func (v markdownStateView) Summary(s *plan.StateSummary) error {
	return plan.WriteStateSummaryMarkdown(v.e.stdout, s)
}

// writeHistory writes a record's accepted callbacks, oldest first, as a table: when each was
// received, its status and error text, the amounts (sent: what the customer is asked to send
// and what remains; received: the invoice's currency and amount) and the transaction ids.
func writeHistory(w io.Writer, h []state.Callback) error {
	if len(h) == 0 {
		_, err := fmt.Fprintln(w, "history:        (no callback received)")
		return err
	}
	fmt.Fprintf(w, "history:        %d callbacks, oldest first\n", len(h))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  RECEIVED\tSTATUS\tSENT\tREMAINING\tRECEIVED_AMOUNT\tTXIDS\tERROR")
	for _, c := range h {
		txids := strings.Join(c.TxIDs, " ")
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ReceivedAt.UTC().Format(time.RFC3339), c.Status,
			dashText(strings.TrimSpace(c.SentAmount+" "+c.SentCurrency)), dashText(c.SentRemaining),
			dashText(strings.TrimSpace(c.ReceivedAmount+" "+c.ReceivedCurrency)), dashText(txids), dashText(c.Error))
	}
	return tw.Flush()
}

// dashText is s on one line, or "-" when empty.
func dashText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	return s
}
