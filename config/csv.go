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

// csvDecodeFunc is the standard library's csvdecode (same signature, result and errors)
// with the rows turned into values on all cores: building a cty object per row is most of
// the cost of reading a CSV of a hundred thousand invoices.
var csvDecodeFunc = function.New(&function.Spec{
	Description: `Parses the given string as Comma Separated Values (as defined by RFC 4180) and returns a list of objects representing the table of data, using the first row as a header row to define the object attributes.`,
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type: func(args []cty.Value) (cty.Type, error) {
		if !args[0].IsKnown() {
			return cty.DynamicPseudoType, nil
		}
		headers, err := csv.NewReader(strings.NewReader(args[0].AsString())).Read()
		if err == io.EOF {
			return cty.DynamicPseudoType, fmt.Errorf("missing header line")
		}
		if err != nil {
			return cty.DynamicPseudoType, csvError(err)
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
		cr := csv.NewReader(strings.NewReader(args[0].AsString()))
		cr.FieldsPerRecord = len(ety.AttributeTypes())
		cr.ReuseRecord = false
		headers, err := cr.Read()
		if err != nil {
			return cty.DynamicVal, csvError(err)
		}
		records, err := cr.ReadAll()
		if err != nil {
			return cty.DynamicVal, csvError(err)
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

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("CSV parse error on line %d: %w", pe.Line, pe.Err)
	}
	return err
}
