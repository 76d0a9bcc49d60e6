package plan_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

// summaryWorld is a configuration and a state with every case Make tells apart: each phase
// and status (a final, an open, an unknown and an unexpected one), records with the API's
// amount and adopted ones without it, each declared with the same body, with the same body
// and cancel = true, with another body (a conflict), with another body and cancel = true, or
// not declared at all; and declared invoices without a record, with and without cancel.
// With conflicts false, the declarations with another body are left out, so that the plan
// has no errors and can be saved.
func summaryWorld(conflicts bool) ([]*config.Invoice, *state.Snapshot) {
	type ps struct {
		phase  state.Phase
		status string
	}
	states := []ps{
		{state.Pending, ""},
		{state.Issued, ""}, {state.Issued, "created"}, {state.Issued, "pending"}, {state.Issued, "processing"},
		{state.Issued, "confirmed"}, {state.Issued, "failed"}, {state.Issued, "cancelled"}, {state.Issued, "expired"},
		{state.Cancelled, ""}, {state.Cancelled, "cancelled"},
	}
	decls := []string{"same", "same-cancel", "other", "other-cancel", "none"}
	currencies := []string{"EUR", "BTC", "USD"}
	var invs []*config.Invoice
	snap := snapshot()
	n := 0
	for _, st := range states {
		for _, adopted := range []bool{false, true} {
			for _, decl := range decls {
				if !conflicts && (decl == "other" || decl == "other-cancel") {
					continue
				}
				n++
				id := fmt.Sprintf("inv-%03d", n)
				cur := currencies[n%len(currencies)]
				amount := fmt.Sprintf("%d.%02d", n, n%100)
				recorded := inv(id, cur, amount)
				r := rec(recorded, st.phase, st.status)
				r.ID = int64(5000 + n)
				if !adopted && st.phase != state.Pending {
					// The API's amount differs from the request's (a rounding of its own), so
					// the totals show which one they took.
					r.Currency, r.Amount, r.DetailsKnown = cur, fmt.Sprintf("%d.%02d", n+1, n%100), true
					r.URL = "https://pay.example.com/i/" + id
				}
				snap.Records[id] = r
				var d *config.Invoice
				switch decl {
				case "same":
					d = recorded
				case "same-cancel":
					d = cancelled(recorded)
				case "other":
					d = inv(id, cur, amount+"1")
				case "other-cancel":
					d = cancelled(inv(id, cur, amount+"1"))
				}
				if d != nil {
					invs = append(invs, d)
				}
			}
		}
	}
	invs = append(invs, inv("new-1", "EUR", "12.5"), inv("new-2", "BTC", "0.001"), cancelled(inv("new-3", "USD", "3")))
	return invs, snap
}

// summarize is the snapshot a store gives for opts: a record opts.Full asks for whole, any
// other as exactly its Summarized part, as the state conformance suite holds every store to.
func summarize(t *testing.T, whole *state.Snapshot, opts state.SnapshotOptions) (*state.Snapshot, int) {
	t.Helper()
	s := *whole
	s.Records = make(map[string]*state.Record, len(whole.Records))
	summaries := 0
	for id, r := range whole.Records {
		if opts.Full(r.Summarize()) {
			s.Records[id] = r.Clone()
			continue
		}
		s.Records[id] = r.Summarized()
		summaries++
	}
	return &s, summaries
}

// planOutputs renders p as plan does: the human view (stdout and stderr), -json, -markdown,
// each with and without -show-sensitive, and the plan file -out writes (or Encode's error).
func planOutputs(t *testing.T, p *plan.Plan) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, sensitive := range []bool{false, true} {
		var stdout, stderr, js, md, mdErr bytes.Buffer
		human := plan.HumanView{Stdout: &stdout, Stderr: &stderr, Width: 100, ShowSensitive: sensitive}
		must(t, human.Plan(p, nil))
		must(t, plan.JSONView{Stdout: &js, ShowSensitive: sensitive}.Plan(p, nil))
		must(t, plan.MarkdownView{HumanView: plan.HumanView{Stdout: &md, Stderr: &mdErr, ShowSensitive: sensitive}}.Plan(p, nil))
		k := fmt.Sprintf("sensitive=%t ", sensitive)
		out[k+"human"], out[k+"human stderr"], out[k+"json"], out[k+"markdown"] = stdout.String(), stderr.String(), js.String(), md.String()
	}
	data, err := plan.Encode(p, time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	if err != nil {
		out["out"] = "error: " + err.Error()
	} else {
		out["out"] = string(data)
	}
	out["hash"] = p.Hash()
	return out
}

// TestSnapshotOptionsSamePlan: a plan made from the summaries plan.SnapshotOptions asks for
// is byte for byte the plan made from whole records, in every view and in its file, for every
// phase, status, adoption, declaration, -prune and -target.
func TestSnapshotOptionsSamePlan(t *testing.T) {
	for _, conflicts := range []bool{false, true} {
		invs, whole := summaryWorld(conflicts)
		targetSets := [][]string{nil, {"inv-001", "inv-004", "inv-012", "inv-030", "inv-041", "inv-052", "new-1", "nowhere"}}
		for _, prune := range []bool{false, true} {
			for ti, targets := range targetSets {
				name := fmt.Sprintf("conflicts=%t/prune=%t/targets=%d", conflicts, prune, ti)
				t.Run(name, func(t *testing.T) {
					opts := plan.Options{Prune: prune, Targets: targets, Endpoint: "https://app.sandbox.cryptoprocessing.com/api/v2"}
					sum, summaries := summarize(t, whole, plan.SnapshotOptions(invs, opts))
					if summaries == 0 {
						t.Fatal("no record was read as a summary: the test proves nothing")
					}
					want := planOutputs(t, plan.Make(invs, whole, opts))
					got := planOutputs(t, plan.Make(invs, sum, opts))
					for k := range want {
						if diff := cmp.Diff(want[k], got[k]); diff != "" {
							t.Errorf("%s differs with summaries (-whole +summaries):\n%s", k, diff)
						}
					}
					if !conflicts && ti == 0 && want["out"][:6] == "error:" {
						t.Errorf("the plan without conflicts cannot be saved: %s", want["out"])
					}
				})
			}
		}
	}
}

// TestSnapshotOptionsSummarizesNoOps: what SnapshotOptions reads whole. An unchanged invoice,
// the bulk of a large state, adopted or not, is a summary; anything Make may show or act on
// is whole.
func TestSnapshotOptionsSummarizesNoOps(t *testing.T) {
	same := inv("same", "EUR", "10")
	cancel := cancelled(inv("cancel", "EUR", "10"))
	other := inv("other", "EUR", "11")
	invs := []*config.Invoice{same, cancel, other, inv("pending", "EUR", "10")}
	hash := func(i *config.Invoice) string { return i.Hash }
	tests := []struct {
		name string
		sum  state.Summary
		opts plan.Options
		full bool
	}{
		{"unchanged", state.Summary{ForeignID: "same", Phase: state.Issued, BodyHash: hash(same), Status: "created"}, plan.Options{}, false},
		{"unchanged, adopted", state.Summary{ForeignID: "same", Phase: state.Issued, BodyHash: hash(same)}, plan.Options{}, false},
		{"unchanged, cancelled", state.Summary{ForeignID: "same", Phase: state.Cancelled, BodyHash: hash(same), Status: "cancelled"}, plan.Options{}, false},
		{"unchanged, paid", state.Summary{ForeignID: "same", Phase: state.Issued, BodyHash: hash(same), Status: "confirmed"}, plan.Options{}, false},
		{"cancel = true", state.Summary{ForeignID: "cancel", Phase: state.Issued, BodyHash: hash(cancel), Status: "created"}, plan.Options{}, false},
		{"cancel = true, changed", state.Summary{ForeignID: "cancel", Phase: state.Issued, BodyHash: hash(same), Status: "created"}, plan.Options{}, true},
		{"conflict", state.Summary{ForeignID: "other", Phase: state.Issued, BodyHash: hash(same), Status: "created"}, plan.Options{}, true},
		{"pending", state.Summary{ForeignID: "pending", Phase: state.Pending, BodyHash: hash(invs[3])}, plan.Options{}, true},
		{"undeclared", state.Summary{ForeignID: "gone", Phase: state.Issued, BodyHash: hash(same), Status: "confirmed"}, plan.Options{}, true},
		{"undeclared, outside -target", state.Summary{ForeignID: "gone", Phase: state.Pending, BodyHash: hash(same)}, plan.Options{Targets: []string{"same"}}, false},
		{"conflict within -target", state.Summary{ForeignID: "other", Phase: state.Issued, BodyHash: hash(same)}, plan.Options{Targets: []string{"other"}}, true},
	}
	for _, tt := range tests {
		if got := plan.SnapshotOptions(invs, tt.opts).Full(tt.sum); got != tt.full {
			t.Errorf("%s: Full = %t, want %t", tt.name, got, tt.full)
		}
	}
}

// TestMakeOrderFree: Make merges the declarations with the records in foreign_id order, so it
// must give the same plan whatever order the declarations come in, and whether the snapshot
// holds its records in Records, in Sorted (as bbolt gives them) or in both; and Full must give
// the same answers asked in foreign_id order (bbolt) or in any other (PostgreSQL).
func TestMakeOrderFree(t *testing.T) {
	invs, whole := summaryWorld(false)
	sorted := whole.InOrder()
	if len(sorted) != len(whole.Records) {
		t.Fatalf("InOrder gave %d records of %d", len(sorted), len(whole.Records))
	}
	sortedOnly, both := *whole, *whole
	sortedOnly.Records, sortedOnly.Sorted = nil, sorted
	both.Sorted = sorted
	shuffled := slices.Clone(invs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	reversed := slices.Clone(invs)
	slices.Reverse(reversed)
	// The diagnostics come in declaration order, so they are put in one order here.
	planned := func(invs []*config.Invoice, snap *state.Snapshot, opts plan.Options) map[string]string {
		p := plan.Make(invs, snap, opts)
		slices.SortStableFunc(p.Diagnostics, func(a, b *hcl.Diagnostic) int {
			return strings.Compare(a.Summary+a.Detail, b.Summary+b.Detail)
		})
		return planOutputs(t, p)
	}
	for _, opts := range []plan.Options{{}, {Prune: true}, {Targets: []string{"inv-004", "inv-012", "new-1", "inv-030"}}} {
		want := planned(invs, whole, opts)
		for name, c := range map[string]struct {
			invs []*config.Invoice
			snap *state.Snapshot
		}{
			"sorted only": {invs, &sortedOnly}, "both": {invs, &both},
			"shuffled": {shuffled, whole}, "shuffled, sorted only": {shuffled, &sortedOnly}, "reversed, both": {reversed, &both},
		} {
			got := planned(c.invs, c.snap, opts)
			for k := range want {
				if diff := cmp.Diff(want[k], got[k]); diff != "" {
					t.Errorf("%+v, %s: %s differs (-declared order +%s):\n%s", opts, name, k, name, diff)
				}
			}
		}
		// Full, asked in order and out of order, by one SnapshotOptions each.
		inOrder, outOfOrder := plan.SnapshotOptions(invs, opts), plan.SnapshotOptions(shuffled, opts)
		answers := map[string]bool{}
		for _, r := range sorted {
			answers[r.ForeignID] = inOrder.Full(r.Summarize())
		}
		for _, i := range rand.New(rand.NewPCG(3, 4)).Perm(len(sorted)) {
			r := sorted[i]
			if got := outOfOrder.Full(r.Summarize()); got != answers[r.ForeignID] {
				t.Errorf("%+v: Full(%s) = %t out of order, %t in order", opts, r.ForeignID, got, answers[r.ForeignID])
			}
		}
	}
}

// TestMakeInParts: planned in two parts on two cores (as Make does from 65,536 invoices), a
// plan is the one a single pass makes, in every view and in its file: the same changes,
// diagnostics in the same order, and the same totals.
func TestMakeInParts(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, conflicts := range []bool{false, true} {
		invs, whole := summaryWorld(conflicts)
		// The same amount in each half, recorded and not: the first of equal largest
		// creates stays the largest.
		tie1, tie2 := inv("tie-1", "EUR", "999999"), inv("tie-2", "EUR", "999999")
		new1, new2 := inv("a-tie", "EUR", "999999"), inv("zz-tie", "EUR", "999999") // the first and last change
		invs = append([]*config.Invoice{tie1, new1}, append(invs, tie2, new2)...)
		whole.Records["tie-1"], whole.Records["tie-2"] = rec(tie1, state.Issued, "created"), rec(tie2, state.Issued, "created")
		for _, opts := range []plan.Options{{}, {Prune: true}, {Targets: []string{"inv-004", "inv-012", "new-1", "tie-2"}}} {
			want := planOutputs(t, plan.Make(invs, whole, opts))
			restore := plan.SetSplitFrom(2)
			p := plan.Make(invs, whole, opts)
			got := planOutputs(t, p)
			restore()
			for k := range want {
				if diff := cmp.Diff(want[k], got[k]); diff != "" {
					t.Errorf("conflicts=%t %+v: %s differs in two parts (-one pass +two parts):\n%s", conflicts, opts, k, diff)
				}
			}
			if opts.Targets == nil && !strings.Contains(got["sensitive=false json"], `"largest_foreign_id": "a-tie"`) {
				t.Errorf("conflicts=%t %+v: the first of two equal largest creates is not the largest", conflicts, opts)
			}
		}
	}
}
