package config

import "github.com/zclconf/go-cty/cty/function/stdlib"

// StdCSVDecode is go-cty's csvdecode, for comparing ours with it.
var StdCSVDecode = stdlib.CSVDecodeFunc

// CSVDecode is ours.
var CSVDecode = csvDecodeFunc

// EvalExpr is the loader's expression evaluation with its parallel for-expression path.
var EvalExpr = evalExpr

// ScanDepth is the byte scan that spares most files the lexer in CheckNesting.
var ScanDepth = scanDepth
