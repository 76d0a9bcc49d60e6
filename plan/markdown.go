package plan

import (
	"fmt"
	"io"
	"strings"

	"github.com/invoiceform/invoiceform/diagview"
	"github.com/invoiceform/invoiceform/invoice"
)

// MaxMarkdown is the size the Markdown view stays under, in bytes (so in characters too):
// GitHub refuses comments over 65,536 characters.
const MaxMarkdown = 60000

// Budgets inside MaxMarkdown: the diagnostics and the change list are each cut with
// "and N more" when they would exceed theirs; the rest (title, tables, hash) is small and
// bounded by the number of currencies.
const (
	mdDiagBudget    = 20000
	mdChangesBudget = 30000
)

// WriteMarkdown writes the pull-request comment: the closing line, the table per currency,
// the counts per action, conflicts and warnings, the folded list of changes, the plan hash.
func WriteMarkdown(w io.Writer, d *Document) error {
	var b strings.Builder
	s := d.Summary
	b.WriteString("### invoiceform plan\n\n")
	fmt.Fprintf(&b, "**%s**\n\n", mdEscape(SummaryLine(d)))
	if ep := d.Binding.Endpoint; ep != "" {
		fmt.Fprintf(&b, "Endpoint: `%s`", mdCode(ep))
		if fp := d.Binding.KeyFingerprint; fp != "" {
			fmt.Fprintf(&b, " · API key fingerprint `%s`", mdCode(fp))
		}
		b.WriteString("\n\n")
	}
	if s.ErrorCount > 0 {
		fmt.Fprintf(&b, "> [!CAUTION]\n> The plan has %s and cannot be applied.\n\n", count(s.ErrorCount, "error", "errors"))
	}
	if len(d.Totals) > 0 {
		b.WriteString("| Action | Currency | Count | Total | Largest invoice |\n|---|---|--:|--:|---|\n")
		for _, t := range d.Totals {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s (`%s`) |\n", t.Action, mdEscape(t.Currency), t.Count,
				invoice.FormatMoney(t.Currency, t.total), invoice.FormatMoney(t.Currency, t.largest), mdCode(t.LargestForeignID))
		}
		b.WriteString("\n")
	}
	b.WriteString("| | Action | Count |\n|---|---|--:|\n")
	for _, a := range actions {
		n := map[Action]int{Create: s.Create, Cancel: s.Cancel, Resolve: s.Resolve, NoOp: s.NoOp, Conflict: s.Conflict, Undeclared: s.Undeclared}[a]
		name := a.String()
		if a == NoOp {
			name = "unchanged"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %d |\n", a.Symbol(), name, n)
	}
	if s.Settled > 0 {
		// Undeclared invoices that are over (confirmed, failed, cancelled): not changes.
		fmt.Fprintf(&b, "| | settled, no longer declared | %d |\n", s.Settled)
	}
	b.WriteString("\n")

	if len(d.Diagnostics) > 0 {
		fmt.Fprintf(&b, "#### Errors and warnings (%d)\n\n", len(d.Diagnostics))
		mdDiagnostics(&b, d.Diagnostics, "plan")
	}

	changes := 0
	for _, c := range d.plan.Changes {
		if c.Action != NoOp {
			changes++
		}
	}
	fmt.Fprintf(&b, "<details><summary>Changes (%d; unchanged invoices are not listed)</summary>\n\n", changes)
	start, i := b.Len(), 0
	for _, a := range actions {
		if a == NoOp {
			continue
		}
		for k, c := range d.plan.Changes {
			if c.Action != a {
				continue
			}
			line := mdChange(d, k)
			if b.Len()-start+len(line) > mdChangesBudget {
				fmt.Fprintf(&b, "- … and %d more (`invoiceform plan -json` lists every change)\n", changes-i)
				goto done
			}
			b.WriteString(line)
			i++
		}
	}
done:
	if changes == 0 {
		b.WriteString("No changes.\n")
	}
	b.WriteString("\n</details>\n\n")
	fmt.Fprintf(&b, "Plan hash: `%s` · config hash: `%s` · state serial %d\n", d.PlanHash, d.ConfigHash, d.State.Serial)
	_, err := io.WriteString(w, b.String())
	return err
}

// mdDiagnostics writes the list of diagnostics, cut at mdDiagBudget: severity and summary in
// bold, the file and line, the detail.
func mdDiagnostics(b *strings.Builder, diags []diagview.Diagnostic, cmd string) {
	start := b.Len()
	for i, dg := range diags {
		var item strings.Builder
		fmt.Fprintf(&item, "- **%s: %s**", dg.Severity, mdEscape(dg.Summary))
		if dg.Range != nil {
			fmt.Fprintf(&item, " · `%s:%d`", mdCode(dg.Range.Filename), dg.Range.Start.Line)
		}
		if dg.Detail != "" {
			fmt.Fprintf(&item, ": %s", mdEscape(dg.Detail))
		}
		item.WriteString("\n")
		if b.Len()-start+item.Len() > mdDiagBudget {
			fmt.Fprintf(b, "- … and %d more: run `invoiceform %s` to see them all\n", len(diags)-i, cmd)
			break
		}
		b.WriteString(item.String())
	}
	b.WriteString("\n")
}

// WriteMarkdownDiagnostics writes the pull-request comment of a configuration that did not
// load, so that a pipeline posts the Markdown whatever happened: a CAUTION box and the
// diagnostics, as WriteMarkdown lists a plan's.
func WriteMarkdownDiagnostics(w io.Writer, diags []diagview.Diagnostic) error {
	var b strings.Builder
	errs := 0
	for _, dg := range diags {
		if dg.Severity == "error" {
			errs++
		}
	}
	b.WriteString("### invoiceform plan\n\n")
	fmt.Fprintf(&b, "> [!CAUTION]\n> The configuration does not load (%s), so there is no plan.\n\n", count(errs, "error", "errors"))
	fmt.Fprintf(&b, "#### Errors and warnings (%d)\n\n", len(diags))
	mdDiagnostics(&b, diags, "validate")
	_, err := io.WriteString(w, b.String())
	return err
}

func mdChange(d *Document, i int) string {
	c := d.plan.Changes[i]
	var b strings.Builder
	fmt.Fprintf(&b, "- `%s %s`", c.Action.Symbol(), mdCode(c.ForeignID))
	if a := c.Address(); a != "" {
		fmt.Fprintf(&b, " %s", mdEscape(a))
	}
	if cur, amt, ok := c.Money(); ok {
		fmt.Fprintf(&b, " — %s %s", mdEscape(cur), invoice.FormatMoney(cur, amt))
	}
	if c.Reason != "" {
		// After a middle dot, not in parentheses: a reason may hold its own.
		fmt.Fprintf(&b, " · %s", mdEscape(c.Reason))
	}
	b.WriteString("\n")
	return b.String()
}

// mdEscape keeps text from becoming markup: HTML, table pipes and line breaks.
var mdReplacer = strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;", "|", "\\|", "\n", " ", "\r", " ", "`", "'", "*", "\\*", "[", "\\[", "]", "\\]")

func mdEscape(s string) string { return mdReplacer.Replace(s) }

// mdCode makes text safe inside a code span: no backticks, no line breaks, no pipes.
var mdCodeReplacer = strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "|", "¦")

func mdCode(s string) string { return mdCodeReplacer.Replace(s) }
