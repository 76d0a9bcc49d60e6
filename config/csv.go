package config

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// csvDecodeFunc is the standard library's csvdecode (same signature and result) with the
// rows turned into values on all cores: building a cty object per row is most of the cost of
// reading a CSV of a hundred thousand invoices. Unlike it, a UTF-8 byte-order mark (what
// Excel writes first) is skipped instead of becoming part of the first column's name, and a
// parse error names the file when the text is one that file() read.
func csvDecodeFunc(files *fileReader) function.Function {
	csvError := func(text string, err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if name := files.nameOf(text); name != "" {
				return fmt.Errorf("CSV parse error in %s on line %d: %w", name, pe.Line, pe.Err)
			}
			return fmt.Errorf("CSV parse error on line %d: %w", pe.Line, pe.Err)
		}
		return err
	}
	return function.New(&function.Spec{
		Description: `Parses the given string as Comma Separated Values (as defined by RFC 4180) and returns a list of objects representing the table of data, using the first row as a header row to define the object attributes.`,
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type: func(args []cty.Value) (cty.Type, error) {
			if !args[0].IsKnown() {
				return cty.DynamicPseudoType, nil
			}
			text := args[0].AsString()
			headers, err := csv.NewReader(strings.NewReader(stripBOM(text))).Read()
			if err == io.EOF {
				return cty.DynamicPseudoType, fmt.Errorf("missing header line")
			}
			if err != nil {
				return cty.DynamicPseudoType, csvError(text, err)
			}
			atys := make(map[string]cty.Type, len(headers))
			for _, name := range headers {
				if _, exists := atys[name]; exists {
					return cty.DynamicPseudoType, fmt.Errorf("duplicate column name %q", name)
				}
				atys[name] = cty.String
			}
			return cty.List(cty.Object(atys)), nil
		},
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			ety := retType.ElementType()
			text := args[0].AsString()
			cr := csv.NewReader(strings.NewReader(stripBOM(text)))
			cr.FieldsPerRecord = len(ety.AttributeTypes())
			cr.ReuseRecord = false
			headers, err := cr.Read()
			if err != nil {
				return cty.DynamicVal, csvError(text, err)
			}
			records, err := cr.ReadAll()
			if err != nil {
				return cty.DynamicVal, csvError(text, err)
			}
			if len(records) == 0 {
				return cty.ListValEmpty(ety), nil
			}
			rows := make([]cty.Value, len(records))
			parallel(len(records), runtime.GOMAXPROCS(0), 512, func(i int) {
				vals := make(map[string]cty.Value, len(headers))
				for c, s := range records[i] {
					vals[headers[c]] = cty.StringVal(s)
				}
				rows[i] = cty.ObjectVal(vals)
			})
			return cty.ListVal(rows), nil
		},
	})
}

// bom is the UTF-8 byte-order mark, which Excel writes at the start of a "CSV UTF-8" file.
const bom = "\ufeff"

func stripBOM(s string) string { return strings.TrimPrefix(s, bom) }

// csvTable is what csvdecode makes of a CSV text, kept column by column instead of as a list
// of cty objects: the instances of a for_each over `{ for r in csvdecode(...) : r.id => r }`
// read their cells from here, and a row's object is made only where an expression needs the
// whole row (see tableLocal). With a million rows, the objects (a map and an object type
// per row) and the for expression's million-attribute object were most of the loader's time
// and memory.
type csvTable struct {
	names []string       // the header row, normalized as cty normalizes attribute names
	index map[string]int // the column of each name
	cols  int
	// cells holds the rows one after another, cols cells each, normalized as cty.StringVal
	// normalizes them.
	cells []string
	ety   cty.Type // a row's type: an object with a string attribute per column
}

func (t *csvTable) rows() int { return len(t.cells) / t.cols }

func (t *csvTable) cell(row, col int) string { return t.cells[row*t.cols+col] }

// rowValue is the row as csvdecode gives it.
func (t *csvTable) rowValue(row int) cty.Value {
	vals := make(map[string]cty.Value, t.cols)
	for c, name := range t.names {
		vals[name] = cty.StringVal(t.cell(row, c))
	}
	return cty.ObjectVal(vals)
}

// decodeCSVTable decodes text as csvDecodeFunc does, into a table. It returns nil wherever
// csvdecode would fail (no header line, a duplicate column name, a parse error, a row with
// another number of fields than the header), and for a text without rows, so that those are
// left to csvdecode and its diagnostics.
func decodeCSVTable(text string) *csvTable {
	cr := csv.NewReader(strings.NewReader(stripBOM(text)))
	cr.ReuseRecord = true
	headers, err := cr.Read()
	if err != nil {
		return nil
	}
	t := &csvTable{cols: len(headers), index: make(map[string]int, len(headers))}
	atys := make(map[string]cty.Type, len(headers))
	raw := make(map[string]bool, len(headers))
	for c, h := range headers {
		name := cty.NormalizeString(h)
		// A name repeated, or two that normalize to one: csvdecode refuses the first (and
		// cty panics at the second).
		if _, dup := atys[name]; dup || raw[h] {
			return nil
		}
		raw[h] = true
		atys[name] = cty.String
		t.names = append(t.names, name)
		t.index[name] = c
	}
	t.ety = cty.Object(atys)
	// Room for a row per line: a cell takes at least a byte, and a table of more than
	// MaxElements cells is refused below (csvdecode's result would pass the limit).
	t.cells = make([]string, 0, min(int64(strings.Count(text, "\n")+1)*int64(t.cols), int64(len(text))+1, MaxElements+1))
	// With FieldsPerRecord left at 0, the reader holds every row to the header's count,
	// as csvdecode does by setting it to that count.
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(t.cells) > MaxElements {
			return nil
		}
		t.cells = append(t.cells, rec...)
	}
	if len(t.cells) == 0 {
		return nil
	}
	const chunk = 4096
	parallel((len(t.cells)+chunk-1)/chunk, runtime.GOMAXPROCS(0), 1, func(i int) {
		cells := t.cells[i*chunk : min((i+1)*chunk, len(t.cells))]
		for j, s := range cells {
			cells[j] = cty.NormalizeString(s)
		}
	})
	return t
}
