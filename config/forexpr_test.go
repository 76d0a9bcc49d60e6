package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyfunction "github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/invoiceform/invoiceform/config"
)

// TestParallelForExprMatchesHCL evaluates for expressions over collections large enough for
// the parallel path, and requires exactly HCL's own result and diagnostics (duplicate keys
// explained as evalExpr does).
func TestParallelForExprMatchesHCL(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("id,amount,group\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&csv, "%05d,%d.%02d,g%d\n", i, i, i%100, i%3)
	}
	dup := strings.Replace(csv.String(), "04999,", "00007,", 1)
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"rows": mustCSV(t, csv.String()),
			"dup":  mustCSV(t, dup),
			"nums": cty.ListVal(numbers(3000)),
		},
		Functions: map[string]ctyfunction.Function{"upper": stdlib.UpperFunc, "tonumber": stdlib.MakeToFunc(cty.Number)},
	}
	for _, src := range []string{
		`{ for r in rows : r.id => r }`,
		`{ for i, r in rows : "${i}-${r.id}" => r.amount }`,
		`{ for r in rows : r.id => r if r.group == "g1" }`,
		`{ for r in rows : upper(r.group) => r... }`, // grouping: HCL's path
		`{ for r in dup : r.id => r }`,               // duplicate key: HCL's error
		`{ for r in rows : r.id => r.missing }`,      // error in the value
		`{ for r in rows : r.id => r if r.amount }`,  // condition not a bool
		`{ for n in nums : n => n * 2 }`,             // number keys: HCL converts
		`{ for r in rows : r.id => tonumber(r.amount) + 1 }`,
		`{ for i, r in rows : r.id => i }`,    // the key variable as the value
		`{ for r in rows : r.group => r.id }`, // duplicate keys from plain traversals
		`{ for n in nums : n => n }`,          // a number key from a plain traversal
		`{ for r in rows : r.missing => r }`,  // an error in a plain key
		`{ for i, r in rows : r["id"] => r }`, // an index step
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		want, wantDiags := expr.Value(ctx)
		if fe, ok := expr.(*hclsyntax.ForExpr); ok && !fe.Group && wantDiags.HasErrors() {
			// Duplicate keys are explained by row (TestCSVMessages), in place of HCL's.
			wantDiags = config.ExplainDuplicates(fe, ctx, wantDiags)
		}
		got, gotDiags := config.EvalExpr(expr, ctx)
		if wantDiags.Error() != gotDiags.Error() {
			t.Errorf("%s: diagnostics\n got  %v\n want %v", src, gotDiags, wantDiags)
			continue
		}
		if !wantDiags.HasErrors() && !got.RawEquals(want) {
			t.Errorf("%s: values differ", src)
		}
	}
}

func mustCSV(t *testing.T, s string) cty.Value {
	t.Helper()
	v, err := stdlib.CSVDecode(cty.StringVal(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func numbers(n int) []cty.Value {
	out := make([]cty.Value, n)
	for i := range out {
		out[i] = cty.NumberIntVal(int64(i))
	}
	return out
}
