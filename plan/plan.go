package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/state"
)

// Change is what the plan says about one foreign_id. Before and After mean, per action:
//
//	action      Before                        After
//	create      nil                           the declared invoice
//	no-op       the record (nil in a file)    the declared invoice (body omitted in a file)
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
	Before    *state.Record
	After     *config.Invoice
	// Reason says why, in a short phrase, when the action alone does not
	// ("already cancelled", "not declared; -prune").
	Reason string
	Range  hcl.Range
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
}

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
// foreign_id and body hashes; never a time, so the same inputs always give the same hash.
func (p *Plan) Hash() string {
	h := sha256.New()
	var buf []byte
	// Each field is written as LENGTH:BYTES, so no two different plans hash the same bytes.
	field := func(h hash.Hash, s string) {
		buf = strconv.AppendInt(buf[:0], int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		h.Write(buf)
	}
	field(h, "invoiceform-plan-v1")
	field(h, p.ConfigHash)
	field(h, p.Lineage)
	field(h, strconv.FormatUint(p.Serial, 10))
	field(h, p.Binding.Endpoint)
	field(h, p.Binding.KeyFingerprint)
	for _, c := range p.Changes {
		field(h, c.Action.String())
		field(h, c.ForeignID)
		// A no-op's record has the same body hash as its invoice, and plan files leave it out.
		if c.Before != nil && c.Action != NoOp {
			field(h, c.Before.BodyHash)
		} else {
			field(h, "")
		}
		if c.After != nil {
			field(h, c.After.Hash)
		} else {
			field(h, "")
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
