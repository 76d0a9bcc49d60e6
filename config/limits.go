package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Evaluation limits. A configuration is code that anyone who opens a pull request controls,
// and plan runs it: setproduct(range(1024), range(1024), range(1024)), three nested for
// expressions over range(1024), or forty locals that each double a string would otherwise
// fill memory or run for hours, and the runtime's out-of-memory and stack-overflow crashes
// cannot be recovered from. Each limit is checked before the values are made, and ends with
// a diagnostic at the expression. They are far above what real configurations need: loading
// 100,000 invoices from a CSV file uses about a tenth of MaxElements and a hundredth of
// MaxStringBytes.
const (
	// MaxElements bounds, for one load, the elements of the collections that functions make
	// (range, setproduct, split, concat, flatten, formatlist, jsondecode, csvdecode).
	MaxElements = 10_000_000
	// MaxStringBytes bounds, for one load, the bytes of the strings that templates
	// ("${a}${b}", %{for}) and string-building functions (join, format, formatlist, replace,
	// regex_replace, indent, jsonencode, templatefile) make.
	MaxStringBytes = 256 << 20
	// MaxIterations bounds, for one load, the iterations of for expressions (and %{for}
	// directives), nested ones multiplying: three nested over range(1024) would be a
	// billion.
	MaxIterations = 1_000_000
	// MaxCallElements bounds the elements one call of setproduct, split, concat or flatten
	// makes (range is limited to 1,024 by go-cty).
	MaxCallElements = 1_000_000
	// MaxDecodeDepth bounds how deeply the arrays and objects that jsondecode reads nest.
	MaxDecodeDepth = 100
	// MaxValueElements bounds the elements of one local or for_each value, counted as if
	// every shared part were a copy: a list of two copies of the previous local, forty times
	// over, is small in memory but 2^40 elements to anything that converts, compares or
	// encodes it.
	MaxValueElements = MaxElements
)

// budget counts what one load's evaluation makes, for MaxElements and MaxStringBytes. Once
// exceeded it stays exceeded: every later charge fails at once, so a configuration that
// repeats the same bomb in a hundred thousand instances ends as quickly as one.
type budget struct {
	elements   atomic.Int64
	iterations atomic.Int64
	bytes      atomic.Int64

	// parent, when set, is the load's budget and this one a file's (cacheentry.go): it
	// counts the file's charges and passes each on, and the parent decides.
	parent *budget

	mu      sync.Mutex
	decoded map[decodeKey]cty.Value
	// tabled holds the csvdecode inputs charged by chargeTable, which are not in decoded:
	// decoding them again charges nothing, as a cached value would not.
	tabled map[decodeKey]bool
}

// limitError is an evaluation limit exceeded; the loader turns the function-call diagnostic
// that carries it into an "Evaluation limit exceeded" one.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func limitErrorf(format string, args ...any) error {
	return &limitError{fmt.Sprintf(format, args...)}
}

func (b *budget) addElements(n int64) error {
	return b.charge(func(b *budget) *atomic.Int64 { return &b.elements }, n, MaxElements, "this would take the elements of the lists, sets and maps this configuration's functions make past %s, the limit for one evaluation", maxElementsText)
}

func (b *budget) addIterations(n int64) error {
	return b.charge(func(b *budget) *atomic.Int64 { return &b.iterations }, n, MaxIterations, "this would take the iterations of this configuration's for expressions past %s, the limit for one evaluation (nested for expressions multiply)", maxIterationsText)
}

func (b *budget) addBytes(n int64) error {
	return b.charge(func(b *budget) *atomic.Int64 { return &b.bytes }, n, MaxStringBytes, "this would take the text this configuration's templates and string functions make past %s, the limit for one evaluation", maxStringText)
}

// charge counts n in the counter of b and of every budget above it (a file's budget passes
// each charge on to the load's), and the load's budget decides against limit.
func (b *budget) charge(counter func(*budget) *atomic.Int64, n, limit int64, format, what string) error {
	if b == nil {
		return nil
	}
	for ; b.parent != nil; b = b.parent {
		if n > 0 {
			counter(b).Add(n)
		}
	}
	return chargeCounter(counter(b), n, limit, format, what)
}

// The limits for messages, made once: templates and functions charge every instance.
var (
	maxElementsText   = thousands(MaxElements)
	maxIterationsText = thousands(MaxIterations)
	maxStringText     = fmt.Sprintf("%d MiB", MaxStringBytes>>20)
)

// chargeCounter adds n to one of the load's counters and refuses, with the message, what goes past
// limit.
func chargeCounter(counter *atomic.Int64, n, limit int64, format, what string) error {
	if n <= 0 {
		return nil
	}
	if counter.Add(n) > limit {
		return limitErrorf(format, what)
	}
	return nil
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// The kinds of charged expression: what bound wraps around an expression to charge what it
// makes.
const (
	chargeIterate = iota // a for expression's collection: its length
	chargeConcat         // a template interpolation: its text
	chargeJoin           // a %{for} directive's results: their text
	chargeNumber         // a number literal or arithmetic: its size (see hugeNumber)
)

// charged evaluates the expression it wraps and charges what it makes to the load's budget.
// It embeds a ParenthesesExpr around the expression, so that HCL's walks (Variables, for
// one) see the expression inside as they would without it.
type charged struct {
	*hclsyntax.ParenthesesExpr
	kind   int
	budget *budget
}

func (c *charged) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if c.kind == chargeNumber {
		// A traversal with a huge index, or a huge literal: refused before it is used.
		var t hcl.Traversal
		switch x := c.Expression.(type) {
		case *hclsyntax.ScopeTraversalExpr:
			t = x.Traversal
		case *hclsyntax.RelativeTraversalExpr:
			t = x.Traversal
		case *hclsyntax.LiteralValueExpr:
			if exp, huge := hugeNumber(x.Val); huge {
				return cty.DynamicVal, c.limitDiag(nil, limitErrorf("%s", hugeNumberText(exp)))
			}
		}
		if hugeIndex(t) {
			return cty.DynamicVal, c.limitDiag(nil, limitErrorf("%s", hugeNumberText(hugeIndexExp(t))))
		}
	}
	v, diags := c.Expression.Value(ctx)
	if diags.HasErrors() {
		return v, diags
	}
	u, _ := v.Unmark()
	if !u.IsKnown() || u.IsNull() {
		return v, diags
	}
	b := c.budget
	var err error
	switch c.kind {
	case chargeIterate:
		if u.CanIterateElements() {
			err = b.addIterations(int64(u.LengthInt()))
		}
	case chargeNumber:
		if exp, huge := hugeNumber(u); huge {
			err = limitErrorf("%s", hugeNumberText(exp))
		}
	case chargeConcat:
		if exp, huge := hugeNumber(u); huge {
			err = limitErrorf("%s", hugeNumberText(exp))
		} else if u.Type().IsPrimitiveType() {
			err = b.addBytes(printedSize(u))
		}
	case chargeJoin:
		if u.CanIterateElements() {
			var n int64
			for it := u.ElementIterator(); it.Next(); {
				_, e := it.Element()
				e, _ = e.Unmark()
				if e.IsKnown() && !e.IsNull() && e.Type().IsPrimitiveType() {
					n += printedSize(e)
				}
			}
			err = b.addBytes(n)
		}
	}
	if err != nil {
		return cty.DynamicVal, c.limitDiag(diags, err)
	}
	return v, diags
}

func (c *charged) limitDiag(diags hcl.Diagnostics, err error) hcl.Diagnostics {
	return append(diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Evaluation limit exceeded",
		Detail:   err.Error() + limitAdvice,
		Subject:  c.Range().Ptr(),
	})
}

const limitAdvice = ". A configuration needs nothing near this; see the evaluation limits in docs/language.md."

// printedSize is about how many bytes a primitive value takes as text; a number's is
// bounded by its exponent (1e999999999 is a billion digits long).
func printedSize(v cty.Value) int64 {
	switch v.Type() {
	case cty.String:
		return int64(len(v.AsString()))
	case cty.Number:
		if _, huge := hugeNumber(v); huge {
			return MaxStringBytes + 1 // never written
		}
		var m big.Float
		exp := v.AsBigFloat().MantExp(&m)
		if exp < 0 {
			exp = -exp
		}
		return 40 + int64(exp)*3/10
	}
	return 8
}

// bound wraps charged expressions around the expressions of a parsed body or template that
// make collections and text: the collection of every for expression, every interpolation of
// a template that is not a literal, and the results of every %{for} directive.
//
// It also wraps a check around every number literal beyond MaxNumberDigits and every
// arithmetic operation (see hugeNumber): HCL turns numbers into text wherever a string is
// expected, and 1e300000000 would take minutes and a gigabyte to write.
func bound(node hclsyntax.Node, b *budget) {
	switch x := node.(type) {
	case *hclsyntax.Body:
		for _, a := range x.Attributes {
			a.Expr = checkNumber(a.Expr, b)
			bound(a.Expr, b)
		}
		for _, blk := range x.Blocks {
			bound(blk.Body, b)
		}
		return
	case *hclsyntax.LiteralValueExpr, *hclsyntax.ScopeTraversalExpr:
		return // most attributes of most files: nothing to walk
	case *hclsyntax.TemplateExpr:
		if x.IsStringLiteral() {
			return
		}
	}
	_ = hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		numberChildren(n, b)
		switch x := n.(type) {
		case *hclsyntax.ForExpr:
			x.CollExpr = charge(chargeIterate, x.CollExpr, b)
		case *hclsyntax.TemplateExpr:
			for i, p := range x.Parts {
				if _, lit := p.(*hclsyntax.LiteralValueExpr); !lit {
					x.Parts[i] = charge(chargeConcat, p, b)
				}
			}
		case *hclsyntax.TemplateJoinExpr:
			x.Tuple = charge(chargeJoin, x.Tuple, b)
		}
		return nil
	})
}

// MaxNumberDigits bounds the digits of a number before or after the decimal point: a
// number of 10^1000 or more, or of less than 10^-1000 (but zero), ends evaluation where it
// is written or made. Money needs a few dozen digits.
const MaxNumberDigits = 1000

// maxNumberExp is the binary exponent of 10^MaxNumberDigits (2^3322 < 10^1000 < 2^3323).
const maxNumberExp = 3322

// hugeNumber reports whether v is a finite number beyond MaxNumberDigits digits either side
// of the decimal point, and its decimal exponent, roughly.
func hugeNumber(v cty.Value) (int64, bool) {
	if v.IsMarked() {
		v, _ = v.Unmark()
	}
	if v.Type() != cty.Number || !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	f := v.AsBigFloat()
	if f.IsInf() || f.Sign() == 0 {
		return 0, false
	}
	exp := f.MantExp(nil)
	if exp <= maxNumberExp && exp >= -maxNumberExp {
		return 0, false
	}
	return int64(float64(exp) * math.Log10(2)), true
}

// hugeNumberIn reports whether v holds a huge number anywhere (see hugeNumber).
func hugeNumberIn(v cty.Value) (int64, bool) {
	switch v.Type() {
	case cty.String, cty.Bool:
		return 0, false // every attribute of every invoice: no walk, no allocation
	case cty.Number:
		return hugeNumber(v)
	}
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	ty := v.Type()
	switch {
	case ty == cty.Number:
		return hugeNumber(v)
	case ty.IsPrimitiveType():
		return 0, false
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if exp, ok := hugeNumberIn(e); ok {
				return exp, ok
			}
		}
	}
	return 0, false
}

func hugeNumberText(exp int64) string {
	return fmt.Sprintf("this number is about 10^%d; numbers may have at most %s digits before or after the decimal point (as text it would be %s characters long)", exp, thousands(MaxNumberDigits), thousands(max(exp, -exp)))
}

// checkNumber wraps a number check around x when it is a number literal beyond the limit or
// an arithmetic operation, whose result may be.
func checkNumber(x hclsyntax.Expression, b *budget) hclsyntax.Expression {
	switch e := x.(type) {
	case *hclsyntax.LiteralValueExpr:
		if _, huge := hugeNumber(e.Val); huge {
			return charge(chargeNumber, x, b)
		}
	case *hclsyntax.ScopeTraversalExpr:
		if hugeIndex(e.Traversal) {
			return charge(chargeNumber, x, b)
		}
	case *hclsyntax.RelativeTraversalExpr:
		if hugeIndex(e.Traversal) {
			return charge(chargeNumber, x, b)
		}
	case *hclsyntax.BinaryOpExpr:
		switch e.Op {
		case hclsyntax.OpAdd, hclsyntax.OpSubtract, hclsyntax.OpMultiply, hclsyntax.OpDivide, hclsyntax.OpModulo:
			return charge(chargeNumber, x, b)
		}
	}
	return x
}

// hugeIndex reports whether a traversal has an index that is a huge number: x[1e300000000]
// would write it as text to look it up in a map.
func hugeIndex(t hcl.Traversal) bool { return hugeIndexExp(t) != 0 }

// hugeIndexExp is the exponent of the first huge index of t, or 0 (a huge number's exponent
// is never 0).
func hugeIndexExp(t hcl.Traversal) int64 {
	for _, step := range t {
		if ix, ok := step.(hcl.TraverseIndex); ok {
			if exp, huge := hugeNumber(ix.Key); huge {
				return exp
			}
		}
	}
	return 0
}

// numberChildren applies checkNumber to the expressions directly inside n.
func numberChildren(n hclsyntax.Node, b *budget) {
	c := func(x *hclsyntax.Expression) {
		if *x != nil {
			*x = checkNumber(*x, b)
		}
	}
	switch x := n.(type) {
	case *hclsyntax.BinaryOpExpr:
		c(&x.LHS)
		c(&x.RHS)
	case *hclsyntax.UnaryOpExpr:
		c(&x.Val)
	case *hclsyntax.FunctionCallExpr:
		for i := range x.Args {
			c(&x.Args[i])
		}
	case *hclsyntax.TemplateExpr:
		for i := range x.Parts {
			c(&x.Parts[i])
		}
	case *hclsyntax.TemplateWrapExpr:
		c(&x.Wrapped)
	case *hclsyntax.ConditionalExpr:
		c(&x.Condition)
		c(&x.TrueResult)
		c(&x.FalseResult)
	case *hclsyntax.TupleConsExpr:
		for i := range x.Exprs {
			c(&x.Exprs[i])
		}
	case *hclsyntax.ObjectConsExpr:
		for i := range x.Items {
			c(&x.Items[i].KeyExpr)
			c(&x.Items[i].ValueExpr)
		}
	case *hclsyntax.ObjectConsKeyExpr:
		c(&x.Wrapped)
	case *hclsyntax.IndexExpr:
		c(&x.Collection)
		c(&x.Key)
	case *hclsyntax.ForExpr:
		c(&x.CollExpr)
		c(&x.KeyExpr)
		c(&x.ValExpr)
		c(&x.CondExpr)
	case *hclsyntax.SplatExpr:
		c(&x.Source)
	case *hclsyntax.RelativeTraversalExpr:
		c(&x.Source)
	case *charged:
		if x.kind != chargeNumber {
			c(&x.Expression)
		}
	case *hclsyntax.ParenthesesExpr:
		c(&x.Expression)
	}
}

func charge(kind int, x hclsyntax.Expression, b *budget) hclsyntax.Expression {
	if _, ok := x.(*charged); ok {
		return x
	}
	return &charged{ParenthesesExpr: &hclsyntax.ParenthesesExpr{Expression: x, SrcRange: x.Range()}, kind: kind, budget: b}
}

// unbound returns the expression that bound wrapped x around, or x.
func unbound(x hclsyntax.Expression) hclsyntax.Expression {
	if c, ok := x.(*charged); ok {
		return c.Expression
	}
	return x
}

// preCheck refuses, before a function runs, a call that would make more than the limits
// allow, and charges what it will make.
type preCheck func(b *budget, args []cty.Value) error

// boundFunctions replaces the functions of fns that can make collections or text much larger
// than their arguments by ones that first check and charge what they would make.
func boundFunctions(fns map[string]function.Function, b *budget) {
	for name, pre := range preChecks {
		if f, ok := fns[name]; ok {
			fns[name] = checked(f, b, pre)
		}
	}
	for _, name := range numberFunctions {
		if f, ok := fns[name]; ok {
			fns[name] = numberChecked(f)
		}
	}
	fns["jsondecode"] = cachedDecode(fns["jsondecode"], b, "jsondecode")
	fns["csvdecode"] = cachedDecode(fns["csvdecode"], b, "csvdecode")
}

// numberFunctions are the functions that can make a number larger than their arguments, or
// one from text: their results are checked against MaxNumberDigits.
var numberFunctions = []string{"abs", "ceil", "floor", "log", "max", "min", "parseint", "pow", "signum", "tonumber"}

func numberChecked(f function.Function) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := f.Call(args)
			if err == nil {
				if exp, huge := hugeNumber(v); huge {
					return cty.DynamicVal, limitErrorf("%s", hugeNumberText(exp))
				}
			}
			return v, err
		},
	})
}

func checked(f function.Function, b *budget, pre preCheck) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if err := pre(b, args); err != nil {
				return cty.DynamicVal, err
			}
			return f.Call(args)
		},
	})
}

func known(args ...cty.Value) bool {
	for _, a := range args {
		if a.IsMarked() {
			a, _ = a.Unmark()
		}
		if !a.IsWhollyKnown() || a.IsNull() {
			return false
		}
	}
	return true
}

var preChecks = map[string]preCheck{
	"range": func(b *budget, args []cty.Value) error {
		// go-cty refuses more than 1,024 values itself.
		if !known(args...) || len(args) == 0 || len(args) > 3 {
			return nil
		}
		f := make([]float64, len(args))
		for i, a := range args {
			f[i], _ = a.AsBigFloat().Float64()
		}
		var n float64
		switch len(args) {
		case 1:
			n = math.Abs(f[0])
		case 2:
			n = math.Abs(f[1] - f[0])
		default:
			n = math.Ceil(math.Abs((f[1] - f[0]) / f[2]))
		}
		if math.IsNaN(n) || n > 1024 {
			n = 1024
		}
		return b.addElements(int64(n))
	},
	"setproduct": func(b *budget, args []cty.Value) error {
		n := 1.0
		for _, a := range args {
			if !known(a) || !a.CanIterateElements() {
				return nil
			}
			n *= float64(a.LengthInt())
		}
		if len(args) == 0 {
			return nil
		}
		if n > MaxCallElements {
			return limitErrorf("setproduct would make %s elements; one call may make at most %s", thousands(int64(math.Min(n, math.MaxInt64/2))), thousands(MaxCallElements))
		}
		return b.addElements(int64(n) * int64(len(args)+1))
	},
	"split": func(b *budget, args []cty.Value) error {
		if !known(args...) {
			return nil
		}
		n := strings.Count(args[1].AsString(), args[0].AsString()) + 1
		if n > MaxCallElements {
			return limitErrorf("split would make %s elements; one call may make at most %s", thousands(int64(n)), thousands(MaxCallElements))
		}
		return b.addElements(int64(n))
	},
	"concat": func(b *budget, args []cty.Value) error {
		var n int64
		for _, a := range args {
			a, _ = a.Unmark()
			if a.IsKnown() && !a.IsNull() && a.CanIterateElements() {
				n += int64(a.LengthInt())
			}
		}
		if n > MaxCallElements {
			return limitErrorf("concat would make %s elements; one call may make at most %s", thousands(n), thousands(MaxCallElements))
		}
		return b.addElements(n)
	},
	"flatten": func(b *budget, args []cty.Value) error {
		n := deepElements(args[0], MaxCallElements+1)
		if n > MaxCallElements {
			return limitErrorf("flatten would make more than %s elements, the most one call may make", thousands(MaxCallElements))
		}
		return b.addElements(n)
	},
	"join": func(b *budget, args []cty.Value) error {
		if !known(args[0]) {
			return nil
		}
		sep := int64(len(args[0].AsString()))
		var n int64
		for _, l := range args[1:] {
			l, _ = l.Unmark()
			if !l.IsKnown() || l.IsNull() || !l.CanIterateElements() {
				continue
			}
			for it := l.ElementIterator(); it.Next(); {
				_, e := it.Element()
				e, _ = e.Unmark()
				if e.IsKnown() && !e.IsNull() {
					n += printedSize(e) + sep
				}
				if n > MaxStringBytes {
					return b.addBytes(n)
				}
			}
		}
		return b.addBytes(n)
	},
	"format":     formatCheck(false),
	"formatlist": formatCheck(true),
	"indent": func(b *budget, args []cty.Value) error {
		if !known(args...) {
			return nil
		}
		spaces, _ := args[0].AsBigFloat().Float64()
		s := args[1].AsString()
		n := float64(len(s)) + math.Max(spaces, 0)*float64(strings.Count(s, "\n")+1)
		return b.addBytes(int64(math.Min(n, MaxStringBytes+1)))
	},
	"replace": func(b *budget, args []cty.Value) error {
		if !known(args...) {
			return nil
		}
		s, old, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
		n := float64(len(s))
		if len(repl) > len(old) {
			n += float64(strings.Count(s, old)) * float64(len(repl)-len(old))
		}
		return b.addBytes(int64(math.Min(n, MaxStringBytes+1)))
	},
	"regex_replace": func(b *budget, args []cty.Value) error {
		if !known(args...) {
			return nil
		}
		s, repl := args[0].AsString(), args[2].AsString()
		re, err := regexp.Compile(args[1].AsString())
		if err != nil {
			return nil // the function reports it
		}
		// The exact length, one expansion at a time: $1 may stand for much of the string.
		n := int64(len(s))
		var buf []byte
		for _, m := range re.FindAllStringSubmatchIndex(s, MaxCallElements+1) {
			buf = re.ExpandString(buf[:0], repl, s, m)
			n += int64(len(buf)) - int64(m[1]-m[0])
			if n > MaxStringBytes {
				break
			}
		}
		return b.addBytes(n)
	},
	"jsonencode": func(b *budget, args []cty.Value) error {
		return b.addBytes(deepBytes(args[0], MaxStringBytes+1))
	},
}

// formatCheck charges format and formatlist: the format string, widths and precisions, and
// the printed arguments, once per result for formatlist.
func formatCheck(list bool) preCheck {
	return func(b *budget, args []cty.Value) error {
		if !known(args[0]) {
			return nil
		}
		f := args[0].AsString()
		per := float64(len(f))
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				continue
			}
			// Widths and precisions: every run of digits up to the verb.
			for j := i + 1; j < len(f); j++ {
				c := f[j]
				if c >= '0' && c <= '9' {
					k := j
					for k < len(f) && f[k] >= '0' && f[k] <= '9' {
						k++
					}
					w, _ := new(big.Float).SetString(f[j:k])
					if w != nil {
						x, _ := w.Float64()
						per += x
					}
					j = k - 1
					continue
				}
				if c == '.' || c == '-' || c == '+' || c == '#' || c == ' ' || c == '[' || c == ']' {
					continue
				}
				i = j
				break
			}
		}
		rows := 1.0
		var argBytes float64
		for _, a := range args[1:] {
			a, _ = a.Unmark()
			if list && a.IsKnown() && !a.IsNull() && (a.Type().IsListType() || a.Type().IsTupleType()) {
				rows = math.Max(rows, float64(a.LengthInt()))
			}
			argBytes += float64(deepBytes(a, MaxStringBytes+1))
		}
		n := per*rows + argBytes
		if list {
			if err := b.addElements(int64(math.Min(rows, MaxElements+1))); err != nil {
				return err
			}
		}
		return b.addBytes(int64(math.Min(n, MaxStringBytes+1)))
	}
}

// deepElements counts the elements of v as if every shared part were a copy, stopping once
// the count passes limit.
func deepElements(v cty.Value, limit int64) int64 {
	var n int64
	var walk func(v cty.Value)
	walk = func(v cty.Value) {
		if n > limit {
			return
		}
		v, _ = v.Unmark()
		if !v.IsKnown() || v.IsNull() {
			return
		}
		ty := v.Type()
		switch {
		case ty.IsObjectType():
			for name, at := range ty.AttributeTypes() {
				n++
				if flat, ok := flatSize(at); ok {
					n += flat
					continue
				}
				walk(v.GetAttr(name))
			}
		case ty.IsListType() || ty.IsSetType() || ty.IsMapType() || ty.IsTupleType():
			l := int64(v.LengthInt())
			if flat, ok := flatSize(elementTypeOf(ty)); ok {
				n += l * (1 + flat)
				return
			}
			for it := v.ElementIterator(); it.Next() && n <= limit; {
				_, e := it.Element()
				n++
				walk(e)
			}
		}
	}
	walk(v)
	return n
}

// elementTypeOf is the element type of a list, set or map type, and cty.NilType otherwise.
func elementTypeOf(ty cty.Type) cty.Type {
	if ty.IsListType() || ty.IsSetType() || ty.IsMapType() {
		return ty.ElementType()
	}
	return cty.NilType
}

// flatSize is the number of elements inside every value of type ty when that is fixed by
// the type: 0 for a primitive type, the attribute count for an object of primitives.
func flatSize(ty cty.Type) (int64, bool) {
	switch {
	case ty == cty.NilType:
		return 0, false
	case ty.IsPrimitiveType():
		return 0, true
	case ty.IsObjectType():
		for _, at := range ty.AttributeTypes() {
			if !at.IsPrimitiveType() {
				return 0, false
			}
		}
		return int64(len(ty.AttributeTypes())), true
	}
	return 0, false
}

// deepBytes is about how many bytes v takes as JSON, shared parts counted as copies,
// stopping once the count passes limit.
func deepBytes(v cty.Value, limit int64) int64 {
	var n int64
	var walk func(v cty.Value)
	walk = func(v cty.Value) {
		if n > limit {
			return
		}
		v, _ = v.Unmark()
		if !v.IsKnown() || v.IsNull() {
			n += 4
			return
		}
		ty := v.Type()
		switch {
		case ty.IsPrimitiveType():
			n += printedSize(v) + 2
		case ty.IsObjectType():
			for name := range ty.AttributeTypes() {
				n += int64(len(name)) + 4
				walk(v.GetAttr(name))
			}
		case v.CanIterateElements():
			for it := v.ElementIterator(); it.Next() && n <= limit; {
				k, e := it.Element()
				if ty.IsMapType() {
					n += int64(len(k.AsString())) + 4
				}
				n++
				walk(e)
			}
		}
	}
	walk(v)
	return n
}

// checkValueSize refuses a local or for_each value whose elements, shared parts counted as
// copies, pass MaxValueElements.
func (l *loader) checkValueSize(expr hcl.Expression, v cty.Value) hcl.Diagnostics {
	if n := deepElements(v, MaxValueElements); n > MaxValueElements {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Evaluation limit exceeded",
			Detail:   fmt.Sprintf("The value has more than %s elements, counting each use of a shared part (such as a local used twice in a list) as a copy; one value may have at most that many%s", thousands(MaxValueElements), limitAdvice),
			Subject:  expr.Range().Ptr(),
		}}
	}
	return nil
}

// decodeKey identifies a decoder's input by its memory: file() returns the same string to
// every instance, and each instance decoding a large file again would take minutes.
type decodeKey struct {
	fn  string
	ptr *byte
	n   int
}

// decodeCacheMin is the input size from which decoded values are cached.
const decodeCacheMin = 4096

// cachedDecode wraps jsondecode or csvdecode: the input is checked (for JSON, how deeply it
// nests) and the elements of the result charged once per distinct input string.
func cachedDecode(f function.Function, b *budget, name string) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			if name == "jsondecode" && known(args[0]) {
				if err := checkJSONDepth(args[0].AsString()); err != nil {
					return cty.DynamicPseudoType, err
				}
			}
			if v, ok := b.cached(name, args[0]); ok {
				return v.Type(), nil
			}
			return f.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if v, ok := b.cached(name, args[0]); ok {
				return v, nil
			}
			s := args[0].AsString()
			if name == "jsondecode" {
				// Every value is at least one byte of the text.
				if err := b.addElements(int64(jsonValues(s))); err != nil {
					return cty.DynamicVal, err
				}
			}
			v, err := f.Call(args)
			if err != nil {
				return v, err
			}
			if name == "jsondecode" {
				if exp, huge := hugeNumberIn(v); huge {
					return cty.DynamicVal, limitErrorf("the JSON has a number too large: %s", hugeNumberText(exp))
				}
			}
			if name == "csvdecode" && v.IsKnown() && !v.IsNull() && !b.wasTabled(s) {
				rows := int64(v.LengthInt())
				cols, _ := flatSize(elementTypeOf(v.Type()))
				if err := b.addElements(rows * (cols + 1)); err != nil {
					return cty.DynamicVal, err
				}
			}
			if r := b.root(); len(s) >= decodeCacheMin {
				r.mu.Lock()
				if r.decoded == nil {
					r.decoded = map[decodeKey]cty.Value{}
				}
				if len(r.decoded)+len(r.tabled) < 64 {
					r.decoded[decodeKey{name, unsafe.StringData(s), len(s)}] = v
				}
				r.mu.Unlock()
			}
			return v, nil
		},
	})
}

// chargeTable charges what the loader's evaluation of `{ for r in csvdecode(s) : r.id => r }`
// (evalExpr) charges: csvdecode's elements (nothing when s was decoded before, as
// cachedDecode does) and the for expression's iterations; all, or nothing when any would
// pass its limit. Below forParallelMin rows, evalExpr evaluates the expression twice
// (forObjectParallel's try, then HCL's), and csvdecode charges again where its result is not
// cached. The loader evaluates locals one at a time, so nothing is charged in between.
func (b *budget) chargeTable(s string, elems, iters int64) bool {
	b = b.root() // the decoded values and tables are the load's
	key := decodeKey{"csvdecode", unsafe.StringData(s), len(s)}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, before := b.decoded[key]
	before = before || b.tabled[key]
	cache := len(s) >= decodeCacheMin && len(b.decoded)+len(b.tabled) < 64
	if before {
		elems = 0
	}
	if iters < forParallelMin {
		iters *= 2
		if !before && !cache {
			elems *= 2
		}
	}
	if b.elements.Load()+elems > MaxElements || b.iterations.Load()+iters > MaxIterations {
		return false
	}
	b.elements.Add(elems)
	b.iterations.Add(iters)
	if !before && cache {
		if b.tabled == nil {
			b.tabled = map[decodeKey]bool{}
		}
		b.tabled[key] = true
	}
	return true
}

func (b *budget) wasTabled(s string) bool {
	b = b.root()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tabled[decodeKey{"csvdecode", unsafe.StringData(s), len(s)}]
}

func (b *budget) cached(name string, arg cty.Value) (cty.Value, bool) {
	if arg.IsMarked() || !arg.IsKnown() || arg.IsNull() {
		return cty.NilVal, false
	}
	s := arg.AsString()
	if len(s) < decodeCacheMin {
		return cty.NilVal, false
	}
	r := b.root()
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.decoded[decodeKey{name, unsafe.StringData(s), len(s)}]
	return v, ok
}

// root is the load's budget, which holds the decoded values.
func (b *budget) root() *budget {
	for b.parent != nil {
		b = b.parent
	}
	return b
}

// checkJSONDepth refuses JSON text whose arrays and objects nest deeper than MaxDecodeDepth,
// before the decoder, which recurses once or more per level, sees it.
func checkJSONDepth(s string) error {
	depth := 0
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if in {
			switch c {
			case '\\':
				i++
			case '"':
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case '[', '{':
			depth++
			if depth > MaxDecodeDepth {
				line := strings.Count(s[:i], "\n") + 1
				return limitErrorf("the JSON nests arrays and objects more than %d levels deep (at line %d); jsondecode reads at most %d", MaxDecodeDepth, line, MaxDecodeDepth)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}

// jsonValues is an upper bound of the values in JSON text: every value but the first
// follows a comma, a colon or an opening bracket.
func jsonValues(s string) int {
	return strings.Count(s, ",") + strings.Count(s, ":") + strings.Count(s, "[") + strings.Count(s, "{") + 1
}

// limitDiagnostics turns the diagnostics of function calls that exceeded a limit into
// "Evaluation limit exceeded" ones at the expression, without the values around it (which
// may be huge), once per place.
func limitDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	type place struct {
		file string
		line int
	}
	seen := map[place]bool{}
	out := diags[:0:0]
	for _, d := range diags {
		extra, ok := d.Extra.(hclsyntax.FunctionCallDiagExtra)
		var le *limitError
		if d.Summary == "Evaluation limit exceeded" && d.Subject != nil {
			// From a charged expression.
			p := place{d.Subject.Filename, d.Subject.Start.Line}
			if !seen[p] {
				seen[p] = true
				out = append(out, d)
			}
			continue
		}
		if !ok || !errors.As(extra.FunctionCallError(), &le) {
			out = append(out, d)
			continue
		}
		subject := d.Subject
		if d.Context != nil {
			subject = d.Context
		}
		if subject != nil {
			// One per line: a nested expression fails at each level, a for expression at
			// each of its remaining iterations.
			p := place{subject.Filename, subject.Start.Line}
			if seen[p] {
				continue
			}
			seen[p] = true
		}
		out = append(out, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Evaluation limit exceeded",
			Detail:   fmt.Sprintf("In %s: %s%s", extra.CalledFunctionName(), le.msg, limitAdvice),
			Subject:  subject,
		})
	}
	return out
}
