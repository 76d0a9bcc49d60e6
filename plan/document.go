package plan

import (
	"encoding/json"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/diagview"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// FormatVersion is the version of the JSON plan document (docs/json-plan.md). Minor versions
// add fields; a major version renames or removes one.
const FormatVersion = "1.2"

// What a document's "bodies" says of its changes' "after" bodies (format 1.1).
const (
	// BodiesAll: a plan made now, or a saved plan apply verified against the configuration
	// and the state; every create, cancel and resolve shows its body.
	BodiesAll = "all"
	// BodiesDeclared: a saved plan whose declared bodies were given back from the
	// configuration at hand (they hash to the plan's); a resolve shows none.
	BodiesDeclared = "declared"
	// BodiesNone: a saved plan shown without its configuration: no body, only body_hash.
	BodiesNone = "none"
)

// bodies is the document's "bodies".
func (p *Plan) bodies() string {
	switch {
	case !p.saved || p.verified:
		return BodiesAll
	case p.attached:
		return BodiesDeclared
	}
	return BodiesNone
}

// ViewOptions shape every view of a plan.
type ViewOptions struct {
	// ShowSensitive shows email_user and sender_data instead of "(sensitive)".
	ShowSensitive bool
	// Files are the parsed config files, for diagnostic snippets; nil for a saved plan.
	Files map[string]*hcl.File
}

// Document is the data every view renders: the JSON document itself, and the source of the
// human and Markdown text. Changes is filled only by the JSON view; the others ask Change(i)
// for the few they print, so a 100,000-invoice plan is not converted in full to print 1,000.
type Document struct {
	FormatVersion string                `json:"format_version"`
	PlanHash      string                `json:"plan_hash"`
	ConfigHash    string                `json:"config_hash"`
	State         DocState              `json:"state"`
	Binding       state.Binding         `json:"binding"`
	Targets       []string              `json:"targets,omitempty"`
	Prune         bool                  `json:"prune"`
	Bodies        string                `json:"bodies"`
	Summary       Summary               `json:"summary"`
	Totals        []Total               `json:"totals"`
	Diagnostics   []diagview.Diagnostic `json:"diagnostics"`
	// Settled are the undeclared invoices that are over (format 1.2): not changes.
	Settled []Settled `json:"settled"`
	// Statuses are the recorded invoices' totals paid and open per currency (format 1.2).
	Statuses *Statuses `json:"statuses"`
	// Changes stays last: WriteJSON streams it after the rest.
	Changes []DocChange `json:"changes"`

	plan *Plan
	opts ViewOptions
}

// DocState is the state the plan was made against.
type DocState struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

// Summary counts the changes per action.
type Summary struct {
	Create       int  `json:"create"`
	Cancel       int  `json:"cancel"`
	Resolve      int  `json:"resolve"`
	NoOp         int  `json:"no_op"`
	Conflict     int  `json:"conflict"`
	Undeclared   int  `json:"undeclared"`
	Settled      int  `json:"settled"`
	HasChanges   bool `json:"has_changes"`
	ErrorCount   int  `json:"error_count"`
	WarningCount int  `json:"warning_count"`
}

// Total is the exact sum of one action's amounts in one currency.
type Total struct {
	Action   string `json:"action"`
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	// Total and Largest are exact decimal text ("1234.5"); views format them with the
	// currency's places.
	Total            string `json:"total"`
	Largest          string `json:"largest"`
	LargestForeignID string `json:"largest_foreign_id"`

	total, largest invoice.Amount
}

// DocChange is one change in the JSON document.
type DocChange struct {
	Action    string `json:"action"`
	Symbol    string `json:"symbol"`
	ForeignID string `json:"foreign_id"`
	Address   string `json:"address,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Status is the invoice's status in the state, for an unchanged or undeclared one, as
	// plans count it: "created" while unknown, "cancelled" once cancelled (format 1.2).
	Status   string          `json:"status,omitempty"`
	Range    *diagview.Range `json:"range,omitempty"`
	Currency string          `json:"currency,omitempty"`
	Amount   string          `json:"amount,omitempty"`
	Before   *DocRecord      `json:"before,omitempty"`
	// After is the request body apply would send (for a resolve, the recorded one), with
	// the personal fields as "(sensitive)" unless ShowSensitive.
	After    json.RawMessage `json:"after,omitempty"`
	BodyHash string          `json:"body_hash,omitempty"`
}

// DocRecord is what the state knew of the invoice.
type DocRecord struct {
	Phase    state.Phase `json:"phase"`
	Status   string      `json:"status,omitempty"`
	ID       int64       `json:"id,omitempty"`
	Amount   string      `json:"amount,omitempty"`
	Currency string      `json:"currency,omitempty"`
	BodyHash string      `json:"body_hash"`
}

// NewDocument makes the view data of a plan.
func NewDocument(p *Plan, opts ViewOptions) *Document { return newDocument(p, opts, true) }

// newDocument is NewDocument, with PlanHash left empty unless hash: the human text does not
// show it, and at 100,000 changes it costs tens of milliseconds.
func newDocument(p *Plan, opts ViewOptions, hash bool) *Document {
	dd := diagview.NewDocument(opts.Files, p.Diagnostics)
	d := &Document{
		FormatVersion: FormatVersion,
		ConfigHash:    p.ConfigHash,
		State:         DocState{p.Lineage, p.Serial},
		Binding:       p.Binding,
		Targets:       p.Targets,
		Prune:         p.Prune,
		Bodies:        p.bodies(),
		Diagnostics:   dd.Diagnostics,
		Totals:        []Total{},
		Changes:       []DocChange{},
		Settled:       p.Settled,
		Statuses:      &p.Statuses,
		plan:          p,
		opts:          opts,
	}
	if hash {
		d.PlanHash = p.Hash()
	}
	d.Summary.ErrorCount, d.Summary.WarningCount = dd.ErrorCount, dd.WarningCount
	d.Summary.Settled = len(p.Settled)
	if d.Settled == nil {
		d.Settled = []Settled{}
	}
	// The changes are counted in parts (eachPart) joined in order: the same counts and
	// totals, down to the first of equal largest amounts.
	type count struct {
		s      Summary
		totals invoice.Totals
	}
	counts := make([]count, partsOf(len(p.Changes)))
	eachPart(len(p.Changes), len(counts), func(k, lo, hi int) {
		n := &counts[k]
		for _, c := range p.Changes[lo:hi] {
			switch c.Action {
			case Create:
				n.s.Create++
			case Cancel:
				n.s.Cancel++
			case Resolve:
				n.s.Resolve++
			case NoOp:
				n.s.NoOp++
			case Conflict:
				n.s.Conflict++
			case Undeclared:
				n.s.Undeclared++
			}
			if !c.Action.IsChange() {
				continue
			}
			n.s.HasChanges = true
			if cur, amt, ok := c.Money(); ok {
				n.totals.Add(c.Action.String(), cur, amt, c.ForeignID)
			}
		}
	})
	var totals invoice.Totals
	for _, n := range counts {
		d.Summary.Create += n.s.Create
		d.Summary.Cancel += n.s.Cancel
		d.Summary.Resolve += n.s.Resolve
		d.Summary.NoOp += n.s.NoOp
		d.Summary.Conflict += n.s.Conflict
		d.Summary.Undeclared += n.s.Undeclared
		d.Summary.HasChanges = d.Summary.HasChanges || n.s.HasChanges
		totals.Merge(&n.totals)
	}
	for _, t := range totals.List(actionRank) {
		d.Totals = append(d.Totals, Total{Action: t.Group, Currency: t.Currency, Count: t.Count,
			Total: t.Sum.String(), Largest: t.Largest.String(), LargestForeignID: t.LargestForeignID,
			total: t.Sum, largest: t.Largest})
	}
	return d
}

func actionRank(name string) int {
	for i, a := range actions {
		if a.String() == name {
			return i
		}
	}
	return len(actions)
}

// Len is the number of changes.
func (d *Document) Len() int { return len(d.plan.Changes) }

// Change converts the i-th change of the plan.
func (d *Document) Change(i int) DocChange {
	c := d.plan.Changes[i]
	dc := DocChange{Action: c.Action.String(), Symbol: c.Action.Symbol(), ForeignID: c.ForeignID, Address: c.Address(), Reason: c.Reason}
	if c.Range.Filename != "" {
		r := c.Range
		dc.Range = &diagview.Range{Filename: r.Filename,
			Start: diagview.Pos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
			End:   diagview.Pos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte}}
	}
	if c.Action == NoOp || c.Action == Undeclared {
		dc.Status = c.Status
	}
	if c.Action == NoOp {
		// Unchanged invoices are named only: the plan file keeps no more of them, and
		// 100,000 of them should cost little.
		return dc
	}
	if cur, amt, ok := c.Money(); ok {
		dc.Currency, dc.Amount = cur, amt.String()
	}
	if b := c.Before; b != nil {
		dc.Before = &DocRecord{Phase: b.Phase, Status: b.Status, ID: b.ID, Amount: b.Amount, Currency: b.Currency, BodyHash: b.BodyHash}
	}
	if c.Action != NoOp && c.Action != Undeclared {
		dc.BodyHash = c.BodyHash()
		body := c.Body()
		declared := c.Action != Resolve && c.After != nil && c.After.Request != nil
		switch {
		case len(body) == 0:
			// A saved plan shown without its configuration, or a saved plan's resolve: the
			// file keeps no request body, only its hash.
		case d.opts.ShowSensitive:
			dc.After = json.RawMessage(body)
		case declared:
			dc.After = c.After.Request.EncodeRedacted() // valid JSON by construction
		default:
			dc.After = json.RawMessage(invoice.RedactBody(body))
		}
		if len(dc.After) > 0 && !declared && !json.Valid(dc.After) {
			dc.After = json.RawMessage(`"(invalid body)"`)
		}
	}
	return dc
}
