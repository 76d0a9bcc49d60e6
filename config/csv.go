package config

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"

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
	// parts holds the rows as read, in parts: a part's rows one after another, cols cells
	// each, normalized as cty.StringVal normalizes them.
	parts [][]string
	n     int      // rows
	ety   cty.Type // a row's type: an object with a string attribute per column
}

// rowRef names a row of a table: its part, and its place in the part.
type rowRef struct{ part, i int32 }

func (t *csvTable) cell(row rowRef, col int) string {
	return t.parts[row.part][int(row.i)*t.cols+col]
}

// rowValue is the row as csvdecode gives it.
func (t *csvTable) rowValue(row rowRef) cty.Value {
	vals := make(map[string]cty.Value, t.cols)
	for c, name := range t.names {
		vals[name] = cty.StringVal(t.cell(row, c))
	}
	return cty.ObjectVal(vals)
}

// each calls fn for every row, in the order of the text.
func (t *csvTable) each(fn func(row rowRef)) {
	for p, cells := range t.parts {
		for i := 0; i < len(cells)/t.cols; i++ {
			fn(rowRef{int32(p), int32(i)})
		}
	}
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
	// Without a quote in the text, every record is one line, and the lines after the header
	// are read on all cores, each part by a reader of its own held to the header's count of
	// fields (as csvdecode holds them); with quotes a field may hold a line break, and one
	// reader reads them all.
	text = stripBOM(text)
	rest := text[cr.InputOffset():]
	parts := []string{rest}
	if strings.IndexByte(text, '"') < 0 {
		parts = splitLines(rest, 4*runtime.GOMAXPROCS(0), csvPartMin)
	}
	cells := make([][]string, len(parts))
	failed := make([]bool, len(parts))
	var total atomic.Int64 // the cells of all parts, against MaxElements
	parallel(len(parts), runtime.GOMAXPROCS(0), 1, func(i int) {
		cells[i], failed[i] = readCells(parts[i], len(headers), MaxElements/len(parts), &total)
	})
	n := 0
	for i := range parts {
		if failed[i] {
			return nil
		}
		n += len(cells[i])
	}
	if n == 0 || n > MaxElements {
		return nil // no rows: csvdecode's empty list; too many: past its limit
	}
	t.parts, t.n = cells, n/t.cols
	return t
}

// readCells reads the records of text, each of cols fields, and returns their cells
// normalized as cty.StringVal normalizes them; failed is set where csvdecode would fail, or
// where the cells of all parts (total) pass MaxElements. It makes room for at most most
// cells at first.
func readCells(text string, cols, most int, total *atomic.Int64) (cells []string, failed bool) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = cols
	cr.ReuseRecord = true
	// Room for a row per line: a cell takes at least a byte.
	cells = make([]string, 0, min(int64(strings.Count(text, "\n")+1)*int64(cols), int64(len(text))+1, int64(most)+1))
	// The parts' readers add their cells to total some thousands at a time: a shared counter
	// added to per record costs its cache line moving between the cores at every record.
	// The count is checked whole once every part is read.
	var mine int64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return cells, total.Add(mine) > MaxElements
		}
		if err != nil {
			return nil, true
		}
		if mine += int64(len(rec)); mine >= 1<<12 {
			if total.Add(mine) > MaxElements {
				return nil, true
			}
			mine = 0
		}
		for _, c := range rec {
			cells = append(cells, cty.NormalizeString(c))
		}
	}
}

// csvPartMin is the least a part of a CSV text read on its own is: below it, the parts are
// not worth a goroutine each.
var csvPartMin = 1 << 20

// splitLines cuts text into about n parts of whole lines, none much smaller than min bytes.
func splitLines(text string, n, min int) []string {
	size := max(len(text)/n, min)
	var parts []string
	for len(text) > size {
		i := strings.IndexByte(text[size:], '\n')
		if i < 0 {
			break
		}
		parts = append(parts, text[:size+i+1])
		text = text[size+i+1:]
	}
	return append(parts, text)
}
