package plan

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// StateSummary is what `show` says of a state without a plan file, and `show -json`'s
// document (README, "Planning"): lineage, serial, binding, records per phase and status, and
// totals per phase and currency.
type StateSummary struct {
	Path    string        `json:"path"`
	Exists  bool          `json:"exists"`
	Lineage string        `json:"lineage"`
	Serial  uint64        `json:"serial"`
	Binding state.Binding `json:"binding"`
	Records int           `json:"records"`
	Phases  []PhaseCount  `json:"phases"`
	Totals  []StateTotal  `json:"totals"`
}

// PhaseCount counts the records of one phase and status.
type PhaseCount struct {
	Phase  state.Phase `json:"phase"`
	Status string      `json:"status,omitempty"`
	Count  int         `json:"count"`
}

// StateTotal sums the amounts of one phase in one currency: the API's amount, or the
// requested one while it is unknown.
type StateTotal struct {
	Phase    state.Phase `json:"phase"`
	Currency string      `json:"currency"`
	Count    int         `json:"count"`
	Total    string      `json:"total"`
	total    invoice.Amount
}

// Display is the total written with the currency's places, as tables show it.
func (t StateTotal) Display() string { return invoice.FormatMoney(t.Currency, t.total) }

// SummarizeState summarises snap; where names the state in the summary, and exists says
// whether there is a state at all (a missing one is summarised as empty).
func SummarizeState(where string, snap *state.Snapshot, exists bool) *StateSummary {
	s := &StateSummary{Path: where, Exists: exists, Lineage: snap.Lineage, Serial: snap.Serial, Binding: snap.Binding,
		Records: len(snap.Records), Phases: []PhaseCount{}, Totals: []StateTotal{}}
	phases := map[[2]string]int{}
	var totals invoice.Totals
	for _, r := range snap.Records {
		phases[[2]string{string(r.Phase), r.Status}]++
		if currency, a, ok := RecordMoney(r); ok {
			totals.Add(string(r.Phase), currency, a, r.ForeignID)
		}
	}
	for k, n := range phases {
		s.Phases = append(s.Phases, PhaseCount{state.Phase(k[0]), k[1], n})
	}
	sort.Slice(s.Phases, func(i, j int) bool {
		a, b := s.Phases[i], s.Phases[j]
		return a.Phase < b.Phase || a.Phase == b.Phase && a.Status < b.Status
	})
	for _, t := range totals.List(nil) {
		s.Totals = append(s.Totals, StateTotal{Phase: state.Phase(t.Group), Currency: t.Currency, Count: t.Count, Total: t.Sum.String(), total: t.Sum})
	}
	return s
}

// WriteStateSummaryText writes the summary as tables for people.
func WriteStateSummaryText(w io.Writer, s *StateSummary) error {
	if !s.Exists {
		_, err := fmt.Fprintf(w, "No state at %s: nothing has been applied here yet.\n", s.Path)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "state:\t%s\n", s.Path)
	fmt.Fprintf(tw, "lineage:\t%s\n", s.Lineage)
	fmt.Fprintf(tw, "serial:\t%d\n", s.Serial)
	fmt.Fprintf(tw, "endpoint:\t%s\n", dash(s.Binding.Endpoint))
	fmt.Fprintf(tw, "key fingerprint:\t%s\n", dash(s.Binding.KeyFingerprint))
	fmt.Fprintf(tw, "records:\t%d\n", s.Records)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Phases) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PHASE\tSTATUS\tCOUNT")
		for _, p := range s.Phases {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", p.Phase, dash(p.Status), p.Count)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(s.Totals) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "PHASE\tCURRENCY\tCOUNT\tTOTAL\t")
		for _, t := range s.Totals {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t\n", t.Phase, t.Currency, t.Count, t.Display())
		}
		return tw.Flush()
	}
	return nil
}

// WriteStateSummaryMarkdown writes the summary as a pull-request comment.
func WriteStateSummaryMarkdown(w io.Writer, s *StateSummary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### invoiceform state\n\n")
	if !s.Exists {
		fmt.Fprintf(&b, "No state: nothing has been applied here yet.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "Lineage `%s`, serial %d, endpoint `%s`, key fingerprint `%s`: %d records.\n\n", s.Lineage, s.Serial, dash(s.Binding.Endpoint), dash(s.Binding.KeyFingerprint), s.Records)
	b.WriteString("| Phase | Status | Count |\n|---|---|--:|\n")
	for _, p := range s.Phases {
		fmt.Fprintf(&b, "| %s | %s | %d |\n", p.Phase, dash(p.Status), p.Count)
	}
	if len(s.Totals) > 0 {
		b.WriteString("\n| Phase | Currency | Count | Total |\n|---|---|--:|--:|\n")
		for _, t := range s.Totals {
			fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", t.Phase, t.Currency, t.Count, t.Display())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// StateEntry is one element of `state list -json` (README, "State").
type StateEntry struct {
	ForeignID string      `json:"foreign_id"`
	Phase     state.Phase `json:"phase"`
	Status    string      `json:"status,omitempty"`
	Amount    string      `json:"amount,omitempty"`
	Currency  string      `json:"currency,omitempty"`
	ID        int64       `json:"id,omitempty"`
	URL       string      `json:"url,omitempty"`
	IssuedAt  *time.Time  `json:"issued_at,omitempty"`
	PaidAt    *time.Time  `json:"paid_at,omitempty"`
}

// ListState lists the records of snap by foreign_id. The amount is the API's answer or, for
// a record the API has not answered, the amount requested.
func ListState(snap *state.Snapshot) []StateEntry {
	entries := []StateEntry{}
	for _, r := range state.SortedRecords(snap) {
		amount, currency := r.Amount, r.Currency
		if amount == "" {
			if cur, a, ok := invoice.Money(r.Body); ok {
				amount, currency = a.String(), cur
			}
		}
		le := StateEntry{ForeignID: r.ForeignID, Phase: r.Phase, Status: r.Status, Amount: amount, Currency: currency, ID: r.ID, URL: r.URL}
		if !r.IssuedAt.IsZero() {
			t := r.IssuedAt.UTC()
			le.IssuedAt = &t
		}
		if !r.PaidAt.IsZero() {
			t := r.PaidAt.UTC()
			le.PaidAt = &t
		}
		entries = append(entries, le)
	}
	return entries
}

// WriteStateListText writes the entries as a table.
func WriteStateListText(w io.Writer, entries []StateEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FOREIGN_ID\tPHASE\tSTATUS\tAMOUNT\tID\tISSUED\tURL")
	for _, le := range entries {
		id, issued := "-", "-"
		if le.ID != 0 {
			id = fmt.Sprint(le.ID)
		}
		if le.IssuedAt != nil {
			issued = le.IssuedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", le.ForeignID, le.Phase, dash(le.Status), dash(strings.TrimSpace(le.Amount+" "+le.Currency)), id, issued, dash(le.URL))
	}
	return tw.Flush()
}

// CSVHeader is the header row of `state list -format csv`.
var CSVHeader = []string{"foreign_id", "status", "currency", "amount", "url", "issued_at", "paid_at"}

// CSVStatus is the status column of `state list -format csv`, which has no phase column:
// the API's status (created, pending, processing, confirmed, failed); "cancelled" for a
// cancelled invoice; "unknown" for an issued one whose status is not known (adopted, no
// callback yet); "not_issued" for a create still pending from an interrupted apply.
func CSVStatus(le StateEntry) string {
	switch {
	case le.Phase == state.Pending:
		return "not_issued"
	case le.Phase == state.Cancelled || le.Status == "cancelled":
		return "cancelled"
	case le.Status == "":
		return "unknown"
	}
	return le.Status
}

// WriteStateListCSV writes the entries as RFC 4180 CSV (CRLF line ends, a header row), for
// mail merges and accounting. No personal data: the request's email_user and sender_data are
// not columns. Text cells that a spreadsheet would take for a formula (starting with =, +, -,
// @, a tab or a carriage return) are prefixed with a single quote; amounts are decimal
// numbers and never prefixed.
func WriteStateListCSV(w io.Writer, entries []StateEntry) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, le := range entries {
		row := []string{csvText(le.ForeignID), csvText(CSVStatus(le)), csvText(le.Currency), le.Amount, csvText(le.URL), stamp(le.IssuedAt), stamp(le.PaidAt)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText guards a text cell against formula injection in spreadsheets (OWASP "CSV
// Injection"): a cell starting with = + - @ TAB or CR gets a leading single quote.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteUnknownText writes the unknown callbacks (`state list -unknown`) as a table.
func WriteUnknownText(w io.Writer, unknown []*state.UnknownCallback) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED\tFOREIGN_ID\tID\tSTATUS\tRECEIVED_AMOUNT\tERROR")
	for _, u := range unknown {
		id := "-"
		if u.InvoiceID != 0 {
			id = fmt.Sprint(u.InvoiceID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ReceivedAt.UTC().Format(time.RFC3339), oneLine(u.ForeignID), id, u.Status,
			dash(strings.TrimSpace(u.ReceivedAmount+" "+u.ReceivedCurrency)), dash(oneLine(u.Error)))
	}
	return tw.Flush()
}

// oneLine keeps a text from breaking a table: control characters become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// RecordMoney is a record's currency and exact amount: the API's answer, or the requested ones
// while the answer is unknown.
func RecordMoney(r *state.Record) (currency string, amount invoice.Amount, ok bool) {
	if r.Amount != "" {
		a, err := invoice.ParseAmount(r.Amount)
		return r.Currency, a, err == nil && r.Currency != ""
	}
	return invoice.Money(r.Body)
}
