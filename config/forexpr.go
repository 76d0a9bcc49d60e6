package config

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// evalExpr evaluates an expression of a local or a for_each. The usual way to key a data file,
// `{ for r in csvdecode(file("x.csv")) : r.id => r }`, is an object-building for expression
// that HCL evaluates on one core; for large collections its elements are evaluated here on all
// cores instead. This fast path only ever succeeds on the plain case (no errors, no unknown,
// marked or null values, no duplicate keys, no grouping); anything else is evaluated by HCL
// itself, so results and diagnostics are exactly HCL's.
func evalExpr(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if fe, ok := expr.(*hclsyntax.ForExpr); ok && fe.KeyExpr != nil && !fe.Group {
		if v, ok := forObjectParallel(fe, ctx); ok {
			return v, nil
		}
	}
	v, diags := expr.Value(ctx)
	if fe, ok := expr.(*hclsyntax.ForExpr); ok && fe.KeyExpr != nil && !fe.Group && diags.HasErrors() {
		diags = explainDuplicates(fe, ctx, diags)
	}
	return v, diags
}

// forParallelMin is the collection size below which HCL's own evaluation is as fast.
const forParallelMin = 2048

func forObjectParallel(fe *hclsyntax.ForExpr, ctx *hcl.EvalContext) (cty.Value, bool) {
	coll, diags := fe.CollExpr.Value(ctx)
	if diags.HasErrors() || len(diags) > 0 || coll.IsNull() || !coll.IsKnown() || coll.IsMarked() || !coll.CanIterateElements() || coll.LengthInt() < forParallelMin {
		return cty.NilVal, false
	}
	n := coll.LengthInt()
	ks, vs := make([]cty.Value, 0, n), make([]cty.Value, 0, n)
	for it := coll.ElementIterator(); it.Next(); {
		k, v := it.Element()
		ks, vs = append(ks, k), append(vs, v)
	}
	type out struct {
		key     string
		val     cty.Value
		include bool
		bad     bool
	}
	outs := make([]out, n)
	// The usual key and value, r.id => r, are read straight from the element: a context per
	// element is made only for anything else.
	keyFast, valFast := loopTraversal(fe.KeyExpr, fe), loopTraversal(fe.ValExpr, fe)
	simple := fe.CondExpr == nil && keyFast != nil && valFast != nil
	parallel(n, runtime.GOMAXPROCS(0), 256, func(i int) {
		o := &outs[i]
		if simple {
			k, kok := keyFast(ks[i], vs[i])
			v, vok := valFast(ks[i], vs[i])
			if !kok || !vok || k.IsNull() || !k.IsKnown() || k.IsMarked() || k.Type() != cty.String || !v.IsKnown() || v.IsMarked() {
				o.bad = true
				return
			}
			o.key, o.val, o.include = k.AsString(), v, true
			return
		}
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{fe.ValVar: vs[i]}
		if fe.KeyVar != "" {
			child.Variables[fe.KeyVar] = ks[i]
		}
		if fe.CondExpr != nil {
			c, d := fe.CondExpr.Value(child)
			if len(d) > 0 || c.IsNull() || !c.IsKnown() || c.IsMarked() || c.Type() != cty.Bool {
				o.bad = true
				return
			}
			if c.False() {
				return
			}
		}
		k, d := fe.KeyExpr.Value(child)
		if len(d) > 0 || k.IsNull() || !k.IsKnown() || k.IsMarked() || k.Type() != cty.String {
			o.bad = true
			return
		}
		v, d := fe.ValExpr.Value(child)
		// Shallow checks suffice: the loader never makes unknown or marked values, and a
		// nested one would reach the result exactly as HCL would pass it on.
		if len(d) > 0 || !v.IsKnown() || v.IsMarked() {
			o.bad = true
			return
		}
		o.key, o.val, o.include = k.AsString(), v, true
	})
	vals := make(map[string]cty.Value, n)
	for i := range outs {
		o := &outs[i]
		if o.bad {
			return cty.NilVal, false
		}
		if !o.include {
			continue
		}
		if _, dup := vals[o.key]; dup {
			return cty.NilVal, false // HCL reports the duplicate key
		}
		vals[o.key] = o.val
	}
	return cty.ObjectVal(vals), true
}

// loopTraversal returns, for an expression that only follows one of the for expression's own
// variables (r, r.id, r.a["b"]), a function that evaluates it from the element's key and
// value as HCL would; ok is false where HCL would report an error. It returns nil for any
// other expression.
func loopTraversal(expr hclsyntax.Expression, fe *hclsyntax.ForExpr) func(k, v cty.Value) (cty.Value, bool) {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) == 0 {
		return nil
	}
	root, rest := st.Traversal.RootName(), st.Traversal[1:]
	var fromKey bool
	switch {
	case root == fe.ValVar:
	case fe.KeyVar != "" && root == fe.KeyVar:
		fromKey = true
	default:
		return nil
	}
	return func(k, v cty.Value) (cty.Value, bool) {
		if fromKey {
			v = k
		}
		if len(rest) == 0 {
			return v, true
		}
		r, diags := rest.TraverseRel(v)
		return r, len(diags) == 0
	}
}

// explainDuplicates replaces HCL's "Duplicate object key" errors of a for expression, which
// suggest grouping with "...", by one error per duplicated key that says which elements
// made it: for `{ for r in csvdecode(file("x.csv")) : r.id => r }`, the rows of the file and
// their lines. Grouping is never what a for_each wants: each key is one invoice.
func explainDuplicates(fe *hclsyntax.ForExpr, ctx *hcl.EvalContext, diags hcl.Diagnostics) hcl.Diagnostics {
	dup := false
	for _, d := range diags {
		if d.Summary == "Duplicate object key" {
			dup = true
		}
	}
	if !dup {
		return diags
	}
	coll, cdiags := fe.CollExpr.Value(ctx)
	if cdiags.HasErrors() || !coll.IsWhollyKnown() || coll.IsNull() || !coll.CanIterateElements() {
		return diags
	}
	coll, _ = coll.UnmarkDeep()
	list := coll.Type().IsListType() || coll.Type().IsTupleType()
	// The elements of each key, in order: list indexes (0-based) or map keys.
	byKey := map[string][]cty.Value{}
	var order []string
	i := 0
	for it := coll.ElementIterator(); it.Next(); i++ {
		k, v := it.Element()
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{fe.ValVar: v}
		if fe.KeyVar != "" {
			child.Variables[fe.KeyVar] = k
		}
		if fe.CondExpr != nil {
			c, d := fe.CondExpr.Value(child)
			if d.HasErrors() || !c.IsKnown() || c.IsNull() || c.Type() != cty.Bool {
				return diags
			}
			if c, _ = c.Unmark(); c.False() {
				continue
			}
		}
		key, d := fe.KeyExpr.Value(child)
		if d.HasErrors() || !key.IsKnown() || key.IsNull() {
			return diags
		}
		key, _ = key.Unmark()
		ks, err := convertTo(key, cty.String)
		if err != nil {
			return diags
		}
		s := ks.AsString()
		if _, ok := byKey[s]; !ok {
			order = append(order, s)
		}
		if list {
			k = cty.NumberIntVal(int64(i))
		}
		byKey[s] = append(byKey[s], k)
	}
	out := make(hcl.Diagnostics, 0, len(diags))
	var first *hcl.Diagnostic
	for _, d := range diags {
		if d.Summary != "Duplicate object key" {
			out = append(out, d)
		} else if first == nil {
			first = d
		}
	}
	name, lines := csvSource(fe, ctx)
	for _, key := range order {
		els := byKey[key]
		if len(els) < 2 {
			continue
		}
		var what string
		if list {
			var rows, at []string
			for _, e := range els {
				n, _ := e.AsBigFloat().Int64()
				rows = append(rows, strconv.FormatInt(n+1, 10))
				if int(n) < len(lines) {
					at = append(at, strconv.Itoa(lines[n]))
				}
			}
			if name != "" {
				what = fmt.Sprintf("Rows %s of %s", listNames(rows, 10), name)
				if len(at) == len(rows) {
					what += fmt.Sprintf(" (lines %s)", listNames(at, 10))
				}
			} else {
				what = fmt.Sprintf("Elements %s of the collection (counting from 1)", listNames(rows, 10))
			}
		} else {
			var ks []string
			for _, e := range els {
				ks = append(ks, strconv.Quote(e.AsString()))
			}
			what = fmt.Sprintf("The elements %s of the collection", listNames(ks, 10))
		}
		all := "all"
		if len(els) == 2 {
			all = "both"
		}
		out = append(out, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate key",
			Detail: fmt.Sprintf("%s %s have the key %q (%s), and each key must be unique: it names one invoice. Remove or correct the duplicate rows, or build the key from columns that are unique together.",
				what, all, key, exprText(fe.KeyExpr)),
			Subject: first.Subject,
			Context: first.Context,
		})
	}
	if first == nil || len(out) == len(diags)-countDup(diags) {
		return diags // nothing found again: keep HCL's own
	}
	return out
}

func countDup(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Summary == "Duplicate object key" {
			n++
		}
	}
	return n
}

// listNames is "a and b", "a, b and c", or the first max and how many more.
func listNames(names []string, max int) string {
	if len(names) > max {
		return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
	}
	return joinAnd(names)
}

// exprText is the source of an expression as written, for messages, when it is short.
func exprText(x hclsyntax.Expression) string {
	if st, ok := unbound(x).(*hclsyntax.ScopeTraversalExpr); ok {
		var b strings.Builder
		for _, t := range st.Traversal {
			switch t := t.(type) {
			case hcl.TraverseRoot:
				b.WriteString(t.Name)
			case hcl.TraverseAttr:
				b.WriteString("." + t.Name)
			default:
				return "the key expression"
			}
		}
		return b.String()
	}
	return "the key expression"
}

// csvSource recognises a for expression over csvdecode(file("NAME")) and returns NAME and
// the line each row starts on, or "" when the collection is anything else.
func csvSource(fe *hclsyntax.ForExpr, ctx *hcl.EvalContext) (string, []int) {
	call, ok := unbound(fe.CollExpr).(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "csvdecode" || len(call.Args) != 1 {
		return "", nil
	}
	text, d := call.Args[0].Value(ctx)
	if d.HasErrors() || !text.IsKnown() || text.IsNull() || text.Type() != cty.String {
		return "", nil
	}
	text, _ = text.Unmark()
	name := "the CSV text"
	if inner, ok := call.Args[0].(*hclsyntax.FunctionCallExpr); ok && inner.Name == "file" && len(inner.Args) == 1 {
		if p, d := inner.Args[0].Value(ctx); !d.HasErrors() && p.IsKnown() && !p.IsNull() && p.Type() == cty.String {
			p, _ = p.Unmark()
			name = p.AsString()
		}
	}
	cr := csv.NewReader(strings.NewReader(stripBOM(text.AsString())))
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return name, nil
	}
	var lines []int
	for {
		if _, err := cr.Read(); err != nil {
			break
		}
		line, _ := cr.FieldPos(0)
		lines = append(lines, line)
	}
	return name, lines
}

// keyedTable is the value of a local `{ for r in csvdecode(TEXT) : r.COL => r }` kept as the
// CSV table and its keys: an object of one row per key, with no object made.
type keyedTable struct {
	*csvTable
	keys []tableKey // in the order an object's elements iterate: by key, bytewise
}

type tableKey struct {
	key string
	row rowRef
}

// instances are the for_each instances of the local's value: one per key, in key order.
func (kt *keyedTable) instances() []instance {
	insts := make([]instance, len(kt.keys))
	for i, k := range kt.keys {
		insts[i] = instance{key: cty.StringVal(k.key), row: k.row}
	}
	return insts
}

// tablePattern recognises `{ for r in csvdecode(TEXT) : r.COL => r }` (with or without a
// key variable) and returns TEXT and COL.
func tablePattern(expr hcl.Expression) (hclsyntax.Expression, string, bool) {
	x, _ := expr.(hclsyntax.Expression)
	fe, ok := unbound(x).(*hclsyntax.ForExpr)
	if !ok || fe.Group || fe.CondExpr != nil || fe.KeyExpr == nil || fe.KeyVar == fe.ValVar {
		return nil, "", false
	}
	call, ok := unbound(fe.CollExpr).(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "csvdecode" || len(call.Args) != 1 || call.ExpandFinal {
		return nil, "", false
	}
	val, ok := fe.ValExpr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(val.Traversal) != 1 || val.Traversal.RootName() != fe.ValVar {
		return nil, "", false
	}
	key, ok := fe.KeyExpr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(key.Traversal) != 2 || key.Traversal.RootName() != fe.ValVar {
		return nil, "", false
	}
	col, ok := key.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		return nil, "", false
	}
	return call.Args[0], col.Name, true
}

// tableLocal evaluates a local of tablePattern's form as a table, charging the evaluation
// limits exactly what HCL's evaluation would charge (csvdecode's elements, the for
// expression's iterations) and checking its size as checkValueSize would. It returns nil,
// having charged nothing, wherever HCL's evaluation would not plainly succeed (an error in
// the text's expression or the CSV, a marked or unknown text, a missing key column, a
// duplicate key, no rows, a limit): HCL then evaluates the local and reports the problem.
func (l *loader) tableLocal(expr hcl.Expression, ctx *hcl.EvalContext) *keyedTable {
	arg, col, ok := tablePattern(expr)
	if !ok {
		return nil
	}
	text, diags := arg.Value(ctx)
	if len(diags) > 0 || !text.IsKnown() || text.IsNull() || text.IsMarked() || text.Type() != cty.String {
		return nil
	}
	s := text.AsString()
	t := decodeCSVTable(s)
	if t == nil {
		return nil
	}
	c, ok := t.index[col]
	if !ok {
		return nil // HCL reports the missing attribute
	}
	n := t.n
	kt := &keyedTable{csvTable: t, keys: make([]tableKey, 0, n)}
	t.each(func(row rowRef) { kt.keys = append(kt.keys, tableKey{t.cell(row, c), row}) })
	slices.SortFunc(kt.keys, func(a, b tableKey) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < n; i++ {
		if kt.keys[i].key == kt.keys[i-1].key {
			return nil // HCL reports the duplicate
		}
	}
	// The value's elements as checkValueSize counts them: a key and a cell per column per
	// row; csvdecode charges as many.
	elems := int64(n) * int64(t.cols+1)
	if elems > MaxValueElements || !l.budget.chargeTable(s, elems, int64(n)) {
		return nil
	}
	return kt
}

// tableLocals names the locals that tableLocal may keep as tables: those whose only uses
// are as the whole for_each of invoice blocks (`for_each = local.rows`), so that no
// expression ever needs their value as an object. Every use is found in the syntax of the
// files that may declare locals; a file of invoice blocks alone (not parsed yet) that has
// the word local anywhere makes it none, as does any use of local other than local.NAME.
func tableLocals(headers, rest []*unit) map[string]bool {
	for _, u := range rest {
		if hasWord(u.src, "local") {
			return nil
		}
	}
	uses, forEach := map[string]int{}, map[string]int{}
	whole := false
	for _, u := range headers {
		if u.file == nil {
			continue
		}
		body, ok := u.file.Body.(*hclsyntax.Body)
		if !ok {
			return nil
		}
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			st, ok := n.(*hclsyntax.ScopeTraversalExpr)
			if !ok || st.Traversal.RootName() != "local" {
				return nil
			}
			if name, ok := localName(st); ok {
				uses[name]++
			} else {
				whole = true
			}
			return nil
		})
		for _, b := range u.invoices {
			ib, ok := b.Body.(*hclsyntax.Body)
			if !ok {
				return nil
			}
			if a, ok := ib.Attributes[attrForEach]; ok {
				if st, ok := a.Expr.(*hclsyntax.ScopeTraversalExpr); ok && len(st.Traversal) == 2 {
					if name, ok := localName(st); ok {
						forEach[name]++
					}
				}
			}
		}
	}
	if whole {
		return nil
	}
	out := map[string]bool{}
	for name, n := range forEach {
		if uses[name] == n {
			out[name] = true
		}
	}
	return out
}

// localName is NAME of a traversal local.NAME...
func localName(st *hclsyntax.ScopeTraversalExpr) (string, bool) {
	if len(st.Traversal) < 2 || st.Traversal.RootName() != "local" {
		return "", false
	}
	a, ok := st.Traversal[1].(hcl.TraverseAttr)
	return a.Name, ok
}

// hasWord reports whether src has word with no letter, digit, _ or - on either side.
func hasWord(src []byte, word string) bool {
	// Bytes of other letters count as not part of the word: more files are then taken
	// to use local, which only costs the table.
	ident := func(c byte) bool {
		return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; ; {
		j := bytes.Index(src[i:], []byte(word))
		if j < 0 {
			return false
		}
		j += i
		end := j + len(word)
		if (j == 0 || !ident(src[j-1])) && (end == len(src) || !ident(src[end])) {
			return true
		}
		i = j + 1
	}
}

// forEachTable is the table of a for_each expression `local.NAME` whose local is kept as one.
func (l *loader) forEachTable(expr hcl.Expression) *keyedTable {
	st, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) != 2 {
		return nil
	}
	name, ok := localName(st)
	if !ok {
		return nil
	}
	return l.tables[name]
}
