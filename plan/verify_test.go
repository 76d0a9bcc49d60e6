package plan_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

// resign edits a saved plan as an attacker with the source code would: read it with the
// tool's own reader, change it, and write it with the tool's own writer, so that the
// checksum and the plan hash are right again.
func resign(t *testing.T, data []byte, edit func(*plan.Plan)) []byte {
	t.Helper()
	p, created, err := plan.Decode(data)
	must(t, err)
	edit(p)
	out, err := plan.Encode(p, created)
	must(t, err)
	if _, _, err := plan.Decode(out); err != nil {
		t.Fatalf("the re-signed plan does not read back: %v", err)
	}
	return out
}

func change(p *plan.Plan, id string) *plan.Change {
	for _, c := range p.Changes {
		if c.ForeignID == id {
			return c
		}
	}
	panic("no change " + id)
}

func TestVerify(t *testing.T) {
	invs, snap, opts := everyActionInputs()
	data, err := plan.Encode(plan.Make(invs, snap, opts), now)
	must(t, err)
	amount := func(s string) invoice.Amount {
		a, err := invoice.ParseAmount(s)
		must(t, err)
		return a
	}
	// A configuration with order-1's url_success changed after the plan was made.
	edited := func() []*config.Invoice {
		out, _, _ := everyActionInputs()
		for i, in := range out {
			if in.ForeignID == "order-1" {
				r := in.Request
				r.URLSuccess = "https://evil.example.net/ok"
				out[i] = inv("order-1", "EUR", "1234.5", func(x *invoice.Request) { *x = r })
			}
		}
		return out
	}
	tests := []struct {
		name string
		data []byte
		invs []*config.Invoice
		snap *state.Snapshot
		want []string
	}{
		{"amount edited, body hash kept", resign(t, data, func(p *plan.Plan) { change(p, "order-1").After.Amount = amount("10") }), invs, snap,
			[]string{"invoice.order-1 (foreign_id order-1): the plan says EUR 10.00, and planning here gives EUR 1,234.50"}},
		{"amount and body hash edited", resign(t, data, func(p *plan.Plan) {
			c := change(p, "order-1")
			c.After.Amount, c.After.BodyHash = amount("10"), invoice.Hash([]byte("{}"))
		}), invs, snap, []string{"main.hcl:1: invoice.order-1 (foreign_id order-1): the request declared here is not the one planned (planned EUR 10.00, declared now EUR 1,234.50)"}},
		{"create dropped from the plan", resign(t, data, func(p *plan.Plan) {
			p.Changes = append(p.Changes[:1], p.Changes[2:]...)
		}), invs, snap, []string{"order-2): not in the plan, and planning here gives create"}},
		{"cancel added to the plan", resign(t, data, func(p *plan.Plan) {
			c := change(p, "order-6")
			c.Action = plan.Cancel
		}), invs, snap, []string{"foreign_id order-6: planned to cancel, and planning here gives undeclared"}},
		{"configuration edited after the plan", data, edited(), snap, []string{"invoice.order-1 (foreign_id order-1): the request declared here is not the one planned: its body hashes to"}},
		{"invoice no longer declared", data, invs[1:], snap, []string{"invoice.order-1 (foreign_id order-1): the plan has it (create), and the configuration here does not declare it"}},
		{"config hash edited", resign(t, data, func(p *plan.Plan) { p.ConfigHash = strings.Repeat("0", 64) }), invs, snap, []string{"the configuration's hash is"}},
		{"a change listed twice", resign(t, data, func(p *plan.Plan) { p.Changes = append(p.Changes, change(p, "order-2")) }), invs, snap,
			[]string{"invoice.order-2 (foreign_id order-2): the plan lists it twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := plan.Decode(tt.data)
			must(t, err)
			err = plan.Verify(p, tt.invs, tt.snap)
			if !errors.Is(err, plan.ErrMismatch) {
				t.Fatalf("err = %v, want ErrMismatch", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
			for _, c := range p.Changes {
				if c.Action == plan.Create && c.Body() != nil {
					t.Errorf("%s: a refused plan has a body to send", c.ForeignID)
				}
			}
			// The same plan with its changes in reverse order is compared by foreign_id, not
			// change by change, and finds the same problems.
			reversed, _, rerr := plan.Decode(resign(t, tt.data, func(p *plan.Plan) { slices.Reverse(p.Changes) }))
			must(t, rerr)
			if rerr = plan.Verify(reversed, tt.invs, tt.snap); rerr == nil || rerr.Error() != err.Error() {
				t.Errorf("in reverse order: err = %v\nwant %v", rerr, err)
			}
		})
	}
	// A plan with its changes in another order is the same plan.
	reversed, _, err := plan.Decode(resign(t, data, func(p *plan.Plan) { slices.Reverse(p.Changes) }))
	must(t, err)
	must(t, plan.Verify(reversed, invs, snap))
	for _, c := range reversed.Changes {
		if c.Action == plan.Create && len(c.Body()) == 0 {
			t.Errorf("%s: no body attached", c.ForeignID)
		}
	}
	// The untouched plan verifies, and then has exactly the configuration's bodies.
	p, _, err := plan.Decode(data)
	must(t, err)
	must(t, plan.Verify(p, invs, snap))
	for _, in := range invs {
		for _, c := range p.Changes {
			if c.ForeignID == in.ForeignID && c.Action == plan.Create && string(c.Body()) != string(in.Body) {
				t.Errorf("%s: body %s, want %s", c.ForeignID, c.Body(), in.Body)
			}
		}
	}
}

// TestAttach: show's check of the declared bodies, without the state.
func TestAttach(t *testing.T) {
	invs, snap, opts := everyActionInputs()
	data, err := plan.Encode(plan.Make(invs, snap, opts), time.Time{})
	must(t, err)
	p, _, err := plan.Decode(data)
	must(t, err)
	err = plan.Attach(p, invs[1:])
	if !errors.Is(err, plan.ErrMismatch) || !strings.Contains(err.Error(), "order-1") {
		t.Fatalf("err = %v", err)
	}
	for _, c := range p.Changes {
		if c.Body() != nil {
			t.Fatalf("%s: attached although the configuration does not match", c.ForeignID)
		}
	}
	must(t, plan.Attach(p, invs))
	if string(change(p, "order-2").Body()) != string(invs[1].Body) {
		t.Error("order-2 has not the configuration's body")
	}
}

// TestVerifyManyProblems: a plan that differs in every invoice (a variable changed since)
// names the first ten and counts the rest.
func TestVerifyManyProblems(t *testing.T) {
	var planned, now []*config.Invoice
	for i := range 25 {
		id := fmt.Sprintf("order-%02d", i)
		planned = append(planned, inv(id, "EUR", "10"))
		now = append(now, inv(id, "EUR", "10", func(r *invoice.Request) { r.URLSuccess = "https://changed.example.com/ok" }))
	}
	data, err := plan.Encode(plan.Make(planned, nil, plan.Options{}), time.Time{})
	must(t, err)
	p, _, err := plan.Decode(data)
	must(t, err)
	err = plan.Verify(p, now, nil)
	var m *plan.MismatchError
	if !errors.As(err, &m) {
		t.Fatalf("err = %v, want a *MismatchError", err)
	}
	if len(m.Problems) != 10 || m.More != 15 {
		t.Errorf("%d problems and %d more, want 10 and 15", len(m.Problems), m.More)
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, "; and 15 more") || strings.Count(msg, "the request declared here is not the one planned") != 10 ||
		!strings.Contains(msg, "main.hcl:1: invoice.order-00 (foreign_id order-00): ") || strings.Contains(msg, "order-10") {
		t.Errorf("err = %s", msg)
	}
}
