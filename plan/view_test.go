package plan_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// everyAction is a small plan with every action and a warning, and no errors: a conflict is
// in its own plan (conflictPlan), so that this one can also be saved to a file.
func everyAction() *plan.Plan {
	invs, snap, opts := everyActionInputs()
	return plan.Make(invs, snap, opts)
}

// everyActionInputs are the configuration, state and options everyAction is made from.
func everyActionInputs() ([]*config.Invoice, *state.Snapshot, plan.Options) {
	sd := func(r *invoice.Request) {
		r.SenderType = "natural"
		r.SenderData = &invoice.SenderData{FirstName: "Friedrich", LastName: "Müller", DateOfBirth: "1995-08-17"}
	}
	create1 := inv("order-1", "EUR", "1234.5", sd)
	create2 := inv("order-2", "BTC", "0.5")
	same := inv("order-3", "USD", "10")
	cancel := cancelled(inv("order-4", "EUR", "250"))
	pending := inv("order-5", "EUR", "99.99")
	gone := inv("order-6", "USD", "5")
	never := cancelled(inv("order-7", "EUR", "1"))
	// Undeclared and over (settled: one line), undeclared and being paid, declared and paid.
	paid, lost, paying, kept := inv("order-8", "EUR", "40"), inv("order-9", "USD", "7"), inv("order-p", "BTC", "0.25"), inv("order-k", "EUR", "1234.5")
	snap := snapshot(rec(same, state.Issued, "created"), rec(inv("order-4", "EUR", "250"), state.Issued, "created"),
		rec(pending, state.Pending, ""), rec(gone, state.Issued, "created"),
		rec(paid, state.Issued, "confirmed"), rec(lost, state.Issued, "failed"), rec(paying, state.Issued, "processing"), rec(kept, state.Issued, "confirmed"))
	snap.Records["order-4"].ID = 9001
	snap.Binding.KeyFingerprint = "db6bcf6a2a36ee93"
	return []*config.Invoice{create1, create2, same, cancel, pending, never, kept}, snap,
		plan.Options{Endpoint: "https://app.sandbox.cryptoprocessing.com/api/v2", KeyFingerprint: "db6bcf6a2a36ee93"}
}

func conflictPlan() *plan.Plan {
	return plan.Make([]*config.Invoice{inv("order-1", "EUR", "99")}, snapshot(rec(inv("order-1", "EUR", "10"), state.Issued, "created")), plan.Options{})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		must(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got; go test ./plan -update to accept):\n%s", path, diff)
	}
}

func render(t *testing.T, p *plan.Plan, view string, opts plan.ViewOptions) []byte {
	t.Helper()
	d := plan.NewDocument(p, opts)
	var b bytes.Buffer
	switch view {
	case "txt":
		must(t, plan.WriteText(&b, d, plan.TextOptions{}))
	case "json":
		must(t, plan.WriteJSON(&b, d))
	case "md":
		must(t, plan.WriteMarkdown(&b, d))
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, view := range []string{"txt", "json", "md"} {
		t.Run(view, func(t *testing.T) {
			out := render(t, everyAction(), view, plan.ViewOptions{})
			golden(t, "every-action."+view+".golden", out)
			for _, personal := range []string{"buyer@example.com", "Müller", "Friedrich"} {
				if bytes.Contains(out, []byte(personal)) {
					t.Errorf("%s view shows %q without -show-sensitive", view, personal)
				}
			}
			golden(t, "conflict."+view+".golden", render(t, conflictPlan(), view, plan.ViewOptions{}))
		})
	}
}

func TestShowSensitive(t *testing.T) {
	for _, view := range []string{"txt", "json"} {
		out := render(t, everyAction(), view, plan.ViewOptions{ShowSensitive: true})
		if !bytes.Contains(out, []byte("buyer@example.com")) || !bytes.Contains(out, []byte("Müller")) {
			t.Errorf("%s view with ShowSensitive hides personal data:\n%s", view, out)
		}
	}
}

func TestSummaryLine(t *testing.T) {
	got := plan.SummaryLine(plan.NewDocument(everyAction(), plan.ViewOptions{}))
	want := "Plan: 1 to resolve (EUR 99.99), 2 to create (BTC 0.50000000; EUR 1,234.50), 2 unchanged, 1 to cancel, 2 undeclared, 2 settled."
	if got != want {
		t.Errorf("SummaryLine = %q, want %q", got, want)
	}
	got = plan.SummaryLine(plan.NewDocument(plan.Make(nil, nil, plan.Options{}), plan.ViewOptions{}))
	if want := "No changes. Plan: 0 to create, 0 unchanged, 0 to cancel."; got != want {
		t.Errorf("SummaryLine = %q, want %q", got, want)
	}
}

// TestTotalsExact: sums of many amounts are exact, never float64.
func TestTotalsExact(t *testing.T) {
	var invs []*config.Invoice
	for i := 0; i < 1000; i++ {
		invs = append(invs, inv(fmt.Sprintf("x%04d", i), "BTC", "0.00000001"), inv(fmt.Sprintf("y%04d", i), "EUR", "0.1"))
	}
	d := plan.NewDocument(plan.Make(invs, nil, plan.Options{}), plan.ViewOptions{})
	got := map[string]string{}
	for _, tt := range d.Totals {
		got[tt.Currency] = tt.Total
	}
	if diff := cmp.Diff(map[string]string{"BTC": "0.00001", "EUR": "100"}, got); diff != "" {
		t.Error(diff)
	}
}

func bigPlan(n int) *plan.Plan {
	invs := make([]*config.Invoice, n)
	for i := range invs {
		invs[i] = inv(fmt.Sprintf("bench-%07d", i), []string{"EUR", "USD", "BTC"}[i%3], fmt.Sprintf("%d.%02d", 10+i%5000, i%100))
	}
	return plan.Make(invs, nil, plan.Options{})
}

func TestMarkdownSize(t *testing.T) {
	for _, n := range []int{5000, 100000} {
		out := render(t, bigPlan(n), "md", plan.ViewOptions{})
		if len(out) >= plan.MaxMarkdown {
			t.Errorf("%d creates: Markdown is %d bytes, want < %d", n, len(out), plan.MaxMarkdown)
		}
		if !bytes.Contains(out, []byte("more (`invoiceform plan -json` lists every change)")) {
			t.Errorf("%d creates: the change list is not truncated with \"and N more\"", n)
		}
		if !bytes.Contains(out, []byte(fmt.Sprintf("Plan: %d to create", n))) {
			t.Errorf("%d creates: no summary line", n)
		}
		if n == 5000 {
			golden(t, "creates-5000.md.size.golden", []byte(fmt.Sprintf("%d\n", len(out))))
		}
	}
}

// TestMarkdownManyDiagnostics: thousands of conflicts do not push the comment over the limit.
func TestMarkdownManyDiagnostics(t *testing.T) {
	var invs []*config.Invoice
	snap := snapshot()
	for i := 0; i < 5000; i++ {
		id := fmt.Sprintf("c%05d", i)
		snap.Records[id] = rec(inv(id, "EUR", "1"), state.Issued, "created")
		invs = append(invs, inv(id, "EUR", "2"))
	}
	out := render(t, plan.Make(invs, snap, plan.Options{}), "md", plan.ViewOptions{})
	if len(out) >= plan.MaxMarkdown {
		t.Errorf("Markdown is %d bytes", len(out))
	}
	if !bytes.Contains(out, []byte("more: run `invoiceform plan` to see them all")) {
		t.Error("diagnostics not truncated")
	}
}

func TestTextLargePlan(t *testing.T) {
	invs := make([]*config.Invoice, 0, 3000)
	snap := snapshot()
	for i := 0; i < 3000; i++ {
		in := inv(fmt.Sprintf("n%05d", i), "EUR", "1")
		invs = append(invs, in)
		if i < 1500 {
			snap.Records[in.ForeignID] = rec(in, state.Issued, "created")
		}
	}
	out := string(render(t, plan.Make(invs, snap, plan.Options{}), "txt", plan.ViewOptions{}))
	for _, want := range []string{
		"Unchanged by status: 1500 created.",
		"+ ... and 500 more to create (-json lists every change)",
		"Plan: 1500 to create (EUR 1,500.00), 1500 unchanged, 0 to cancel.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	// Unchanged invoices are counted, never listed (issue 16).
	if strings.Contains(out, "\n  = ") {
		t.Error("unchanged invoices listed")
	}
	if n := strings.Count(out, "\n  + invoice."); n != plan.MaxListed {
		t.Errorf("%d creates listed, want %d", n, plan.MaxListed)
	}
}

// TestJSONStable: the documented top-level names, and every change listed.
func TestJSONStable(t *testing.T) {
	var doc map[string]json.RawMessage
	must(t, json.Unmarshal(render(t, everyAction(), "json", plan.ViewOptions{}), &doc))
	var names []string
	for k := range doc {
		names = append(names, k)
	}
	want := []string{"binding", "bodies", "changes", "config_hash", "diagnostics", "format_version", "plan_hash", "prune", "settled", "state", "statuses", "summary", "totals"}
	if diff := cmp.Diff(want, names, cmpSorted); diff != "" {
		t.Error(diff)
	}
	var changes []any
	must(t, json.Unmarshal(doc["changes"], &changes))
	if len(changes) != 8 {
		t.Errorf("%d changes in JSON, want 8", len(changes))
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// TestSavedPlanViews: a saved plan verified against its configuration and state shows what
// the plan showed, byte for byte, in every view; attached to the configuration alone it shows
// the declared bodies (redacted as the plan did: the fast redaction of declared requests);
// without either it shows the review data and no body.
func TestSavedPlanViews(t *testing.T) {
	invs, snap, opts := everyActionInputs()
	p := plan.Make(invs, snap, opts)
	data, err := plan.Encode(p, now)
	must(t, err)
	read := func() *plan.Plan {
		saved, _, err := plan.Decode(data)
		must(t, err)
		return saved
	}
	for _, view := range []string{"txt", "json", "md"} {
		live := string(render(t, p, view, plan.ViewOptions{}))
		verified := read()
		must(t, plan.Verify(verified, invs, snap))
		if diff := cmp.Diff(live, string(render(t, verified, view, plan.ViewOptions{}))); diff != "" {
			t.Errorf("%s view of the verified saved plan differs:\n%s", view, diff)
		}
		attached := read()
		must(t, plan.Attach(attached, invs))
		golden(t, "every-action-saved-config."+view+".golden", render(t, attached, view, plan.ViewOptions{}))
		golden(t, "every-action-saved."+view+".golden", render(t, read(), view, plan.ViewOptions{}))
	}
}

// TestAppendChangeMatchesEncodingJSON: the hand-written encoder of changes writes what
// encoding/json writes, including strings that need escaping.
func TestAppendChangeMatchesEncodingJSON(t *testing.T) {
	odd := inv("odd", "EUR", "1", func(r *invoice.Request) { r.Title = "Quote \" back \\ tab \t é <b> \u2028" })
	odd.Address = `invoice.odd["k\"ey"]`
	p := plan.Make([]*config.Invoice{odd}, snapshot(rec(inv("gone", "EUR", "2"), state.Issued, "created")), plan.Options{})
	d := plan.NewDocument(p, plan.ViewOptions{})
	var out bytes.Buffer
	must(t, plan.WriteJSON(&out, d))
	var doc struct {
		Changes []json.RawMessage `json:"changes"`
	}
	must(t, json.Unmarshal(out.Bytes(), &doc))
	for i, raw := range doc.Changes {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		must(t, enc.Encode(d.Change(i)))
		if diff := cmp.Diff(strings.TrimSuffix(buf.String(), "\n"), string(raw)); diff != "" {
			t.Errorf("change %d (-encoding/json +WriteJSON):\n%s", i, diff)
		}
	}
}

func TestTextColor(t *testing.T) {
	d := plan.NewDocument(everyAction(), plan.ViewOptions{})
	var plain, color bytes.Buffer
	must(t, plan.WriteText(&plain, d, plan.TextOptions{}))
	must(t, plan.WriteText(&color, d, plan.TextOptions{Color: true}))
	if bytes.Contains(plain.Bytes(), []byte("\x1b[")) {
		t.Error("colour without Color")
	}
	if !bytes.Contains(color.Bytes(), []byte("\x1b[32m  + invoice.order-1")) && !bytes.Contains(color.Bytes(), []byte("\x1b[32m+ invoice.order-1")) {
		t.Errorf("creates not green:\n%q", color.String())
	}
}
