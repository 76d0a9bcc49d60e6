package config

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Attribute names of an invoice block that are not request fields.
const (
	attrForEach = "for_each"
	attrCancel  = "cancel"
)

// requestFields are the create-invoice fields an invoice block may set, in the API's names.
var requestFields = []string{
	"title", "description", "currency", "sender_currency", "amount", "timer", "type",
	"foreign_id", "end_user_reference", "url_success", "url_failed", "email_user", "sender_type",
}

var senderDataFields = []string{
	"first_name", "last_name", "date_of_birth", "email", "legal_name", "country_of_registration",
}

var invoiceSchema, senderDataSchema = func() (*hcl.BodySchema, *hcl.BodySchema) {
	inv := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "sender_data"}}}
	for _, f := range requestFields {
		inv.Attributes = append(inv.Attributes, hcl.AttributeSchema{Name: f})
	}
	inv.Attributes = append(inv.Attributes, hcl.AttributeSchema{Name: attrForEach}, hcl.AttributeSchema{Name: attrCancel})
	sd := &hcl.BodySchema{}
	for _, f := range senderDataFields {
		sd.Attributes = append(sd.Attributes, hcl.AttributeSchema{Name: f})
	}
	return inv, sd
}()

// decl is a decoded invoice block, evaluated once per instance.
type decl struct {
	block      *hcl.Block
	label      string
	attrs      hcl.Attributes // request fields, cancel and for_each
	senderData *hcl.Block
	sdAttrs    hcl.Attributes
	// byField holds the attributes of attrs and sdAttrs that are request fields, by their
	// field's bit: the evaluator asks for a score of them per instance.
	byField   [32]*hcl.Attribute
	instances []instance // nil without for_each
	forEach   bool
	// table holds the rows of instances whose for_each is a local kept as a table: their
	// values are rows of it, made only where an expression needs them (see eachValue).
	table *csvTable
	// ranges holds the source range of each field, shared by all instances.
	ranges map[string]hcl.Range
	// fixed holds, for for_each blocks, the values of attributes that do not use each:
	// evaluated once instead of once per instance.
	fixed map[string]cty.Value
	// failed holds the fields of fixed whose evaluation failed (reported once, in decode).
	failed fieldSet
}

type instance struct {
	key   cty.Value // a known, non-null string
	value cty.Value // cty.NilVal where the block has a table
	row   rowRef    // the row of the table, where it has one
}

// job is one invoice to evaluate: a block, or one instance of a for_each block.
type job struct {
	d    *decl
	inst int // index into d.instances, or -1
}

type result struct {
	inv   *Invoice
	diags hcl.Diagnostics
}

// item is one invoice block of a file: decoded, and evaluated unless it has for_each, whose
// instances are evaluated together across all files (see finishInvoices).
type item struct {
	decoded bool
	// d is the decoded for_each block, nil for other blocks: their syntax trees are not
	// kept once they are evaluated.
	d     *decl
	diags hcl.Diagnostics
	res   result // the invoice of a block without for_each
	first int    // for for_each blocks: the index of the first instance's result
}

// evalBlocks decodes invoice blocks and evaluates those without for_each, on all cores when
// there are many.
func (l *loader) evalBlocks(blocks []*hcl.Block) []item {
	items := make([]item, len(blocks))
	workers := 1
	if len(blocks) >= 2048 {
		workers = l.opts.Parallelism
	}
	parallel(len(blocks), workers, 64, func(i int) {
		it := &items[i]
		d, diags := l.decode(blocks[i])
		it.decoded, it.diags = d != nil, diags
		switch {
		case d == nil:
		case d.forEach:
			it.d = d
		default:
			it.res.inv, it.res.diags = l.evalInvoice(job{d, -1})
		}
	})
	return items
}

// finishInvoices evaluates the for_each instances of every file on all cores, then collects
// the invoices in file and block order and checks that foreign_ids are unique.
func (l *loader) finishInvoices(units []*unit) {
	var jobs []job
	total := 0
	for _, u := range units {
		for i := range u.items {
			it := &u.items[i]
			if !it.decoded {
				continue
			}
			if it.d == nil {
				total++
				continue
			}
			it.first = len(jobs)
			for k := range it.d.instances {
				jobs = append(jobs, job{it.d, k})
			}
			total += len(it.d.instances)
		}
	}
	results := make([]result, len(jobs))
	parallel(len(jobs), l.opts.Parallelism, 64, func(i int) {
		results[i].inv, results[i].diags = l.evalInvoice(jobs[i])
	})
	// Ids are compared in lower case: whether the API tells "A-1" from "a-1" is not
	// documented, so two ids that differ only in case are refused as if equal. They are
	// looked up by a hash of that lower case, mapped to the first invoice that has it (a map
	// of 1,000,000 strings costs a cache miss on the key's text, and a lower-case copy of
	// each); two different ids that share a hash are told apart by their text in clash.
	// While the ids come in increasing order of their lower case (an export sorted by id),
	// each is new and none is looked up: the map is made only when the order first breaks.
	seed := maphash.MakeSeed()
	var (
		seen    map[uint64]int32
		clash   map[string]*Invoice
		ordered = true
	)
	l.cfg.Invoices = make([]*Invoice, 0, total)
	// insert files inv, the i-th invoice, under its id, or returns the invoice filed under
	// the same lower-case id before it.
	insert := func(inv *Invoice, i int) (prev *Invoice) {
		h := idHash(seed, inv.ForeignID)
		first, found := seen[h]
		if !found {
			seen[h] = int32(i)
			return nil
		}
		if prev := l.cfg.Invoices[first]; sameLower(prev.ForeignID, inv.ForeignID) {
			return prev
		}
		if clash == nil {
			clash = map[string]*Invoice{}
		}
		key := strings.ToLower(inv.ForeignID)
		if prev, ok := clash[key]; ok {
			return prev
		}
		clash[key] = inv
		return nil
	}
	add := func(r result) {
		l.diags = append(l.diags, r.diags...)
		if r.inv == nil || r.inv.ForeignID == "" {
			return // no foreign_id to compare: its error is reported already
		}
		if ordered {
			if n := len(l.cfg.Invoices); n == 0 || lowerLess(l.cfg.Invoices[n-1].ForeignID, r.inv.ForeignID) {
				l.cfg.Invoices = append(l.cfg.Invoices, r.inv)
				return
			}
			ordered = false
			seen = make(map[uint64]int32, total)
			for i, inv := range l.cfg.Invoices {
				insert(inv, i) // all different: they were in order
			}
		}
		prev := insert(r.inv, len(l.cfg.Invoices))
		if prev != nil {
			d := &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate foreign_id",
				Detail: fmt.Sprintf("%s has foreign_id %q, which %s at %s already has. The API accepts each foreign_id once per merchant; give every invoice its own.",
					r.inv.Address, r.inv.ForeignID, prev.Address, prev.DeclRange),
				Subject: r.inv.AttrRange("foreign_id").Ptr(), // where the foreign_id is set
			}
			if prev.ForeignID != r.inv.ForeignID {
				d.Summary = "foreign_ids differ only in letter case"
				d.Detail = fmt.Sprintf("%s has foreign_id %q and %s at %s has %q. Whether the API treats ids that differ only in letter case as one invoice is not documented, so invoiceform refuses them; make them differ in more than case.",
					r.inv.Address, r.inv.ForeignID, prev.Address, prev.DeclRange, prev.ForeignID)
			}
			l.diags = append(l.diags, d)
			return
		}
		l.cfg.Invoices = append(l.cfg.Invoices, r.inv)
	}
	for _, u := range units {
		for i := range u.items {
			it := &u.items[i]
			l.diags = append(l.diags, it.diags...)
			switch {
			case !it.decoded:
			case it.d == nil:
				add(it.res)
			default:
				for k := range it.d.instances {
					add(results[it.first+k])
				}
			}
		}
	}
}

// sameLower reports whether a and b are the same in lower case, as strings.ToLower makes
// them: the ids' key. strings.EqualFold folds more ("ſ" and "s" are equal to it).
func sameLower(a, b string) bool {
	//lint:ignore SA6005 EqualFold is not the key: see above
	return strings.ToLower(a) == strings.ToLower(b)
}

// lowerLess reports whether strings.ToLower(a) < strings.ToLower(b), when it can tell
// without a copy: when a and b are ASCII up to their first difference. Otherwise it reports
// false, and the caller looks the id up instead.
func lowerLess(a, b string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return false
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return x < y
		}
	}
	return len(a) < len(b)
}

// idHash is lowerHash; tests make every id collide.
var idHash = lowerHash

// lowerHash is the hash of strings.ToLower(id), without a copy for an ASCII id of up to 128
// bytes.
func lowerHash(seed maphash.Seed, id string) uint64 {
	var buf [128]byte
	if len(id) > len(buf) {
		return maphash.String(seed, strings.ToLower(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= utf8.RuneSelf:
			return maphash.String(seed, strings.ToLower(id))
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return maphash.Bytes(seed, buf[:len(id)])
}

// decode checks a block's structure and evaluates its for_each.
func (l *loader) decode(b *hcl.Block) (*decl, hcl.Diagnostics) {
	content, diags := b.Body.Content(invoiceSchema)
	d := &decl{block: b, label: b.Labels[0], attrs: content.Attributes}
	for i, sb := range content.Blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate sender_data block",
				Detail:   fmt.Sprintf("An invoice has one sender_data block; the first is at %s.", content.Blocks[0].DefRange),
				Subject:  sb.DefRange.Ptr(),
			})
			continue
		}
		if len(sb.Labels) > 0 {
			continue
		}
		d.senderData = sb
		sdContent, sdDiags := sb.Body.Content(senderDataSchema)
		diags = append(diags, sdDiags...)
		d.sdAttrs = sdContent.Attributes
	}
	if diags.HasErrors() {
		d.failed |= misspelled(b.Body, invoiceSchema, "") | misspelled(d.senderData, senderDataSchema, "sender_data.")
	}
	d.ranges = make(map[string]hcl.Range, len(d.attrs)+len(d.sdAttrs)+2)
	for name, a := range d.attrs {
		d.ranges[name] = a.Expr.Range()
		if b := bit(name); b != 0 {
			d.byField[bits.TrailingZeros32(uint32(b))] = a
		}
	}
	for name, a := range d.sdAttrs {
		d.ranges["sender_data."+name] = a.Expr.Range()
		if b := bit("sender_data." + name); b != 0 {
			d.byField[bits.TrailingZeros32(uint32(b))] = a
		}
	}
	if d.senderData != nil {
		d.ranges["sender_data"] = d.senderData.DefRange
	}
	if _, ok := d.attrs["foreign_id"]; !ok && len(b.LabelRanges) > 0 {
		d.ranges["foreign_id"] = b.LabelRanges[0]
	}
	if d.label == "" {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty invoice label",
			Detail:   `Give the invoice a label, e.g. invoice "order_1001" { ... }; it is the foreign_id unless foreign_id is set.`,
			Subject:  b.LabelRanges[0].Ptr(),
		})
		if _, ok := d.attrs["foreign_id"]; !ok {
			d.failed.add("foreign_id") // reported here, not again as an empty foreign_id
		}
	}
	// An unknown argument, a second sender_data block or an empty label does not stop the
	// block: the attributes that did decode are evaluated and checked in the same run, so
	// that every independent problem is reported at once.
	fe, ok := d.attrs[attrForEach]
	if !ok {
		return d, diags
	}
	d.forEach = true
	if _, ok := d.attrs["foreign_id"]; !ok {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing foreign_id in a for_each block",
			Detail:   `Every instance needs its own foreign_id, so a block with for_each must set one from the instance, e.g. foreign_id = "march-${each.key}".`,
			Subject:  fe.NameRange.Ptr(),
		})
		return nil, diags
	}
	var insts []instance
	if kt := l.forEachTable(fe.Expr); kt != nil {
		d.table, insts = kt.csvTable, kt.instances()
	} else {
		val, vdiags := evalExpr(fe.Expr, l.ctx)
		if !vdiags.HasErrors() {
			vdiags = l.checkValueSize(fe.Expr, val)
		}
		diags = append(diags, l.redact(vdiags)...)
		if vdiags.HasErrors() {
			return nil, diags
		}
		var err string
		insts, err = forEachInstances(val)
		if err != "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid for_each value",
				Detail:   err,
				Subject:  fe.Expr.Range().Ptr(),
			})
			return nil, diags
		}
	}
	d.instances = insts
	d.fixed = map[string]cty.Value{}
	for _, group := range []struct {
		prefix string
		attrs  hcl.Attributes
	}{{"", d.attrs}, {"sender_data.", d.sdAttrs}} {
		for name, a := range group.attrs {
			if name == attrForEach || refersTo(a.Expr, "each") {
				continue
			}
			field := group.prefix + name
			v, vdiags := a.Expr.Value(l.ctx)
			diags = append(diags, l.redactField(field, vdiags)...)
			if vdiags.HasErrors() {
				// Reported once here; the instances skip the field (and the rules
				// that depend on it) instead of repeating the error.
				d.failed.add(field)
				continue
			}
			v, _ = v.Unmark()
			d.fixed[field] = v
		}
	}
	if d.failed.has("foreign_id") {
		return nil, diags
	}
	if len(insts) > 1 && !refersTo(d.attrs["foreign_id"].Expr, "each") {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "foreign_id does not differ per instance",
			Detail:   fmt.Sprintf(`This block makes %d invoices, and its foreign_id does not use each, so they would all share one foreign_id. Use the instance, e.g. foreign_id = "%s-${each.key}".`, len(insts), d.label),
			Subject:  d.attrs["foreign_id"].Expr.Range().Ptr(),
		})
		return nil, diags
	}
	return d, diags
}

// misspelled returns the fields that an unsupported argument of body is a misspelling of
// (titel for title): they are reported as "Did you mean", and not again as missing.
func misspelled(body any, schema *hcl.BodySchema, prefix string) fieldSet {
	var syn *hclsyntax.Body
	switch x := body.(type) {
	case *hcl.Block:
		if x != nil {
			syn, _ = x.Body.(*hclsyntax.Body)
		}
	case hcl.Body:
		syn, _ = x.(*hclsyntax.Body)
	}
	if syn == nil {
		return 0
	}
	names := make([]string, len(schema.Attributes))
	for i, a := range schema.Attributes {
		names[i] = a.Name
	}
	var out fieldSet
	for name := range syn.Attributes {
		if bit(prefix+name) == 0 {
			if s := closestName(name, names); s != "" {
				out.add(prefix + s)
			}
		}
	}
	return out
}

// forEachInstances turns a for_each value into instances: a map or object gives one per
// element (key = element key), a set of strings one per string (key = value = the string).
func forEachInstances(v cty.Value) ([]instance, string) {
	ty := v.Type()
	switch {
	case v.IsNull():
		return nil, "for_each is null; give it a map, an object or a set of strings."
	case !v.IsKnown():
		return nil, "for_each is not known."
	case ty.IsMapType() || ty.IsObjectType():
		insts := make([]instance, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			insts = append(insts, instance{key: k, value: e})
		}
		return insts, ""
	case ty.IsSetType():
		if !ty.ElementType().Equals(cty.String) {
			return nil, fmt.Sprintf("for_each is a set of %s; a set must hold strings (its keys). Use a map to iterate over other values.", ty.ElementType().FriendlyName())
		}
		insts := make([]instance, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return nil, "for_each holds a null string; remove it from the set."
			}
			insts = append(insts, instance{key: e, value: e})
		}
		return insts, ""
	case ty.IsListType() || ty.IsTupleType():
		return nil, "for_each is a list; it needs a map or a set of strings, so that each invoice has a stable key. Use a for expression to build a map keyed by a unique column, e.g. { for r in csvdecode(file(\"invoices.csv\")) : r.id => r }, or toset(...) for strings."
	default:
		return nil, fmt.Sprintf("for_each is %s; it needs a map, an object or a set of strings.", ty.FriendlyName())
	}
}

func refersTo(expr hcl.Expression, root string) bool {
	for _, t := range expr.Variables() {
		if t.RootName() == root {
			return true
		}
	}
	return false
}

func (j job) address() string {
	if j.inst < 0 {
		return "invoice." + j.d.label
	}
	// One string, built in a buffer of about its size: a million instances have one each.
	key := j.d.instances[j.inst].key.AsString()
	b := make([]byte, 0, len("invoice.")+len(j.d.label)+len(key)+8)
	b = append(append(append(b, "invoice."...), j.d.label...), '[')
	b = strconv.AppendQuote(b, key)
	return string(append(b, ']'))
}

// subject is the range to point at for a field: the attribute when it was set, else the block.
// The ranges belong to the block, shared by its instances and its invoices (AttrRange).
func (e *evaluator) subject(field string) hcl.Range {
	if r, ok := e.d.ranges[field]; ok {
		return r
	}
	return e.inv.DeclRange
}

// redactField keeps values out of the diagnostics of evaluating a field: none at all for a
// personal field, sensitive variables' values for the others.
func (l *loader) redactField(field string, diags hcl.Diagnostics) hcl.Diagnostics {
	if !isPersonal(field) {
		return l.redact(diags)
	}
	for _, d := range diags {
		d.EvalContext = nil // never print personal data next to an error
	}
	return l.redact(diags)
}

// isPersonal reports whether an attribute holds personal data, whose value must not be
// shown in diagnostics.
func isPersonal(field string) bool {
	return field == "email_user" || strings.HasPrefix(field, "sender_data.")
}
