package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// StdCSVDecode is go-cty's csvdecode, for comparing ours with it.
var StdCSVDecode = stdlib.CSVDecodeFunc

// CSVDecode is ours.
var CSVDecode = csvDecodeFunc(nil)

// EvalExpr is the loader's expression evaluation with its parallel for-expression path.
var EvalExpr = evalExpr

// FastEach evaluates expr for an instance (each.key = key, each.value = value) on the fast
// path; ok is false when it leaves the expression to HCL.
func FastEach(expr hcl.Expression, key, value cty.Value) (cty.Value, bool) {
	e := &evaluator{inst: &instance{key: key, value: value}}
	return e.fast(expr)
}

// FieldBitsAgree reports a field whose switch bit differs from its place in fieldNames.
func FieldBitsAgree() string {
	for i, n := range fieldNames() {
		if bit(n) != 1<<i {
			return n
		}
	}
	return ""
}

// FastPlain evaluates expr on the fast path of a block without for_each.
func FastPlain(expr hcl.Expression) (cty.Value, bool) {
	e := &evaluator{}
	return e.fast(expr)
}

// ScanDepth is the byte scan that spares most files the lexer in CheckNesting.
var ScanDepth = scanDepth

// ExplainDuplicates is what evalExpr makes of HCL's "Duplicate object key" errors.
var ExplainDuplicates = explainDuplicates

// ParseLiteral is the fast parse of files of literal blocks; ok is false when it leaves the
// file to HCL.
var ParseLiteral = parseLiteral

// SimpleRune reports whether the fast parse takes r as one column.
var SimpleRune = simpleRune
