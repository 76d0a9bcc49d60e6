package plan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

type row struct {
	id     string
	action plan.Action
	reason string
}

func rows(p *plan.Plan) []row {
	var out []row
	for _, c := range p.Changes {
		out = append(out, row{c.ForeignID, c.Action, c.Reason})
	}
	return out
}

type diag struct {
	sev     hcl.DiagnosticSeverity
	summary string
	detail  string // a substring
}

func TestMake(t *testing.T) {
	a10 := inv("a", "EUR", "10")
	a99 := inv("a", "EUR", "99")
	aMail := inv("a", "EUR", "10", func(r *invoice.Request) { r.EmailUser = "other@example.com"; r.Title = "New" })
	tests := []struct {
		name     string
		invoices []*config.Invoice
		snap     *state.Snapshot
		opts     plan.Options
		want     []row
		diags    []diag
	}{
		{name: "declared, not in state: create",
			invoices: []*config.Invoice{a10}, snap: snapshot(),
			want: []row{{"a", plan.Create, ""}}},
		{name: "nil snapshot is an empty state",
			invoices: []*config.Invoice{a10},
			want:     []row{{"a", plan.Create, ""}}},
		{name: "same request: no-op",
			invoices: []*config.Invoice{a10}, snap: snapshot(rec(a10, state.Issued, "created")),
			want: []row{{"a", plan.NoOp, ""}}},
		{name: "request differs: conflict naming the field",
			invoices: []*config.Invoice{a99}, snap: snapshot(rec(a10, state.Issued, "created")),
			want:  []row{{"a", plan.Conflict, ""}},
			diags: []diag{{hcl.DiagError, "Issued invoice changed", "amount 10.00 → 99.00"}}},
		{name: "personal field differs: named without values",
			invoices: []*config.Invoice{aMail}, snap: snapshot(rec(a10, state.Issued, "created")),
			want:  []row{{"a", plan.Conflict, ""}},
			diags: []diag{{hcl.DiagError, "Issued invoice changed", `title "Order a" → "New"; email_user changed`}}},
		{name: "cancel = true, issued and open: cancel",
			invoices: []*config.Invoice{cancelled(inv("a", "EUR", "10"))}, snap: snapshot(rec(a10, state.Issued, "pending")),
			want: []row{{"a", plan.Cancel, "cancel = true"}}},
		{name: "cancel = true, status unknown (adopted): cancel",
			invoices: []*config.Invoice{cancelled(inv("a", "EUR", "10"))}, snap: snapshot(rec(a10, state.Issued, "")),
			want: []row{{"a", plan.Cancel, "cancel = true"}}},
		{name: "cancel = true, already cancelled: no-op",
			invoices: []*config.Invoice{cancelled(inv("a", "EUR", "10"))}, snap: snapshot(rec(a10, state.Cancelled, "cancelled")),
			want: []row{{"a", plan.NoOp, "already cancelled"}}},
		{name: "cancel = true, cancelled elsewhere (callback status): no-op",
			invoices: []*config.Invoice{cancelled(inv("a", "EUR", "10"))}, snap: snapshot(rec(a10, state.Issued, "cancelled")),
			want: []row{{"a", plan.NoOp, "already cancelled"}}},
		{name: "cancel = true, final status: no-op with a warning",
			invoices: []*config.Invoice{cancelled(inv("a", "EUR", "10"))}, snap: snapshot(rec(a10, state.Issued, "confirmed")),
			want:  []row{{"a", plan.NoOp, "status confirmed cannot be cancelled"}},
			diags: []diag{{hcl.DiagWarning, "Cancel of a finished invoice", `status "confirmed"`}}},
		{name: "cancel = true, never issued: warning, no action",
			invoices: []*config.Invoice{cancelled(inv("a", "EUR", "10"))}, snap: snapshot(),
			diags: []diag{{hcl.DiagWarning, "Cancel of an invoice that was never issued", `foreign_id "a" is not in the state`}}},
		{name: "undeclared open: reported, left alone",
			snap: snapshot(rec(a10, state.Issued, "created")),
			want: []row{{"a", plan.Undeclared, "not declared; left open (-prune would cancel it)"}}},
		{name: "undeclared open with -prune: cancel",
			snap: snapshot(rec(a10, state.Issued, "created")), opts: plan.Options{Prune: true},
			want: []row{{"a", plan.Cancel, "not declared; -prune"}}},
		// Settled (final or cancelled) undeclared invoices are not changes at all since issue
		// 15: Plan.Settled holds them (TestPruneDecisions).
		{name: "undeclared final with -prune: settled, not a change",
			snap: snapshot(rec(a10, state.Issued, "confirmed")), opts: plan.Options{Prune: true}},
		{name: "undeclared cancelled with -prune: settled, not a change",
			snap: snapshot(rec(a10, state.Cancelled, "cancelled")), opts: plan.Options{Prune: true}},
		{name: "pending, declared the same: resolve",
			invoices: []*config.Invoice{a10}, snap: snapshot(rec(a10, state.Pending, "")),
			want: []row{{"a", plan.Resolve, "pending from an interrupted apply"}}},
		{name: "pending, undeclared: resolve",
			snap: snapshot(rec(a10, state.Pending, "")),
			want: []row{{"a", plan.Resolve, "pending from an interrupted apply; no longer declared"}}},
		{name: "pending, declared differently: conflict, the pending body wins",
			invoices: []*config.Invoice{a99}, snap: snapshot(rec(a10, state.Pending, "")),
			want:  []row{{"a", plan.Conflict, ""}},
			diags: []diag{{hcl.DiagError, "Pending invoice changed", "resolve it first"}}},
		{name: "pending with cancel = true: resolve first",
			invoices: []*config.Invoice{cancelled(inv("a", "EUR", "10"))}, snap: snapshot(rec(a10, state.Pending, "")),
			want: []row{{"a", plan.Resolve, "pending from an interrupted apply; cancel once it is resolved"}}},
		{name: "-target limits the plan to declared and recorded ids",
			invoices: []*config.Invoice{inv("b", "EUR", "1"), inv("c", "EUR", "2")},
			snap:     snapshot(rec(a10, state.Issued, "created"), rec(inv("d", "EUR", "3"), state.Pending, "")),
			opts:     plan.Options{Targets: []string{"c", "a", "c"}},
			want:     []row{{"a", plan.Undeclared, "not declared; left open (-prune would cancel it)"}, {"c", plan.Create, ""}}},
		{name: "unknown -target is an error",
			invoices: []*config.Invoice{a10}, opts: plan.Options{Targets: []string{"nope"}},
			diags: []diag{{hcl.DiagError, "Unknown target", "-target=nope"}}},
		{name: "changes sorted by foreign_id",
			invoices: []*config.Invoice{inv("z", "EUR", "1"), inv("m", "BTC", "0.1")},
			snap:     snapshot(rec(a10, state.Issued, "created")),
			want:     []row{{"a", plan.Undeclared, "not declared; left open (-prune would cancel it)"}, {"m", plan.Create, ""}, {"z", plan.Create, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan.Make(tt.invoices, tt.snap, tt.opts)
			if diff := cmp.Diff(tt.want, rows(p), cmp.AllowUnexported(row{})); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if len(p.Diagnostics) != len(tt.diags) {
				t.Fatalf("%d diagnostics, want %d: %v", len(p.Diagnostics), len(tt.diags), p.Diagnostics)
			}
			for i, d := range tt.diags {
				got := p.Diagnostics[i]
				if got.Severity != d.sev || got.Summary != d.summary || !strings.Contains(got.Detail, d.detail) {
					t.Errorf("diagnostic %d = %v %q %q, want %v %q containing %q", i, got.Severity, got.Summary, got.Detail, d.sev, d.summary, d.detail)
				}
				if strings.Contains(got.Detail, "buyer@example.com") || strings.Contains(got.Detail, "other@example.com") {
					t.Errorf("diagnostic shows personal data: %s", got.Detail)
				}
			}
		})
	}
}

func TestMakeBinding(t *testing.T) {
	s := snapshot()
	s.Binding.KeyFingerprint = "aaaa"
	for _, tt := range []struct {
		opts plan.Options
		want string
	}{
		{plan.Options{Endpoint: s.Binding.Endpoint, KeyFingerprint: "aaaa"}, ""},
		{plan.Options{Endpoint: s.Binding.Endpoint}, ""}, // no key in the environment: nothing to compare
		{plan.Options{Endpoint: "https://app.cryptoprocessing.com/api/v2"}, "State belongs to another endpoint"},
		{plan.Options{Endpoint: s.Binding.Endpoint, KeyFingerprint: "bbbb"}, "State belongs to another API key"},
	} {
		p := plan.Make(nil, s, tt.opts)
		got := ""
		if len(p.Diagnostics) > 0 {
			got = p.Diagnostics[0].Summary
		}
		if got != tt.want || len(p.Diagnostics) > 1 {
			t.Errorf("%+v: diagnostics %v, want %q", tt.opts, p.Diagnostics, tt.want)
		}
	}
}

func TestMakeSnapshotFields(t *testing.T) {
	s := snapshot()
	s.Serial = 42
	p := plan.Make(nil, s, plan.Options{Endpoint: "https://x.example/api", KeyFingerprint: "abcd"})
	want := state.Binding{Endpoint: "https://x.example/api", KeyFingerprint: "abcd"}
	if p.Lineage != s.Lineage || p.Serial != 42 || p.Binding != want {
		t.Errorf("lineage %q serial %d binding %+v", p.Lineage, p.Serial, p.Binding)
	}
}

// TestConfigHash: the order of declaration does not matter; bodies, cancel flags and the
// planning settings do.
func TestConfigHash(t *testing.T) {
	a, b := inv("a", "EUR", "1"), inv("b", "EUR", "2")
	base := plan.Make([]*config.Invoice{a, b}, nil, plan.Options{}).ConfigHash
	if h := plan.Make([]*config.Invoice{b, a}, nil, plan.Options{}).ConfigHash; h != base {
		t.Error("config hash depends on declaration order")
	}
	for name, h := range map[string]string{
		"amount":   plan.Make([]*config.Invoice{a, inv("b", "EUR", "3")}, nil, plan.Options{}).ConfigHash,
		"cancel":   plan.Make([]*config.Invoice{a, cancelled(inv("b", "EUR", "2"))}, nil, plan.Options{}).ConfigHash,
		"endpoint": plan.Make([]*config.Invoice{a, b}, nil, plan.Options{Endpoint: "https://e.example"}).ConfigHash,
		"prune":    plan.Make([]*config.Invoice{a, b}, nil, plan.Options{Prune: true}).ConfigHash,
		"target":   plan.Make([]*config.Invoice{a, b}, nil, plan.Options{Targets: []string{"a"}}).ConfigHash,
	} {
		if h == base {
			t.Errorf("config hash ignores %s", name)
		}
	}
}

// TestPruneDecisions: what an undeclared record becomes, by phase and status, with and
// without -prune. Only open and unpaid invoices are cancelled; processing ones are left with
// a warning under -prune; final and cancelled ones are settled (not changes, no warning).
func TestPruneDecisions(t *testing.T) {
	a := inv("a", "EUR", "10")
	tests := []struct {
		phase   state.Phase
		status  string
		prune   bool
		action  plan.Action // 0: settled
		settled string
		warn    bool
	}{
		{state.Issued, "", true, plan.Cancel, "", false}, // unknown counts as created
		{state.Issued, "created", true, plan.Cancel, "", false},
		{state.Issued, "pending", true, plan.Cancel, "", false},
		{state.Issued, "processing", true, plan.Undeclared, "", true},
		{state.Issued, "confirmed", true, 0, "confirmed", false},
		{state.Issued, "failed", true, 0, "failed", false},
		{state.Issued, "cancelled", true, 0, "cancelled", false},
		{state.Cancelled, "failed", true, 0, "cancelled", false},
		{state.Cancelled, "", true, 0, "cancelled", false},
		{state.Pending, "", true, plan.Resolve, "", false},
		{state.Issued, "", false, plan.Undeclared, "", false},
		{state.Issued, "created", false, plan.Undeclared, "", false},
		{state.Issued, "pending", false, plan.Undeclared, "", false},
		{state.Issued, "processing", false, plan.Undeclared, "", false},
		{state.Issued, "confirmed", false, 0, "confirmed", false},
		{state.Issued, "failed", false, 0, "failed", false},
		{state.Cancelled, "failed", false, 0, "cancelled", false},
		{state.Pending, "", false, plan.Resolve, "", false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%q/prune=%t", tt.phase, tt.status, tt.prune)
		p := plan.Make(nil, snapshot(rec(a, tt.phase, tt.status)), plan.Options{Prune: tt.prune})
		var action plan.Action
		if len(p.Changes) == 1 {
			action = p.Changes[0].Action
		}
		settled := ""
		if len(p.Settled) == 1 {
			settled = p.Settled[0].Status
		}
		if action != tt.action || settled != tt.settled || len(p.Changes)+len(p.Settled) != 1 {
			t.Errorf("%s: action %q settled %q (%d changes, %d settled), want %q settled %q", name, action.String(), settled, len(p.Changes), len(p.Settled), tt.action.String(), tt.settled)
		}
		if warn := len(p.Diagnostics) > 0; warn != tt.warn {
			t.Errorf("%s: diagnostics %v, want a warning: %t", name, p.Diagnostics, tt.warn)
		}
		if tt.warn && (p.Diagnostics[0].Severity != hcl.DiagWarning || !strings.Contains(p.Diagnostics[0].Detail, "payment is under way")) {
			t.Errorf("%s: %v, want the warning about a payment under way", name, p.Diagnostics[0])
		}
		if p.HasChanges() != (tt.action == plan.Cancel || tt.action == plan.Resolve) {
			t.Errorf("%s: HasChanges %t", name, p.HasChanges())
		}
	}
}

// TestSettledUndeclared: many settled invoices make one summary line and no change; the
// statuses total paid and open per currency, and count failed and cancelled ones.
func TestSettledUndeclared(t *testing.T) {
	var recs []*state.Record
	for i := 0; i < 300; i++ {
		st := []string{"confirmed", "failed", "confirmed"}[i%3]
		recs = append(recs, rec(inv(fmt.Sprintf("jan-%03d", i), "EUR", "10.5"), state.Issued, st))
	}
	feb := inv("feb-001", "EUR", "20")
	recs = append(recs, rec(feb, state.Issued, "pending"), rec(inv("old", "USD", "3"), state.Cancelled, "failed"))
	p := plan.Make([]*config.Invoice{feb}, snapshot(recs...), plan.Options{Prune: true})
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.NoOp || len(p.Settled) != 301 || len(p.Diagnostics) != 0 || p.HasChanges() {
		t.Fatalf("%d changes, %d settled, %v; want 1 no-op, 301 settled, no diagnostics", len(p.Changes), len(p.Settled), p.Diagnostics)
	}
	var b strings.Builder
	must(t, plan.WriteText(&b, plan.NewDocument(p, plan.ViewOptions{}), plan.TextOptions{}))
	want := `301 settled invoices no longer declared: 200 confirmed, 100 failed, 1 cancelled. They are over, not changes: nothing will be done with them.
Status: paid EUR 2,100.00 (200); open EUR 20.00 (1); 100 failed, 1 cancelled.
Unchanged by status: 1 pending.

No changes. Plan: 0 to create, 1 unchanged, 0 to cancel, 301 settled.
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
	if strings.Contains(b.String(), "jan-") || strings.Contains(b.String(), "= ") {
		t.Errorf("settled or unchanged invoices listed one by one:\n%s", b.String())
	}
}
