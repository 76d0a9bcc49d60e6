package plan

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/invoiceform/invoiceform/invoice"
)

// MaxListed bounds how many changes of one action are printed in full; the rest are counted
// in a line saying "-json" lists them. Unchanged invoices are never listed, only counted
// (the JSON view lists them).
const MaxListed = 1000

// TextOptions are the human view's own settings.
type TextOptions struct {
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiGreen  = "\x1b[32m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
)

func actionColor(a string) string {
	switch a {
	case "create":
		return ansiGreen
	case "cancel", "conflict":
		return ansiRed
	case "resolve", "undeclared":
		return ansiYellow
	}
	return ansiDim
}

// WriteText writes the human view: each change with its symbol and attributes (unchanged
// invoices are counted, not listed), the line of settled invoices, the statuses, then the
// closing "Plan: ..." line. Diagnostics are not written here: the command renders them with
// their source snippets (diagview) on standard error.
func WriteText(w io.Writer, d *Document, opts TextOptions) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	paint := func(color, s string) string {
		if !opts.Color {
			return s
		}
		return color + s + ansiReset
	}
	s := d.Summary
	listing := false
	for _, c := range d.plan.Changes {
		listing = listing || c.Action != NoOp
	}
	if d.Len() == 0 && len(d.plan.Settled) == 0 && s.ErrorCount == 0 { // with errors (an unknown -target), they say why
		fmt.Fprintln(bw, "No invoices are declared or recorded.")
	} else if listing {
		fmt.Fprintln(bw, "invoiceform will perform the following actions. Symbols:")
		fmt.Fprintln(bw, "  + create   - cancel   ? resolve   ! conflict   ~ undeclared   = unchanged")
		fmt.Fprintln(bw)
	}
	listed := map[Action]int{}
	skipped := map[Action]int{}
	for _, a := range actions {
		if a == NoOp {
			continue
		}
		for i, c := range d.plan.Changes {
			if c.Action != a {
				continue
			}
			if a != Conflict && listed[a] >= MaxListed {
				skipped[a]++
				continue
			}
			listed[a]++
			dc := d.Change(i)
			writeChange(bw, dc, paint)
		}
		if n := skipped[a]; n > 0 {
			fmt.Fprintf(bw, "  %s\n\n", paint(actionColor(a.String()), fmt.Sprintf("%s ... and %d more to %s (-json lists every change)", a.Symbol(), n, a)))
		}
	}
	if l := SettledLine(d.plan.Settled); l != "" {
		fmt.Fprintln(bw, l)
	}
	for _, l := range StatusLines(&d.plan.Statuses) {
		fmt.Fprintln(bw, l)
	}
	if len(d.plan.Settled) > 0 || !d.plan.Statuses.IsZero() {
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, paint(ansiBold, SummaryLine(d)))
	if s.ErrorCount > 0 {
		fmt.Fprintf(bw, "The plan has %s: it cannot be applied until %s fixed.\n", count(s.ErrorCount, "error", "errors"), map[bool]string{true: "it is", false: "they are"}[s.ErrorCount == 1])
	}
	return bw.Flush()
}

func writeChange(w io.Writer, dc DocChange, paint func(string, string) string) {
	head := dc.ForeignID
	if dc.Address != "" {
		head = fmt.Sprintf("%s (foreign_id %s)", dc.Address, dc.ForeignID)
	}
	line := fmt.Sprintf("%s %s", dc.Symbol, head)
	if dc.Reason != "" {
		line += paint(ansiDim, "  # "+dc.Reason)
	} else if dc.Action == "conflict" {
		line += paint(ansiDim, "  # the request differs from the recorded one; see the error")
	}
	fmt.Fprintf(w, "  %s\n", paint(actionColor(dc.Action), line))
	if b := dc.Before; b != nil && dc.Action != "no-op" {
		var parts []string
		parts = append(parts, "phase "+string(b.Phase))
		if b.Status != "" {
			parts = append(parts, "status "+b.Status)
		}
		if b.ID != 0 {
			parts = append(parts, fmt.Sprintf("id %d", b.ID))
		}
		if b.Amount != "" {
			parts = append(parts, "amount "+b.Amount+" "+b.Currency)
		}
		fmt.Fprintf(w, "      %s\n", paint(ansiDim, "state: "+strings.Join(parts, ", ")))
	}
	if dc.After == nil && dc.BodyHash != "" && (dc.Action == "create" || dc.Action == "resolve") {
		// A saved plan without its configuration: what the review showed, and the hash the
		// body rebuilt from the configuration must have.
		if dc.Currency != "" {
			if a, err := invoice.ParseAmount(dc.Amount); err == nil {
				fmt.Fprintf(w, "      amount    = %s %s\n", dc.Currency, invoice.FormatMoney(dc.Currency, a))
			}
		}
		fmt.Fprintf(w, "      body_hash = %s\n", dc.BodyHash)
	}
	if dc.After != nil && (dc.Action == "create" || dc.Action == "resolve") {
		fields, ok := Fields(dc.After)
		if !ok {
			fmt.Fprintf(w, "      body = %s\n", dc.After)
		}
		width := 0
		for _, f := range fields {
			width = max(width, len(f.Name))
		}
		for _, f := range fields {
			// Values as written in HCL: amount = 1234.5, no separators (the summary has them).
			v := string(f.Value)
			if v == `"(sensitive)"` {
				v = "(sensitive)"
			}
			fmt.Fprintf(w, "      %-*s = %s\n", width, f.Name, v)
		}
	}
	if dc.Action != "no-op" {
		fmt.Fprintln(w)
	}
}

// SummaryLine is the closing line, with exact totals per currency for creates, e.g.
// "Plan: 12 to create (EUR 1,234.50; BTC 0.50000000), 340 unchanged, 1 to cancel."
func SummaryLine(d *Document) string {
	s := d.Summary
	money := func(action string) string {
		var parts []string
		for _, t := range d.Totals {
			if t.Action == action {
				parts = append(parts, t.Currency+" "+invoice.FormatMoney(t.Currency, t.total))
			}
		}
		if len(parts) == 0 {
			return ""
		}
		return " (" + strings.Join(parts, "; ") + ")"
	}
	var parts []string
	if s.Conflict > 0 {
		parts = append(parts, count(s.Conflict, "conflict", "conflicts"))
	}
	if s.Resolve > 0 {
		parts = append(parts, fmt.Sprintf("%d to resolve%s", s.Resolve, money("resolve")))
	}
	parts = append(parts, fmt.Sprintf("%d to create%s", s.Create, money("create")))
	parts = append(parts, fmt.Sprintf("%d unchanged", s.NoOp))
	parts = append(parts, fmt.Sprintf("%d to cancel", s.Cancel))
	if s.Undeclared > 0 {
		parts = append(parts, fmt.Sprintf("%d undeclared", s.Undeclared))
	}
	if s.Settled > 0 {
		parts = append(parts, fmt.Sprintf("%d settled", s.Settled))
	}
	prefix := "Plan: "
	if !s.HasChanges && s.Conflict == 0 && s.ErrorCount == 0 {
		prefix = "No changes. Plan: "
	}
	return prefix + strings.Join(parts, ", ") + "."
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
