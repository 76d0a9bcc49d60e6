package config

import (
	"bytes"
	"fmt"
	"unicode/utf8"

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
	// Lexing costs half as much as parsing; a generated file of megabytes has thousands of
	// braces, so a byte scan measures the depth first, and the lexer only finds where.
	if !template {
		if depth, ok := scanDepth(src); ok && depth <= MaxNesting {
			return nil
		}
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

// scanDepth measures the nesting depth of configuration source as CheckNesting counts it on
// the lexer's tokens, with a byte scan that follows the lexer (hclsyntax/scan_tokens.rl): its
// modes (code, quoted string, and code again inside ${ or %{, left by the } that matches the
// sequence's brace level), comments and escapes. ok is false where the scan does not follow
// the lexer (heredocs, a newline inside a string, an unclosed /* comment, bytes that are not
// UTF-8): the caller then asks the lexer.
func scanDepth(src []byte) (deepest int, ok bool) {
	if !utf8.Valid(src) {
		return 0, false
	}
	var (
		depth     int
		inString  []bool // the lexer's call stack: true for a quoted string, false for a sequence
		braces    int
		retBraces []int // brace levels at which a template sequence ends
	)
	open := func() {
		depth++
		deepest = max(deepest, depth)
	}
	closeBrace := func() {
		depth = max(depth-1, 0)
		if n := len(retBraces); n > 0 && retBraces[n-1] == braces {
			retBraces = retBraces[:n-1]
			inString = inString[:len(inString)-1]
		}
		braces--
	}
	for i := 0; i < len(src); i++ {
		b := src[i]
		if len(inString) > 0 && inString[len(inString)-1] {
			switch b {
			case '\\':
				if i+1 >= len(src) || src[i+1] == '\n' || src[i+1] == '\r' {
					return 0, false
				}
				i++ // an escape is the backslash and the next character
			case '"':
				depth = max(depth-1, 0)
				inString = inString[:len(inString)-1]
			case '\n', '\r':
				return 0, false
			case '$', '%':
				if i+1 < len(src) && src[i+1] == '{' {
					open()
					braces++
					retBraces = append(retBraces, braces)
					inString = append(inString, false)
					i++
				} else if i+2 < len(src) && src[i+1] == b && src[i+2] == '{' {
					i += 2 // $${ and %%{ are literal text
				}
			}
			continue
		}
		switch b {
		case '#':
			i = skipLine(src, i)
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				i = skipLine(src, i)
			} else if i+1 < len(src) && src[i+1] == '*' {
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return 0, false
				}
				i += 2 + end + 1
			}
		case '<':
			if i+1 < len(src) && src[i+1] == '<' {
				return 0, false
			}
		case '"':
			open()
			inString = append(inString, true)
		case '(', '[':
			open()
		case ')', ']':
			depth = max(depth-1, 0)
		case '{':
			open()
			braces++
		case '~':
			if i+1 < len(src) && src[i+1] == '}' {
				closeBrace()
				i++
			}
		case '}':
			closeBrace()
		}
	}
	return deepest, true
}

// skipLine returns the index of the newline that ends the line holding i, or the last index.
func skipLine(src []byte, i int) int {
	if nl := bytes.IndexByte(src[i:], '\n'); nl >= 0 {
		return i + nl
	}
	return len(src) - 1
}
