package plan

import (
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// Declared is the invoice a change is declared as, as a plan carries it: what the review
// showed (address, cancel flag, currency, amount, body hash), and in a plan made from the
// configuration the request itself. A plan read from a file has no Request and no Body: the
// file keeps no request body and no personal data. Attach (show) and Verify (apply) give them
// back from the configuration, and only when it hashes to BodyHash.
type Declared struct {
	Address  string
	Cancel   bool
	Currency string
	Amount   invoice.Amount
	// BodyHash is invoice.Hash of the canonical request body (config.Invoice.Hash).
	BodyHash string

	// Request is the validated, normalised request from config.Load, and Body its canonical
	// encoding: the exact bytes apply signs and sends. Both nil until attached in a plan read
	// from a file.
	Request *invoice.Request
	Body    []byte

	// invoice is the configuration's invoice, in a plan made from it (Verify attaches a saved
	// plan's bodies from it).
	invoice *config.Invoice
}

// declaredInto sets d to the payload of a declared invoice of the configuration.
func declaredInto(d *Declared, inv *config.Invoice) {
	*d = Declared{Address: inv.Address, Cancel: inv.Cancel, Currency: inv.Request.Currency, Amount: inv.Request.Amount,
		BodyHash: inv.Hash, Request: &inv.Request, Body: inv.Body, invoice: inv}
}

// Recorded is the state's record a change was planned against, as a plan carries it: what
// the review showed and what apply checks the state against (phase, status, the API's id and
// amount, and the hash of the recorded request). RequestCurrency and RequestAmount are the
// recorded request's, for the totals of resolves and pruned cancels; they are set for
// changes only (not for no-ops). Body is the recorded request in a plan made against the
// state, for the views; a plan read from a file has none, and apply always sends the bytes
// of the state's own record, never these.
type Recorded struct {
	Phase    state.Phase
	Status   string
	ID       int64
	Currency string // the API's answer, exact decimal text
	Amount   string
	BodyHash string

	RequestCurrency string
	RequestAmount   invoice.Amount

	Body []byte
}

// recordedInto sets rec to the payload of a state record r; money says whether to read the recorded
// request's currency and amount (a JSON parse, skipped for the many no-ops).
func recordedInto(rec *Recorded, r *state.Record, money bool) {
	*rec = Recorded{Phase: r.Phase, Status: r.Status, ID: r.ID, Currency: r.Currency, Amount: r.Amount, BodyHash: r.BodyHash, Body: r.Body}
	if money {
		rec.RequestCurrency, rec.RequestAmount, _ = invoice.Money(r.Body)
	}
}

// Change is what the plan says about one foreign_id. Before and After mean, per action:
//
//	action      Before                        After
//	create      nil                           the declared invoice
//	no-op       nil (its status is Status)    the declared invoice
//	cancel      the issued record             the declaring invoice, or nil under -prune
//	resolve     the pending record            the declaring invoice, or nil if undeclared
//	conflict    the issued or pending record  the declared invoice
//	undeclared  the record                    nil
//
// Range is the declaring block's header, so that apply errors point at the config line; it is
// empty when nothing declares the foreign_id.
type Change struct {
	Action    Action
	ForeignID string
	Before    *Recorded
	After     *Declared
	// Reason says why, in a short phrase, when the action alone does not
	// ("already cancelled", "not declared; -prune").
	Reason string
	Range  hcl.Range
	// Status is the invoice's status as plans count it, for a change with a record:
	// "created" while unknown, "cancelled" once cancelled (docs/planning.md, "Status").
	Status string
}

// Address is the declaring block's address, or "" when undeclared.
func (c *Change) Address() string {
	if c.After == nil {
		return ""
	}
	return c.After.Address
}

// Body is the exact request body apply would send: the declared one for a create, the
// recorded one for a resolve (resending the journaled bytes is what makes it exactly-once).
// It is nil when the plan does not hold it: a plan read from a file before Attach or Verify,
// and always for a resolve of a plan read from a file (apply resends the state's own bytes).
func (c *Change) Body() []byte {
	switch {
	case c.Action == Resolve && c.Before != nil:
		return c.Before.Body
	case c.After != nil:
		return c.After.Body
	case c.Before != nil:
		return c.Before.Body
	}
	return nil
}

// BodyHash is the hash of the body Body returns, known even when the body is not at hand.
func (c *Change) BodyHash() string {
	switch {
	case c.Action == Resolve && c.Before != nil:
		return c.Before.BodyHash
	case c.After != nil:
		return c.After.BodyHash
	case c.Before != nil:
		return c.Before.BodyHash
	}
	return ""
}

// Money is the currency and amount of the request the change is about: the declared one, or
// for a resolve or an undeclared record the recorded one.
func (c *Change) Money() (currency string, amount invoice.Amount, ok bool) {
	if c.After != nil && c.Action != Resolve && c.After.Currency != "" {
		return c.After.Currency, c.After.Amount, true
	}
	if c.Before != nil && c.Before.RequestCurrency != "" {
		return c.Before.RequestCurrency, c.Before.RequestAmount, true
	}
	return "", invoice.Amount{}, false
}

// Plan is the result of Make: every change in foreign_id order, the diagnostics, and what a
// saved plan must be checked against before it is applied.
type Plan struct {
	Changes     []*Change
	Diagnostics hcl.Diagnostics

	// Lineage and Serial are the state's at planning time: apply refuses the plan when the
	// state has moved since (CheckFresh).
	Lineage string
	Serial  uint64
	// Binding is the endpoint the plan is for and the fingerprint of the API key in the
	// environment (empty when none was set: plan needs no credentials).
	Binding state.Binding
	// ConfigHash is the SHA-256 over every declared invoice's hash in foreign_id order, its
	// cancel flag, and the planning settings (endpoint, targets, prune).
	ConfigHash string

	Targets []string
	Prune   bool

	// Settled are the undeclared records whose invoices are over (confirmed, failed or
	// cancelled), by foreign_id: not changes, never pruned, shown as one summary line.
	Settled []Settled
	// Statuses sums the recorded invoices of the plan by status: paid and open per
	// currency, and the unchanged ones per status.
	Statuses Statuses

	// saved is set on a plan read from a file; attached once the declared bodies were given
	// back from the configuration (Attach), verified once Verify also found the state's
	// records and gave the recorded bodies back.
	saved, attached, verified bool
}

// Saved reports whether p was read from a plan file.
func (p *Plan) Saved() bool { return p.saved }

// HasErrors reports whether the plan has error diagnostics (and so cannot be applied).
func (p *Plan) HasErrors() bool { return p.Diagnostics.HasErrors() }

// HasChanges reports whether apply would call the API at all.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action.IsChange() {
			return true
		}
	}
	return false
}

// Counts returns the number of changes per action.
func (p *Plan) Counts() map[Action]int {
	m := make(map[Action]int, len(actions))
	for _, c := range p.Changes {
		m[c.Action]++
	}
	return m
}

// Hash identifies the plan's content: what apply would do and against what. It covers the
// config hash, the state's lineage and serial, the binding, and every change's action,
// foreign_id, body hashes, currency and amount; never a time, so the same inputs always give
// the same hash. It is the same for a plan and for the plan read back from its file.
func (p *Plan) Hash() string {
	h := newFieldHash()
	h.field("invoiceform-plan-v2")
	h.field(p.ConfigHash)
	h.field(p.Lineage)
	h.field(strconv.FormatUint(p.Serial, 10))
	h.field(p.Binding.Endpoint)
	h.field(p.Binding.KeyFingerprint)
	for _, c := range p.Changes {
		h.field(c.Action.String())
		h.field(c.ForeignID)
		// A no-op's record has the same body hash as its invoice, and plan files leave it out,
		// as they leave out a no-op's money.
		if c.Before != nil && c.Action != NoOp {
			h.field(c.Before.BodyHash)
		} else {
			h.field("")
		}
		if c.After != nil {
			h.field(c.After.BodyHash)
		} else {
			h.field("")
		}
		cur, amt := "", ""
		if c.Action != NoOp {
			if cu, a, ok := c.Money(); ok {
				cur, amt = cu, a.String()
			}
		}
		h.field(cur)
		h.field(amt)
	}
	return h.sum()
}
