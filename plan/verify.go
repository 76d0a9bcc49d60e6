package plan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// ErrMismatch is returned when a saved plan is not the plan the configuration and the state
// at hand give: apply refuses it and sends nothing.
var ErrMismatch = errors.New("the saved plan does not match the configuration here")

// MismatchError says which changes differ, one problem per invoice, each naming it.
type MismatchError struct {
	// Problems are the first maxProblems problems, and More counts the rest: a plan of
	// 100,000 invoices made with another variable differs in every one of them, and only
	// the first are shown.
	Problems []string
	More     int
}

// maxProblems bounds the problems an error message lists.
const maxProblems = 10

func (e *MismatchError) Error() string {
	var b strings.Builder
	b.WriteString(ErrMismatch.Error())
	b.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "; and %d more", e.More)
	}
	return b.String()
}

func (e *MismatchError) Unwrap() error { return ErrMismatch }

// problems collects the differences of a saved plan, naming each invoice: the first
// maxProblems in full, and a count of the rest.
type problems struct {
	list []string
	more int
}

func (ps *problems) add(c *Change, format string, args ...any) {
	if len(ps.list) == maxProblems {
		ps.more++
		return
	}
	name := "foreign_id " + c.ForeignID
	if a := c.Address(); a != "" {
		name = fmt.Sprintf("%s (foreign_id %s)", a, c.ForeignID)
	}
	if c.Range.Filename != "" {
		name = fmt.Sprintf("%s:%d: %s", c.Range.Filename, c.Range.Start.Line, name)
	}
	ps.list = append(ps.list, name+": "+fmt.Sprintf(format, args...))
}

// addf adds a problem of no one invoice.
func (ps *problems) addf(format string, args ...any) {
	if len(ps.list) == maxProblems {
		ps.more++
		return
	}
	ps.list = append(ps.list, fmt.Sprintf(format, args...))
}

func (ps *problems) none() bool { return len(ps.list) == 0 }

func (ps *problems) err() error {
	if ps.none() {
		return nil
	}
	return &MismatchError{Problems: ps.list, More: ps.more}
}

func money(cur string, a invoice.Amount) string {
	if cur == "" {
		return "no amount"
	}
	return cur + " " + invoice.FormatMoney(cur, a)
}

// Attach gives the declared changes of p, a plan read from a file, their requests and bodies
// from invoices (the configuration at hand, as config.Load validated it), and checks each
// against what the plan recorded: the body must hash to the plan's body hash, and the
// currency, amount and cancel flag must be the plan's. When any differs, or an invoice the
// plan names is not declared, it attaches nothing and returns a *MismatchError naming them.
// Attach checks only the declared bodies: show uses it to show them. apply uses Verify, which
// also checks that the configuration and the state give this very plan.
func Attach(p *Plan, invoices []*config.Invoice) error {
	byID := make(map[string]*config.Invoice, len(invoices))
	for _, inv := range invoices {
		byID[inv.ForeignID] = inv
	}
	return attach(p, func(_ int, c *Change) *config.Invoice { return byID[c.ForeignID] })
}

// attach is Attach with the declaring invoice of the i-th change c given by declaring (nil
// when none declares it).
func attach(p *Plan, declaring func(i int, c *Change) *config.Invoice) error {
	var ps problems
	for i, c := range p.Changes {
		if c.After == nil {
			continue
		}
		inv := declaring(i, c)
		switch {
		case inv == nil:
			ps.add(c, "the plan has it declared (%s), and the configuration here does not declare it", c.Action)
		case !invoice.HashMatches(inv.Body, c.After.BodyHash):
			what := "the request declared here is not the one planned"
			if c.Action != NoOp && (inv.Request.Currency != c.After.Currency || inv.Request.Amount.Cmp(c.After.Amount) != 0) {
				what += fmt.Sprintf(" (planned %s, declared now %s)", money(c.After.Currency, c.After.Amount), money(inv.Request.Currency, inv.Request.Amount))
			}
			ps.add(c, "%s: its body hashes to %.12s…, the plan's to %.12s…", what, invoice.Hash(inv.Body), c.After.BodyHash)
		case c.Action != NoOp && c.Action != Resolve && (inv.Request.Currency != c.After.Currency || inv.Request.Amount.Cmp(c.After.Amount) != 0):
			ps.add(c, "the plan file says %s, and the request that hashes to its body hash says %s: the file was edited", money(c.After.Currency, c.After.Amount), money(inv.Request.Currency, inv.Request.Amount))
		case inv.Cancel != c.After.Cancel:
			ps.add(c, "cancel = %t in the plan, %t in the configuration here", c.After.Cancel, inv.Cancel)
		}
	}
	if err := ps.err(); err != nil {
		return err
	}
	for i, c := range p.Changes {
		if c.After == nil {
			continue
		}
		inv := declaring(i, c)
		c.After.Request, c.After.Body = &inv.Request, inv.Body
		if c.Action == NoOp || c.Action == Resolve {
			c.After.Currency, c.After.Amount = inv.Request.Currency, inv.Request.Amount
		}
	}
	p.attached = true
	return nil
}

// Verify is what apply does with a saved plan before it sends anything, once CheckFresh has
// found the state at the plan's serial: it makes the plan again from invoices (the
// configuration apply runs in, loaded and validated by config.Load, variables included) and
// snap with the saved plan's options, and requires the very same plan: the same config hash,
// and change for change the same action, foreign_id, body hashes, currency and amount. Then it
// attaches the declared bodies (Attach), so that apply sends exactly the bytes that hash to
// what was reviewed, rebuilt from the configuration. Otherwise it returns a *MismatchError
// naming every invoice that differs, and p is left without bodies.
func Verify(p *Plan, invoices []*config.Invoice, snap *state.Snapshot) error {
	now := Make(invoices, snap, Options{Targets: p.Targets, Prune: p.Prune, Endpoint: p.Binding.Endpoint, KeyFingerprint: p.Binding.KeyFingerprint})
	var ps problems
	for _, d := range now.Diagnostics {
		if d.Severity == hcl.DiagError {
			ps.addf("planning here gives the error %q: %s", d.Summary, d.Detail)
		}
	}
	// Make sorts now's changes by foreign_id. A saved plan as Encode wrote it has the same
	// foreign_ids in the same order, each once, and is compared change by change at the same
	// index; any other is compared by foreign_id (verifyByID), which finds the same problems
	// in a plan that has the same foreign_ids in another order.
	aligned := len(p.Changes) == len(now.Changes)
	for i := 0; aligned && i < len(p.Changes); i++ {
		aligned = p.Changes[i].ForeignID == now.Changes[i].ForeignID && (i == 0 || now.Changes[i-1].ForeignID < now.Changes[i].ForeignID)
	}
	var nowOf func(i int, c *Change) *Change
	if aligned {
		for i, nc := range now.Changes {
			compare(&ps, p.Changes[i], nc)
		}
		nowOf = func(i int, _ *Change) *Change { return now.Changes[i] }
	} else {
		byID := verifyByID(&ps, p, now)
		nowOf = func(_ int, c *Change) *Change { return byID[c.ForeignID] }
	}
	if ps.none() && now.ConfigHash != p.ConfigHash {
		ps.addf("the configuration's hash is %.12s…, the plan's %.12s… (the declared invoices, their cancel flags, the endpoint, -prune or -target differ)", now.ConfigHash, p.ConfigHash)
	}
	if err := ps.err(); err != nil {
		return err
	}
	// Every saved change is now's change for its foreign_id, declared by the same invoice
	// when declared (compare): now's declared invoice is the configuration's.
	if err := attach(p, func(i int, c *Change) *config.Invoice {
		if nc := nowOf(i, c); nc.After != nil {
			return nc.After.invoice
		}
		return nil
	}); err != nil {
		return err
	}
	for i, c := range p.Changes {
		if c.Before != nil {
			// The recorded body, for the views of a resolve; apply sends the state's own.
			c.Before.Body = nowOf(i, c).Before.Body
		}
	}
	p.verified = true
	return nil
}

// verifyByID compares the changes of the saved plan p with those of now by foreign_id,
// adding the problems to ps, and returns now's changes by foreign_id.
func verifyByID(ps *problems, p, now *Plan) map[string]*Change {
	saved := make(map[string]*Change, len(p.Changes))
	for _, c := range p.Changes {
		if saved[c.ForeignID] != nil {
			ps.add(c, "the plan lists it twice")
		}
		saved[c.ForeignID] = c
	}
	byID := make(map[string]*Change, len(now.Changes))
	for _, nc := range now.Changes {
		byID[nc.ForeignID] = nc
		sc := saved[nc.ForeignID]
		if sc == nil {
			ps.add(nc, "not in the plan, and planning here gives %s", nc.Action)
			continue
		}
		compare(ps, sc, nc)
	}
	for _, sc := range p.Changes {
		if byID[sc.ForeignID] != nil {
			continue
		}
		if sc.After != nil {
			ps.add(sc, "the plan has it (%s), and the configuration here does not declare it", sc.Action)
		} else {
			ps.add(sc, "the plan has it (%s), and neither the configuration nor the state here has it", sc.Action)
		}
	}
	return byID
}

// compare adds what differs between the saved change sc and the change nc planned now.
func compare(ps *problems, sc, nc *Change) {
	if sc.Action != nc.Action {
		ps.add(nc, "planned to %s, and planning here gives %s", sc.Action, nc.Action)
		return
	}
	switch {
	case (sc.After == nil) != (nc.After == nil):
		ps.add(nc, "declared in only one of the plan and the configuration here")
	case sc.After != nil && sc.After.BodyHash != nc.After.BodyHash:
		what := "the request declared here is not the one planned"
		if sc.Action != NoOp {
			if cur, amt, ok := nc.Money(); ok && (cur != sc.After.Currency || amt.Cmp(sc.After.Amount) != 0) {
				what += fmt.Sprintf(" (planned %s, declared now %s)", money(sc.After.Currency, sc.After.Amount), money(cur, amt))
			}
		}
		ps.add(nc, "%s: its body hashes to %.12s…, the plan's to %.12s…", what, nc.After.BodyHash, sc.After.BodyHash)
	case sc.After != nil && sc.After.Cancel != nc.After.Cancel:
		ps.add(nc, "cancel = %t in the plan, %t in the configuration here", sc.After.Cancel, nc.After.Cancel)
	case sc.Action == NoOp:
		// A plan file keeps no record for a no-op: CheckFresh proved the state the same.
	case (sc.Before == nil) != (nc.Before == nil):
		ps.add(nc, "recorded in only one of the plan and the state")
	case sc.Before != nil && sc.Before.BodyHash != nc.Before.BodyHash:
		ps.add(nc, "the state's record hashes to %.12s…, the plan's to %.12s…", nc.Before.BodyHash, sc.Before.BodyHash)
	}
	if sc.Action == NoOp {
		return
	}
	scur, samt, sok := sc.Money()
	ncur, namt, nok := nc.Money()
	if sok != nok || scur != ncur || samt.Cmp(namt) != 0 {
		ps.add(nc, "the plan says %s, and planning here gives %s", money(scur, samt), money(ncur, namt))
	}
}
