package plan_test

import (
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
		{name: "undeclared final with -prune: left alone",
			snap: snapshot(rec(a10, state.Issued, "confirmed")), opts: plan.Options{Prune: true},
			want: []row{{"a", plan.Undeclared, "not declared; status confirmed"}}},
		{name: "undeclared cancelled with -prune: left alone",
			snap: snapshot(rec(a10, state.Cancelled, "cancelled")), opts: plan.Options{Prune: true},
			want: []row{{"a", plan.Undeclared, "not declared; cancelled"}}},
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
