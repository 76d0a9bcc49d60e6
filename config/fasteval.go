package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// context is the evaluation context of the invoice: the loader's, plus each for an instance
// of a for_each block, made on first use.
func (e *evaluator) context() *hcl.EvalContext {
	if e.ctx == nil {
		e.ctx = e.l.ctx.NewChild()
		e.ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": e.inst.key, "value": e.eachValue()})}
	}
	return e.ctx
}

// fast evaluates, without HCL's evaluator, the expressions that make up nearly every
// attribute of a for_each block over a data file: each.key, each.value.column, and templates
// of literal text and such references ("inv-${each.key}"); and literals ("text", 10.5, false),
// which are most of a file of literal invoice blocks. With a hundred thousand instances,
// making an evaluation context and an each object per instance and walking HCL's traversal
// machinery is most of the cost of loading. fast only succeeds where the result is plainly
// what HCL would give (known, non-null, unmarked strings and values; no errors); otherwise
// ok is false and the caller evaluates with HCL, so values and diagnostics stay exactly HCL's.
func (e *evaluator) fast(expr hcl.Expression) (v cty.Value, ok bool) {
	switch x := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		if x.Val.IsNull() || x.Val.IsMarked() {
			return cty.NilVal, false
		}
		return x.Val, true
	case *hclsyntax.ScopeTraversalExpr:
		return e.eachTraversal(x.Traversal)
	case *hclsyntax.TemplateWrapExpr:
		return e.fast(x.Wrapped)
	case *hclsyntax.TemplateExpr:
		if str, ok := e.fastTemplate(x); ok {
			return cty.StringVal(str), true
		}
	}
	return cty.NilVal, false
}

// fastString is fast for expressions whose value is a string (the usual attribute of an
// invoice), giving the string without making a cty value: exactly what fast would give, as
// a string, or ok false where fast would not give a string.
func (e *evaluator) fastString(expr hcl.Expression) (string, bool) {
	switch x := expr.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		if s, ok := e.eachCell(x.Traversal); ok {
			return s, true
		}
	case *hclsyntax.TemplateWrapExpr:
		return e.fastString(x.Wrapped)
	case *hclsyntax.TemplateExpr:
		return e.fastTemplate(x)
	}
	v, ok := e.fast(expr)
	if !ok || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// fastTemplate evaluates a template of literal text and each references ("inv-${each.key}")
// as fast does, giving the string; ok is false for any other template.
func (e *evaluator) fastTemplate(x *hclsyntax.TemplateExpr) (string, bool) {
	// The parts first, to charge the text they make before making it.
	var parts [8]string
	strs := parts[:0]
	size := 0
	for _, p := range x.Parts {
		switch p := unbound(p).(type) {
		case *hclsyntax.LiteralValueExpr:
			if p.Val.Type() != cty.String || p.Val.IsNull() || p.Val.IsMarked() {
				return "", false
			}
			strs = append(strs, p.Val.AsString())
		case *hclsyntax.ScopeTraversalExpr:
			s, ok := e.eachCell(p.Traversal)
			if !ok {
				pv, ok := e.eachTraversal(p.Traversal)
				if !ok || pv.Type() != cty.String {
					return "", false
				}
				s = pv.AsString()
			}
			strs = append(strs, s)
		default:
			return "", false
		}
		size += len(strs[len(strs)-1])
	}
	if e.l != nil && e.l.budget.addBytes(int64(size)) != nil {
		return "", false // HCL reports it
	}
	var b strings.Builder
	b.Grow(size)
	for _, s := range strs {
		b.WriteString(s)
	}
	// As cty.StringVal does: the parts are, their concatenation may not be.
	return cty.NormalizeString(b.String()), true
}

// eachCell is each.key, or each.value.COL of a table's row, as a string.
func (e *evaluator) eachCell(t hcl.Traversal) (string, bool) {
	if e.inst == nil || len(t) < 2 || t.RootName() != "each" {
		return "", false
	}
	step, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		return "", false
	}
	switch {
	case step.Name == "key" && len(t) == 2 && !e.inst.key.IsMarked():
		return e.inst.key.AsString(), true
	case step.Name == "value" && len(t) == 3 && e.d != nil && e.d.table != nil:
		if a, ok := t[2].(hcl.TraverseAttr); ok {
			if c, ok := e.d.table.index[a.Name]; ok {
				return e.d.table.cell(e.inst.row, c), true
			}
		}
	}
	return "", false
}

// eachTraversal follows each.key... or each.value... for the instance.
func (e *evaluator) eachTraversal(t hcl.Traversal) (cty.Value, bool) {
	if e.inst == nil || len(t) < 2 || t.RootName() != "each" {
		return cty.NilVal, false
	}
	step, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		return cty.NilVal, false
	}
	var v cty.Value
	switch step.Name {
	case "key":
		v = e.inst.key
	case "value":
		if len(t) == 3 && e.d != nil && e.d.table != nil {
			// each.value.COL of a table's row: the cell, as the row's attribute.
			if a, ok := t[2].(hcl.TraverseAttr); ok {
				if c, ok := e.d.table.index[a.Name]; ok {
					return cty.StringVal(e.d.table.cell(e.inst.row, c)), true
				}
			}
		}
		v = e.eachValue()
	default:
		return cty.NilVal, false
	}
	if len(t) > 2 {
		// each.value.NAME of an object, the usual step, is its attribute (what
		// TraverseRel gives a known, unmarked, non-null object that has it).
		if a, ok := t[2].(hcl.TraverseAttr); ok && !v.IsMarked() && v.IsKnown() && !v.IsNull() && v.Type().IsObjectType() && v.Type().HasAttribute(a.Name) {
			v = v.GetAttr(a.Name)
			t = t[1:]
		}
	}
	if len(t) > 2 {
		var diags hcl.Diagnostics
		v, diags = t[2:].TraverseRel(v)
		if len(diags) > 0 {
			return cty.NilVal, false
		}
	}
	if v.IsNull() || !v.IsWhollyKnown() || v.ContainsMarked() {
		return cty.NilVal, false
	}
	return v, true
}

// eachValue is each.value: the instance's value, or its row of the block's table, made once
// per evaluator.
func (e *evaluator) eachValue() cty.Value {
	if e.d == nil || e.d.table == nil {
		return e.inst.value
	}
	if !e.rowMade {
		e.row, e.rowMade = e.d.table.rowValue(e.inst.row), true
	}
	return e.row
}
