package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// Options are the planning settings.
type Options struct {
	// Targets limits the plan to these foreign_ids (-target); empty plans everything. A
	// target neither declared nor in the state is an error.
	Targets []string
	// Prune plans a cancel for every open issued invoice that is no longer declared.
	Prune bool
	// Endpoint is the API base URL the plan is for; KeyFingerprint the fingerprint of the API
	// key in the environment, if any. Both go into the plan's binding.
	Endpoint       string
	KeyFingerprint string
}

// openStatuses are the invoice statuses that can still be cancelled. An issued record
// without a status (adopted from an "already taken" answer, no callback yet) counts as open:
// the API refuses a cancel it cannot do, and apply reports that.
var openStatuses = map[string]bool{"": true, "created": true, "pending": true, "processing": true}

// Make diffs the declared invoices against a state snapshot. It is pure: no I/O, no clock,
// and the same inputs always give the same plan. A nil snapshot is an empty state.
func Make(invoices []*config.Invoice, snap *state.Snapshot, opts Options) *Plan {
	if snap == nil {
		snap = &state.Snapshot{}
	}
	p := &Plan{
		Lineage: snap.Lineage,
		Serial:  snap.Serial,
		Binding: state.Binding{Endpoint: opts.Endpoint, KeyFingerprint: opts.KeyFingerprint},
		Prune:   opts.Prune,
	}
	var targets map[string]bool
	if len(opts.Targets) > 0 {
		targets = make(map[string]bool, len(opts.Targets))
		for _, t := range opts.Targets {
			targets[t] = true
		}
		p.Targets = slices.Compact(slices.Sorted(func(yield func(string) bool) {
			for t := range targets {
				if !yield(t) {
					return
				}
			}
		}))
	}
	// The invoices in foreign_id order: for the config hash, and to merge with the records.
	order := sortedOrder(invoices)
	// The config hash (SHA-256 over every invoice) is computed beside the rest of Make.
	cfgHash := make(chan string, 1)
	go func() { cfgHash <- configHash(invoices, order, opts, p.Targets) }()
	defer func() { p.ConfigHash = <-cfgHash }()

	if b := snap.Binding; !b.IsZero() {
		switch {
		case opts.Endpoint != "" && b.Endpoint != opts.Endpoint:
			p.Diagnostics = append(p.Diagnostics, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "State belongs to another endpoint",
				Detail:   fmt.Sprintf("The state was applied against %s, and this plan is for %s. A state made against one endpoint (sandbox, production) never describes invoices at another: set the endpoint the state belongs to (settings or INVOICEFORM_ENDPOINT), or use another -state.", b.Endpoint, opts.Endpoint),
			})
		case opts.KeyFingerprint != "" && b.KeyFingerprint != opts.KeyFingerprint:
			p.Diagnostics = append(p.Diagnostics, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "State belongs to another API key",
				Detail:   fmt.Sprintf("The state was applied with the API key whose fingerprint is %s, and INVOICEFORM_API_KEY has fingerprint %s. Use the key the state belongs to, or another -state.", b.KeyFingerprint, opts.KeyFingerprint),
			})
		}
	}
	var declaredTargets map[string]bool
	if targets != nil {
		declaredTargets = map[string]bool{}
		for _, inv := range invoices {
			if targets[inv.ForeignID] {
				declaredTargets[inv.ForeignID] = true
			}
		}
	}
	for _, t := range p.Targets {
		if !declaredTargets[t] && snap.Lookup(t) == nil {
			p.Diagnostics = append(p.Diagnostics, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown target",
				Detail:   fmt.Sprintf("-target=%s names a foreign_id that is neither declared in the configuration nor in the state. Check the spelling: a target is a foreign_id, not an address.", t),
			})
		}
	}

	recs := snap.InOrder()
	recOf, used, matched := match(invoices, order, recs)
	// At most a change per invoice and per record no invoice declares.
	most := len(invoices) + len(recs) - matched
	p.Changes = make([]*Change, 0, most)
	// The declared pass, most of Make, runs in two parts on two cores from 65,536 invoices:
	// each part plans its share into a plan of its own, and the parts are joined in order, so
	// the changes, the diagnostics and the totals are the ones one pass would give.
	makers := make([]*maker, partsOf(len(invoices)))
	eachPart(len(invoices), len(makers), func(k, lo, hi int) {
		m := newMaker(&Plan{Changes: make([]*Change, 0, hi-lo)}, hi-lo, hi-lo)
		makers[k] = m
		for i := lo; i < hi; i++ {
			inv := invoices[i]
			if targets != nil && !targets[inv.ForeignID] {
				continue
			}
			rec := recOf[i]
			if rec != nil {
				m.p.Statuses.add(rec, inv)
			}
			m.declared(inv, rec)
		}
	})
	for _, m := range makers {
		p.Changes = append(p.Changes, m.p.Changes...)
		p.Diagnostics = append(p.Diagnostics, m.p.Diagnostics...)
		p.Statuses.merge(&m.p.Statuses)
	}
	m := newMaker(p, len(recs)-matched, 0)
	// The records no block declares, in foreign_id order.
	var processing []string
	for j, rec := range recs {
		if used[j] || targets != nil && !targets[rec.ForeignID] {
			continue
		}
		p.Statuses.add(rec, nil)
		if m.undeclared(rec, opts.Prune) {
			processing = append(processing, rec.ForeignID)
		}
	}
	if len(processing) > 0 {
		p.Diagnostics = append(p.Diagnostics, pruneWarning(processing))
	}
	// Declarations in foreign_id order (the usual case) with no undeclared record leave the
	// changes sorted already, and the sort only checks that.
	slices.SortFunc(p.Changes, func(a, b *Change) int { return strings.Compare(a.ForeignID, b.ForeignID) })
	p.Statuses.finish(p.Changes)
	return p
}

// maker makes the changes of one plan, or of a part of one. Changes and their declarations
// come from slabs made at their full size at once, records (for changes other than no-ops,
// few) from smaller ones: at 1,000,000 no-ops, two million small allocations cost more than
// the rest of Make.
type maker struct {
	p       *Plan
	changes slab[Change]
	decls   slab[Declared]
	recs    slab[Recorded]
}

// newMaker makes changes into p, with room in its slabs for changes changes, as many
// declarations as decls.
func newMaker(p *Plan, changes, decls int) *maker {
	return &maker{p: p, changes: slab[Change]{s: make([]Change, 0, changes)}, decls: slab[Declared]{s: make([]Declared, 0, decls)}}
}

// slab hands out the elements of a slice, and of new ones once it is used up.
type slab[T any] struct{ s []T }

// new hands out the next element, from a new slice of 256 when the last is used up.
func (s *slab[T]) new() *T {
	if len(s.s) == cap(s.s) {
		s.s = make([]T, 0, 256)
	}
	s.s = s.s[:len(s.s)+1]
	return &s.s[len(s.s)-1]
}

// match pairs each declared invoice with its record (recOf[i] for invoices[i], nil when it
// has none) and marks the records some invoice declares (used), by merging the invoices in
// foreign_id order with recs, which are in that order (state.Snapshot.InOrder). At 1,000,000
// records a map lookup per invoice costs several times the whole merge: each is a cache miss.
// matched counts the records used.
func match(invoices []*config.Invoice, order []int32, recs []*state.Record) (recOf []*state.Record, used []bool, matched int) {
	recOf = make([]*state.Record, len(invoices))
	used = make([]bool, len(recs))
	if len(recs) == 0 || len(invoices) == 0 {
		return recOf, used, 0
	}
	j := 0
	for k := range invoices {
		i := k
		if order != nil {
			i = int(order[k])
		}
		id := invoices[i].ForeignID
		for j < len(recs) && recs[j].ForeignID < id {
			j++
		}
		if j < len(recs) && recs[j].ForeignID == id {
			if !used[j] {
				matched++
			}
			recOf[i], used[j] = recs[j], true
		}
	}
	return recOf, used, matched
}

// declared plans one declared invoice against its record (nil when there is none).
func (m *maker) declared(inv *config.Invoice, rec *state.Record) {
	p := m.p
	c := m.changes.new()
	*c = Change{ForeignID: inv.ForeignID, After: m.decls.new(), Range: inv.DeclRange}
	declaredInto(c.After, inv)
	switch {
	case rec == nil && inv.Cancel:
		p.Diagnostics = append(p.Diagnostics, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Cancel of an invoice that was never issued",
			Detail:   fmt.Sprintf("%s has cancel = true, but foreign_id %q is not in the state: there is nothing to cancel, and it will not be created. Remove the block once this is intended.", inv.Address, inv.ForeignID),
			Subject:  inv.DeclRange.Ptr(),
		})
		return
	case rec == nil:
		c.Action = Create
	case rec.BodyHash != inv.Hash:
		c.Action = Conflict
		p.Diagnostics = append(p.Diagnostics, conflictDiag(inv, rec))
	case rec.Phase == state.Pending:
		c.Action = Resolve
		c.Reason = "pending from an interrupted apply"
		if inv.Cancel {
			c.Reason += "; cancel once it is resolved"
		}
	case !inv.Cancel:
		c.Action = NoOp
		if rec.Phase == state.Cancelled {
			c.Reason = "cancelled"
		}
	case rec.Phase == state.Cancelled || rec.Status == "cancelled":
		// A cancel made elsewhere (the dashboard) arrives as a callback status.
		c.Action, c.Reason = NoOp, "already cancelled"
	case !openStatuses[rec.Status]:
		c.Action, c.Reason = NoOp, fmt.Sprintf("status %s cannot be cancelled", rec.Status)
		p.Diagnostics = append(p.Diagnostics, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Cancel of a finished invoice",
			Detail:   fmt.Sprintf("%s has cancel = true, but invoice %q has status %q, which is final: only created, pending and processing invoices can be cancelled. Nothing will be done.", inv.Address, inv.ForeignID, rec.Status),
			Subject:  inv.DeclRange.Ptr(),
		})
	default:
		c.Action, c.Reason = Cancel, "cancel = true"
	}
	if rec != nil && c.Action != NoOp {
		// A no-op carries no record, as in a plan file: what the views and the file show of
		// it is its status, and at 1,000,000 unchanged invoices the copies cost 160 MB.
		c.Before = m.recs.new()
		recordedInto(c.Before, rec, true)
	}
	if rec != nil {
		if rec.Phase != state.Pending {
			c.Status = effectiveStatus(rec.Phase, rec.Status)
		}
	}
	p.Changes = append(p.Changes, c)
}

// undeclared plans a record that no block declares. What -prune may do depends on the
// status (docs/planning.md, "Undeclared invoices and -prune"):
//
//	status                               without -prune      with -prune
//	created, pending, unknown ("")        undeclared          cancel
//	processing (a payment is under way)   undeclared          undeclared, and a warning
//	confirmed, failed; or cancelled       settled: not a change, one summary line
//
// A record whose status is unknown (adopted, no callback yet) counts as created. A pending
// record (an interrupted create) is resolved whatever the configuration says.
func (m *maker) undeclared(rec *state.Record, prune bool) (processing bool) {
	p := m.p
	c := m.changes.new()
	*c = Change{ForeignID: rec.ForeignID, Before: m.recs.new()}
	recordedInto(c.Before, rec, true)
	if rec.Phase != state.Pending {
		c.Status = effectiveStatus(rec.Phase, rec.Status)
	}
	switch {
	case rec.Phase == state.Pending:
		// The journal entry may have created an invoice: it must be resolved whatever the
		// config says now, or an issued invoice would be lost to the state.
		c.Action, c.Reason = Resolve, "pending from an interrupted apply; no longer declared"
	case settledStatus(rec) != "":
		p.Settled = append(p.Settled, Settled{ForeignID: rec.ForeignID, Status: settledStatus(rec)})
		return false
	case state.OpenUnpaid(rec.Status) && prune:
		c.Action, c.Reason = Cancel, "not declared; -prune"
	case state.OpenUnpaid(rec.Status):
		c.Action, c.Reason = Undeclared, "not declared; left open (-prune would cancel it)"
	case rec.Status == state.StatusProcessing:
		c.Action, c.Reason = Undeclared, "not declared; processing: a payment is under way, -prune never cancels it"
		processing = prune
	default:
		c.Action, c.Reason = Undeclared, "not declared; status "+rec.Status
	}
	p.Changes = append(p.Changes, c)
	return processing
}

// settledStatus is "confirmed" or "failed" for a record whose invoice is in a final status,
// "cancelled" for one that was cancelled (by apply, or elsewhere: a callback status), and ""
// while the invoice can still change.
func settledStatus(rec *state.Record) string {
	switch {
	case rec.Phase == state.Pending:
		return ""
	case rec.Phase == state.Cancelled || rec.Status == "cancelled":
		return "cancelled"
	case state.FinalStatus(rec.Status):
		return rec.Status
	}
	return ""
}

// pruneWarning is the one warning for the undeclared invoices -prune leaves alone because a
// payment is under way.
func pruneWarning(ids []string) *hcl.Diagnostic {
	sort.Strings(ids)
	list := ids
	more := ""
	if len(list) > 10 {
		list, more = list[:10], fmt.Sprintf(" and %d more", len(ids)-10)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Invoices being paid are not pruned",
		Detail: fmt.Sprintf("%s no longer declared %s status processing: a payment is under way, so -prune does not cancel %s: %s%s. Plan again once the payment is confirmed or failed.",
			count(len(ids), "invoice", "invoices"), map[bool]string{true: "has", false: "have"}[len(ids) == 1], map[bool]string{true: "it", false: "them"}[len(ids) == 1], strings.Join(list, ", "), more),
	}
}

// conflictDiag explains a conflict field by field. Personal fields are named, never shown:
// diagnostics are printed in pull requests.
func conflictDiag(inv *config.Invoice, rec *state.Record) *hcl.Diagnostic {
	diffs := FieldDiff(rec.Body, inv.Body)
	what, fix := "was issued", "Issued invoices cannot change: revert the block to the issued request, or set cancel = true on it and declare the new invoice under a new foreign_id."
	summary := "Issued invoice changed"
	if rec.Phase == state.Pending {
		what = "has a pending create"
		summary = "Pending invoice changed"
		fix = "The pending request may already have created the invoice, so it wins: revert the block to the pending request and apply to resolve it first; then cancel it if it is unwanted."
	}
	if rec.Phase == state.Cancelled {
		what = "was issued and cancelled"
		fix = "A cancelled invoice's foreign_id cannot be reused: revert the block, and declare the new invoice under a new foreign_id."
	}
	changed := strings.Join(diffs, "; ")
	if changed == "" {
		changed = "the request body differs"
	}
	// Point at the first changed attribute ("amount 10.00 → 99.00"), but never at a personal
	// one: the snippet would show its value. With only personal changes, at the header.
	subject := inv.DeclRange
	for _, d := range diffs {
		if name := strings.SplitN(d, " ", 2)[0]; !invoice.IsPersonal(name) {
			subject = inv.AttrRange(name)
			break
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf("%s (foreign_id %q) %s with a different request: %s. %s", inv.Address, inv.ForeignID, what, changed, fix),
		Subject:  subject.Ptr(),
	}
}

// FieldDiff compares two request bodies field by field, in the order of the newer body's
// fields then any only in the older, and says "name old → new" for each change. Personal
// fields (invoice.PersonalFields) say only "name changed". Amounts are written with the
// currency's places, as "amount 10.00 → 99.00".
func FieldDiff(before, after []byte) []string {
	bf, bOK := Fields(before)
	af, aOK := Fields(after)
	if !bOK || !aOK {
		return nil
	}
	bm := make(map[string]json.RawMessage, len(bf))
	for _, f := range bf {
		bm[f.Name] = f.Value
	}
	am := make(map[string]bool, len(af))
	var out []string
	show := func(name string, v json.RawMessage, cur string) string {
		if v == nil {
			return "(unset)"
		}
		if name == "amount" {
			if a, err := invoice.ParseAmount(string(v)); err == nil {
				return invoice.FormatMoney(cur, a)
			}
		}
		return string(v)
	}
	bcur, acur := stringField(bm["currency"]), ""
	for _, f := range af {
		if f.Name == "currency" {
			acur = stringField(f.Value)
		}
	}
	for _, f := range af {
		am[f.Name] = true
		old, ok := bm[f.Name]
		if ok && bytes.Equal(old, f.Value) {
			continue
		}
		if invoice.IsPersonal(f.Name) {
			out = append(out, f.Name+" changed")
			continue
		}
		out = append(out, fmt.Sprintf("%s %s → %s", f.Name, show(f.Name, old, bcur), show(f.Name, f.Value, acur)))
	}
	for _, f := range bf {
		if am[f.Name] {
			continue
		}
		if invoice.IsPersonal(f.Name) {
			out = append(out, f.Name+" changed")
			continue
		}
		out = append(out, fmt.Sprintf("%s %s → (unset)", f.Name, show(f.Name, f.Value, bcur)))
	}
	return out
}

func stringField(v json.RawMessage) string {
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

// Field is one top-level field of a request body, its value the exact JSON text.
type Field struct {
	Name  string
	Value json.RawMessage
}

// Fields splits a JSON object body into its fields, in order. ok is false when the body is
// not a JSON object.
func Fields(body []byte) (fields []Field, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		key, isStr := tok.(string)
		if err != nil || !isStr {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		fields = append(fields, Field{key, v})
	}
	return fields, true
}

// configHash is the SHA-256 over every declared invoice in foreign_id order (id, body hash,
// cancel flag) and the settings that shape the plan. It changes exactly when a plan made
// from the same state could differ.
func configHash(invoices []*config.Invoice, order []int32, opts Options, targets []string) string {
	h := newFieldHash()
	line := func(fields ...string) {
		for _, f := range fields {
			h.field(f)
		}
		h.endLine()
	}
	line("endpoint", opts.Endpoint)
	line("prune", strconv.FormatBool(opts.Prune))
	line(append([]string{"targets"}, targets...)...)
	for k := range invoices {
		inv := inOrder(invoices, order, k)
		cancel := "false"
		if inv.Cancel {
			cancel = "true"
		}
		line(inv.ForeignID, inv.Hash, cancel)
	}
	return h.sum()
}
