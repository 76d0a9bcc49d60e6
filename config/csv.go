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
