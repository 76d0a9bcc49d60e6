package config

import (
	"runtime"

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
	return expr.Value(ctx)
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
