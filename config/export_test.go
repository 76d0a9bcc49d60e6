package config

import (
	"hash/maphash"

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

// FastEachString is FastEach's string form, which str uses.
func FastEachString(expr hcl.Expression, key, value cty.Value) (string, bool) {
	e := &evaluator{inst: &instance{key: key, value: value}}
	return e.fastString(expr)
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

// LoadTables loads dir with the CSV tables of forexpr.go on or off, and returns the locals
// kept as tables and what the load charged to the evaluation limits.
func LoadTables(dir string, opts LoadOptions, on bool) (cfg *Config, diags hcl.Diagnostics, tables []string, charged [3]int64) {
	opts.noTables = !on
	opts.done = func(l *loader) {
		tables = sortedKeys(l.tables)
		charged = [3]int64{l.budget.elements.Load(), l.budget.iterations.Load(), l.budget.bytes.Load()}
	}
	cfg, diags = Load(dir, opts)
	return cfg, diags, tables, charged
}

// AttrFields are the field names AttrRange knows.
var AttrFields = fieldNames

// DecodeCSVTable decodes text as a table, read in parts of at least partMin bytes, and
// returns its rows as csvdecode would give them; ok is false where it leaves the text to
// csvdecode.
func DecodeCSVTable(text string, partMin int) (rows []cty.Value, ok bool) {
	defer func(m int) { csvPartMin = m }(csvPartMin)
	csvPartMin = partMin
	t := decodeCSVTable(text)
	if t == nil {
		return nil, false
	}
	t.each(func(row rowRef) { rows = append(rows, t.rowValue(row)) })
	return rows, true
}

// InvoiceRanges is where each field of inv is set (AttrRange of every field name) and where
// its foreign_id is, however the invoice keeps them (a map, or the cache's spans).
func InvoiceRanges(inv *Invoice) (map[string]hcl.Range, hcl.Range) {
	out := map[string]hcl.Range{}
	for _, f := range fieldNames() {
		out[f] = inv.AttrRange(f)
	}
	return out, inv.AttrRange("foreign_id")
}

// DecodeCacheEntry reads an entry's payload as a lookup would; ok is false for one a lookup
// would refuse.
func DecodeCacheEntry(payload []byte, name string) (invoices []*Invoice, ok bool) {
	e, ok := decodeEntry(payload, name)
	if !ok {
		return nil, false
	}
	for _, it := range e.items {
		invoices = append(invoices, it.res.inv)
	}
	return invoices, true
}

// SetIDHash replaces the hash finishInvoices looks foreign_ids up by, until restore.
func SetIDHash(f func(id string) uint64) (restore func()) {
	idHash = func(_ maphash.Seed, id string) uint64 { return f(id) }
	return func() { idHash = lowerHash }
}
