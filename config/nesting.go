package config

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxNesting is how deeply brackets, braces, parentheses, strings and template
// interpolations may nest in HCL source. HCL's parser and evaluator recurse once or more per
// level; about 100,000 levels exhaust Go's stack, which kills the process with no chance of
// an error message. No invoice needs more than a handful.
const MaxNesting = 2000

// CheckNesting reports source nested deeper than MaxNesting, before it reaches the parser.
// template says src is a template file (templatefile) rather than a configuration file or
// expression.
func CheckNesting(name string, src []byte, template bool) *hcl.Diagnostic {
	// Every level but a string's needs one of these bytes, and a string inside a string needs
	// "${" or "%{": with n of them nothing is deeper than 2n+1, and most files skip the lexer.
	n := bytes.Count(src, []byte("{")) + bytes.Count(src, []byte("[")) + bytes.Count(src, []byte("("))
	if 2*n+1 <= MaxNesting {
		return nil
	}
	var toks hclsyntax.Tokens
	if template {
		toks, _ = hclsyntax.LexTemplate(src, name, hcl.InitialPos)
	} else {
		toks, _ = hclsyntax.LexConfig(src, name, hcl.InitialPos)
	}
	depth := 0
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			if depth > MaxNesting {
				rng := t.Range
				return &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Nested too deeply",
					Detail:   fmt.Sprintf("Brackets, braces, parentheses, strings and interpolations may nest at most %d levels deep; this one is level %d. Flatten the expression, or move generated data into a CSV or JSON file read with file().", MaxNesting, depth),
					Subject:  &rng,
				}
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}
