package config_test

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/invoiceform/invoiceform/config"
)

// TestFastEachMatchesHCL: wherever the fast path for each.* expressions gives a value, it is
// exactly the value HCL gives; the common forms do take it; the rest are left to HCL.
func TestFastEachMatchesHCL(t *testing.T) {
	row := cty.ObjectVal(map[string]cty.Value{
		"id":     cty.StringVal("0042"),
		"title":  cty.StringVal("Caf\u0065\u0301 subscription"), // not NFC: HCL normalizes
		"amount": cty.StringVal("10.50"),
		"n":      cty.NumberIntVal(7),
		"empty":  cty.StringVal(""),
		"accent": cty.StringVal("\u0301"),
		"null":   cty.NullVal(cty.String),
		"nested": cty.ObjectVal(map[string]cty.Value{"x": cty.StringVal("deep")}),
		"list":   cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"secret": cty.StringVal("s").Mark("sensitive"),
	})
	key := cty.StringVal("0042")
	for _, c := range []struct {
		src  string
		fast bool // whether the fast path must take it
	}{
		{`each.key`, true},
		{`each.value.title`, true},
		{`each.value.amount`, true},
		{`each.value.n`, true},
		{`each.value.nested.x`, true},
		{`each.value.list[1]`, true},
		{`"inv-${each.key}"`, true},
		{`"${each.key}"`, true},
		{`"${each.value.title} for ${each.value.id}!"`, true},
		{`"x-${each.value.empty}-y"`, true},
		{`"e${each.value.accent}"`, true}, // NFC of the whole: the parts are, the text is not
		{`each.value.null`, false},        // null: absent
		{`"a${each.value.null}"`, false},  // HCL's error
		{`each.value.missing`, false},     // HCL's error
		{`each.value.list[5]`, false},     // HCL's error
		{`each.other`, false},             // HCL's error
		{`each.value.secret`, false},      // marked
		{`"n=${each.value.n}"`, false},    // number in a template: HCL converts
		{`"${upper(each.key)}"`, false},   // a call
		{`each.value.id == "1"`, false},   // an operator
		{`"%{if true}x%{endif}"`, false},  // a directive
		{`"plain"`, true},                 // literal text only
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(c.src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", c.src, diags)
		}
		ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": key, "value": row})}}
		want, wantDiags := expr.Value(ctx)
		got, ok := config.FastEach(expr, key, row)
		if ok != c.fast {
			t.Errorf("%s: fast path taken = %v, want %v", c.src, ok, c.fast)
		}
		// The string form takes exactly the strings the fast path gives.
		s, sok := config.FastEachString(expr, key, row)
		if wantS := ok && got.Type() == cty.String; sok != wantS || sok && s != got.AsString() {
			t.Errorf("%s: string form gave %q, %v; the fast path %#v, %v", c.src, s, sok, got, ok)
		}
		if !ok {
			continue
		}
		if wantDiags.HasErrors() {
			t.Errorf("%s: fast path gave %#v where HCL reports %s", c.src, got, wantDiags)
			continue
		}
		if !got.RawEquals(want) {
			t.Errorf("%s: fast path gave %#v, HCL %#v", c.src, got, want)
		}
	}
}

func TestFieldBits(t *testing.T) {
	if f := config.FieldBitsAgree(); f != "" {
		t.Errorf("bit(%q) does not match its place in fieldNames", f)
	}
}

// TestFastPlainMatchesHCL: outside for_each, the fast path takes literals and literal-only
// templates, giving HCL's value, and nothing that refers to anything.
func TestFastPlainMatchesHCL(t *testing.T) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"x": cty.StringVal("v")})}}
	for src, fast := range map[string]bool{
		`"text"`: true, `10.5`: true, `false`: true, `"caf\u0065\u0301"`: true, `"a\nb"`: true,
		`null`: false, `each.key`: false, `var.x`: false, `"${var.x}"`: false, `-1`: false, `[1]`: false,
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags)
		}
		got, ok := config.FastPlain(expr)
		if ok != fast {
			t.Errorf("%s: fast path taken = %v, want %v", src, ok, fast)
			continue
		}
		if want, wantDiags := expr.Value(ctx); ok && (wantDiags.HasErrors() || !got.RawEquals(want)) {
			t.Errorf("%s: fast path gave %#v, HCL %#v %s", src, got, want, wantDiags)
		}
	}
}
