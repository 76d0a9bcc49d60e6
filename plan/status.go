package plan

import (
	"fmt"
	"strings"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// Settled is an undeclared record whose invoice is over: its status is confirmed or failed,
// or it was cancelled. Nothing can be done with it any more, so it is not a change.
type Settled struct {
	ForeignID string `json:"foreign_id"`
	// Status is confirmed, failed or cancelled.
	Status string `json:"status"`
}

// Statuses sums the issued invoices a plan looked at (declared or not, within -target) by
// their status (docs/planning.md, "Status"). Paid is confirmed; open is created, pending and
// processing (and an unknown status, which counts as created); failed and cancelled invoices
// are counted, in neither total. Pending records (an interrupted create) are not invoices yet
// and are left out.
type Statuses struct {
	Paid      []StatusTotal `json:"paid"`
	Open      []StatusTotal `json:"open"`
	Failed    int           `json:"failed"`
	Cancelled int           `json:"cancelled"`
	// Unchanged counts the unchanged invoices per status (an unknown one as "created").
	Unchanged map[string]int `json:"unchanged"`

	paid, open invoice.Totals
}

// StatusTotal is the exact sum of one status group's amounts in one currency.
type StatusTotal struct {
	Currency string         `json:"currency"`
	Count    int            `json:"count"`
	Total    invoice.Amount `json:"total"`
}

// statusOrder is the order statuses are listed in.
var statusOrder = []string{state.StatusCreated, state.StatusPending, state.StatusProcessing, state.StatusConfirmed, state.StatusFailed, "cancelled"}

// effectiveStatus is the status a plan counts a record under: "cancelled" for a cancelled
// one, "created" for an unknown one.
func effectiveStatus(phase state.Phase, status string) string {
	switch {
	case phase == state.Cancelled || status == "cancelled":
		return "cancelled"
	case status == "":
		return state.StatusCreated
	}
	return status
}

// merge adds what o counted after what s counted (as if s had counted them next).
func (s *Statuses) merge(o *Statuses) {
	s.Cancelled += o.Cancelled
	s.Failed += o.Failed
	s.paid.Merge(&o.paid)
	s.open.Merge(&o.open)
}

// add counts r; inv is the invoice that declares it, or nil.
func (s *Statuses) add(r *state.Record, inv *config.Invoice) {
	if r.Phase == state.Pending {
		return
	}
	st := effectiveStatus(r.Phase, r.Status)
	var t *invoice.Totals
	switch st {
	case "cancelled":
		s.Cancelled++
		return
	case state.StatusFailed:
		s.Failed++
		return
	case state.StatusConfirmed:
		t = &s.paid
	case state.StatusCreated, state.StatusPending, state.StatusProcessing:
		t = &s.open
	default:
		return
	}
	if cur, a, ok := declaredMoney(r, inv); ok {
		t.Add("", cur, a, r.ForeignID)
	}
}

func (s *Statuses) finish(changes []*Change) {
	conv := func(t *invoice.Totals) []StatusTotal {
		out := []StatusTotal{}
		for _, x := range t.List(nil) {
			out = append(out, StatusTotal{Currency: x.Currency, Count: x.Count, Total: x.Sum})
		}
		return out
	}
	s.Paid, s.Open = conv(&s.paid), conv(&s.open)
	s.paid, s.open = invoice.Totals{}, invoice.Totals{}
	s.Unchanged = map[string]int{}
	s.normalize()
	for _, c := range changes {
		if c.Action == NoOp && c.Status != "" {
			s.Unchanged[c.Status]++
		}
	}
}

// IsZero reports whether no issued invoice was counted.
func (s *Statuses) IsZero() bool {
	return len(s.Paid) == 0 && len(s.Open) == 0 && s.Failed == 0 && s.Cancelled == 0
}

// byStatus writes counts per status in statusOrder, e.g. "2 confirmed, 1 failed".
func byStatus(counts map[string]int) string {
	var parts []string
	for _, st := range statusOrder {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	for st, n := range counts {
		if n > 0 && !contains(statusOrder, st) {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	return strings.Join(parts, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SettledLine is the one line for the settled invoices, or "" when there are none:
// "3 settled invoices no longer declared: 2 confirmed, 1 failed."
func SettledLine(settled []Settled) string {
	if len(settled) == 0 {
		return ""
	}
	counts := map[string]int{}
	for _, s := range settled {
		counts[s.Status]++
	}
	tail := "They are over, not changes: nothing will be done with them."
	if len(settled) == 1 {
		tail = "It is over, not a change: nothing will be done with it."
	}
	return fmt.Sprintf("%s no longer declared: %s. %s", count(len(settled), "settled invoice", "settled invoices"), byStatus(counts), tail)
}

// StatusLines are the human lines of the statuses: the totals paid and open per currency,
// and the unchanged invoices per status. None when no issued invoice was counted.
func StatusLines(s *Statuses) []string {
	if s.IsZero() {
		return nil
	}
	money := func(ts []StatusTotal) string {
		if len(ts) == 0 {
			return "none"
		}
		var parts []string
		for _, t := range ts {
			parts = append(parts, fmt.Sprintf("%s %s (%d)", t.Currency, invoice.FormatMoney(t.Currency, t.Total), t.Count))
		}
		return strings.Join(parts, ", ")
	}
	line := fmt.Sprintf("Status: paid %s; open %s", money(s.Paid), money(s.Open))
	if s.Failed > 0 || s.Cancelled > 0 {
		line += "; " + byStatus(map[string]int{state.StatusFailed: s.Failed, "cancelled": s.Cancelled})
	}
	lines := []string{line + "."}
	if u := byStatus(s.Unchanged); u != "" {
		lines = append(lines, "Unchanged by status: "+u+".")
	}
	return lines
}

// normalize makes the lists and the map non-nil, so the JSON has [] and {} rather than null.
func (s *Statuses) normalize() {
	if s.Paid == nil {
		s.Paid = []StatusTotal{}
	}
	if s.Open == nil {
		s.Open = []StatusTotal{}
	}
	if s.Unchanged == nil {
		s.Unchanged = map[string]int{}
	}
}

// declaredMoney is RecordMoney(r), read from the declaring invoice's body when the record
// has no amount of the API's (adopted, no callback yet) and inv's body hashes to r's: the
// very same bytes, which a record read as a summary (SnapshotOptions) does not carry.
func declaredMoney(r *state.Record, inv *config.Invoice) (currency string, amount invoice.Amount, ok bool) {
	if r.Amount == "" && inv != nil && inv.Hash == r.BodyHash {
		return invoice.Money(inv.Body)
	}
	return RecordMoney(r)
}
