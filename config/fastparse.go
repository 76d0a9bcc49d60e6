package config

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// parseConfig parses a configuration file: files of plain literal blocks, the bulk of a large
// manifest, are parsed by parseLiteral, and everything else by HCL. HCL's lexer is most of the
// cost of loading such files (it emits and grows a slice of tokens and segments every token
// into grapheme clusters to count columns).
func parseConfig(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	if f, ok := parseLiteral(src, name); ok {
		return f, nil
	}
	return hclsyntax.ParseConfig(src, name, hcl.InitialPos)
}

// parseLiteral parses a file made only of blocks (block type, quoted labels, a multi-line
// body) whose bodies hold attributes set to literals — quoted strings without template
// sequences, numbers, true, false, null — and blocks of the same one level in (an
// invoice's sender_data), with comments and blank lines anywhere HCL allows them. It gives exactly the tree
// hclsyntax.ParseConfig gives for such a file: the same nodes, values and ranges (byte
// offsets, lines and columns), so everything after parsing, diagnostics included, is
// unchanged. Anything else — any other expression, a heredoc, a template sequence, an
// identifier as a label, a one-line block, a repeated attribute, a character whose width in
// columns is not certain (see simpleRune), a syntax error — makes it give up on the whole file
// (ok is false) and leave it to HCL, whose diagnostics stay the only ones.
//
// fastparse_test.go holds it to HCL's results on generated, fixture, random and fuzzed files.
func parseLiteral(src []byte, name string) (f *hcl.File, ok bool) {
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		return nil, false // HCL skips a byte-order mark without counting it as a column
	}
	p := &litParser{src: src, name: name, pos: hcl.InitialPos, names: map[string]string{}}
	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: hclsyntax.Blocks{}}
	// The top-level body starts at the first token the parser sees: a newline (or a line
	// comment, which stands for the newline it ends with), a block, or the end of the file.
	var start hcl.Range
	started := false
	for {
		if !p.skipInline() {
			return nil, false
		}
		if p.pos.Byte >= len(src) {
			break
		}
		c := src[p.pos.Byte]
		switch {
		case c == '\n' || c == '\r':
			r, ok := p.newline()
			if !ok {
				return nil, false
			}
			if !started {
				start, started = r, true
			}
		case p.atLineComment():
			r, nl, ok := p.lineComment()
			if !ok {
				return nil, false
			}
			if nl && !started {
				start, started = r, true
			}
		case identStart(c):
			b, ok := p.block(0)
			if !ok {
				return nil, false
			}
			if !started {
				start, started = b.TypeRange, true
			}
			if !p.endOfBlock(true) {
				return nil, false
			}
			body.Blocks = append(body.Blocks, b)
		default:
			return nil, false
		}
	}
	end := p.rangeTo(p.pos)
	if !started {
		start = end
	}
	body.SrcRange = hcl.RangeBetween(start, end)
	body.EndRange = end
	return &hcl.File{Body: body, Bytes: src, Nav: litNav{body}}, true
}

// maxLiteralDepth is how deep blocks may nest on the fast path: top-level blocks and the
// blocks in them (an invoice's sender_data).
const maxLiteralDepth = 2

type litParser struct {
	src  []byte
	name string
	// pos is the position of src[pos.Byte], counted as HCL counts it.
	pos hcl.Pos
	// names are the attribute and block names seen, so each is allocated once per file.
	names map[string]string
	// buf collects a string's text as its escapes are resolved.
	buf []byte

	// Slabs the nodes are taken from: a file's nodes live and die together.
	attrs  []hclsyntax.Attribute
	lits   []hclsyntax.LiteralValueExpr
	tmpls  []hclsyntax.TemplateExpr
	parts  []hclsyntax.Expression
	blocks []hclsyntax.Block
	bodies []hclsyntax.Body
}

const litSlab = 64

// fromSlab hands out the next element of a slab of n, making a new slab when it is used up:
// the tree's nodes come in a few allocations instead of one each.
func fromSlab[T any](slab *[]T, n int) *T {
	if len(*slab) == 0 {
		*slab = make([]T, n)
	}
	x := &(*slab)[0]
	*slab = (*slab)[1:]
	return x
}

func (p *litParser) attr() *hclsyntax.Attribute { return fromSlab(&p.attrs, litSlab) }

func (p *litParser) lit() *hclsyntax.LiteralValueExpr { return fromSlab(&p.lits, litSlab) }

func (p *litParser) tmpl(part hclsyntax.Expression) *hclsyntax.TemplateExpr {
	t := fromSlab(&p.tmpls, litSlab)
	if len(p.parts) == 0 {
		p.parts = make([]hclsyntax.Expression, litSlab)
	}
	p.parts[0] = part
	t.Parts = p.parts[0:1:1]
	p.parts = p.parts[1:]
	return t
}

func (p *litParser) newBlock() *hclsyntax.Block {
	b := fromSlab(&p.blocks, litSlab/4)
	b.Body = fromSlab(&p.bodies, litSlab/4)
	return b
}

// rangeTo is the range from pos to to.
func (p *litParser) rangeTo(to hcl.Pos) hcl.Range {
	return hcl.Range{Filename: p.name, Start: p.pos, End: to}
}

// single consumes a one-byte token and gives its range.
func (p *litParser) single() hcl.Range {
	end := hcl.Pos{Line: p.pos.Line, Column: p.pos.Column + 1, Byte: p.pos.Byte + 1}
	r := p.rangeTo(end)
	p.pos = end
	return r
}

// skipInline skips spaces, tabs and /* */ comments, which the parser never sees.
func (p *litParser) skipInline() bool {
	src := p.src
	for p.pos.Byte < len(src) {
		switch c := src[p.pos.Byte]; {
		case c == ' ' || c == '\t':
			p.pos.Byte++
			p.pos.Column++
		case c == '/' && p.pos.Byte+1 < len(src) && src[p.pos.Byte+1] == '*':
			end := bytes.Index(src[p.pos.Byte+2:], []byte("*/"))
			if end < 0 {
				return false
			}
			if !p.advance(p.pos.Byte + 2 + end + 2) {
				return false
			}
		default:
			return true
		}
	}
	return true
}

// advance moves pos over src up to the byte offset to, counting lines and columns as HCL
// does in a token (one column per grapheme cluster). It gives up on a carriage return
// without a line feed and on any rune simpleRune does not know to be a cluster of its own.
func (p *litParser) advance(to int) bool {
	src := p.src
	pos := p.pos
	for pos.Byte < to {
		c := src[pos.Byte]
		switch {
		case c == '\n':
			pos.Byte++
			pos.Line++
			pos.Column = 1
		case c == '\r':
			if pos.Byte+1 >= to || src[pos.Byte+1] != '\n' {
				return false
			}
			pos.Byte += 2
			pos.Line++
			pos.Column = 1
		case c < utf8.RuneSelf:
			pos.Byte++
			pos.Column++
		default:
			r, size := utf8.DecodeRune(src[pos.Byte:to])
			if !simpleRune(r) {
				return false
			}
			pos.Byte += size
			pos.Column++
		}
	}
	p.pos = pos
	return true
}

// newline consumes a newline token: \n or \r\n.
func (p *litParser) newline() (hcl.Range, bool) {
	start := p.pos
	n := 1
	if p.src[start.Byte] == '\r' {
		if start.Byte+1 >= len(p.src) || p.src[start.Byte+1] != '\n' {
			return hcl.Range{}, false
		}
		n = 2
	}
	p.pos = hcl.Pos{Line: start.Line + 1, Column: 1, Byte: start.Byte + n}
	return hcl.Range{Filename: p.name, Start: start, End: p.pos}, true
}

func (p *litParser) atLineComment() bool {
	src, i := p.src, p.pos.Byte
	return src[i] == '#' || src[i] == '/' && i+1 < len(src) && src[i+1] == '/'
}

// lineComment consumes a # or // comment with the newline that ends it; nl reports whether
// there was one (the parser takes such a comment for a newline) or the file ended.
func (p *litParser) lineComment() (r hcl.Range, nl, ok bool) {
	start := p.pos
	end := len(p.src)
	if i := bytes.IndexByte(p.src[start.Byte:], '\n'); i >= 0 {
		end = start.Byte + i + 1
		nl = true
	}
	if !p.advance(end) {
		return hcl.Range{}, false, false
	}
	return hcl.Range{Filename: p.name, Start: start, End: p.pos}, nl, true
}

// endOfLine consumes what must end an attribute or a nested block's closing brace: a newline,
// or a line comment that ends with one.
func (p *litParser) endOfLine() bool {
	if !p.skipInline() || p.pos.Byte >= len(p.src) {
		return false
	}
	switch c := p.src[p.pos.Byte]; {
	case c == '\n' || c == '\r':
		_, ok := p.newline()
		return ok
	case p.atLineComment():
		_, nl, ok := p.lineComment()
		return ok && nl
	}
	return false
}

// endOfBlock consumes what follows a block's closing brace: the end of the line, or for a
// top-level block the end of the file.
func (p *litParser) endOfBlock(top bool) bool {
	if !p.skipInline() {
		return false
	}
	if p.pos.Byte >= len(p.src) {
		return top
	}
	if top && p.atLineComment() {
		_, _, ok := p.lineComment() // without a newline, the file ends there
		return ok
	}
	return p.endOfLine()
}

func identStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func identPart(c byte) bool {
	return identStart(c) || c >= '0' && c <= '9' || c == '-'
}

// ident consumes an identifier of ASCII letters, digits, _ and -; ok is false when a
// non-ASCII character follows, which HCL may take as part of it.
func (p *litParser) ident() (name []byte, r hcl.Range, ok bool) {
	src, i := p.src, p.pos.Byte
	for i < len(src) && identPart(src[i]) {
		i++
	}
	if i < len(src) && src[i] >= utf8.RuneSelf {
		return nil, r, false
	}
	name = src[p.pos.Byte:i]
	end := hcl.Pos{Line: p.pos.Line, Column: p.pos.Column + len(name), Byte: i}
	r = p.rangeTo(end)
	p.pos = end
	return name, r, true
}

func (p *litParser) intern(b []byte) string {
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	s := string(b)
	p.names[s] = s
	return s
}

// block parses a block from its type to its closing brace, at depth (0 for the top level).
func (p *litParser) block(depth int) (*hclsyntax.Block, bool) {
	typ, typeRange, ok := p.ident()
	if !ok {
		return nil, false
	}
	var labels []string
	var labelRanges []hcl.Range
	for {
		if !p.skipInline() || p.pos.Byte >= len(p.src) {
			return nil, false
		}
		c := p.src[p.pos.Byte]
		if c == '{' {
			break
		}
		if c != '"' {
			return nil, false
		}
		open, _, close, ok := p.quoted()
		if !ok {
			return nil, false
		}
		labels = append(labels, string(p.buf))
		labelRanges = append(labelRanges, hcl.RangeBetween(open, close))
	}
	b := p.newBlock()
	open := p.single()
	// A body that starts on the line of its brace is HCL's one-line form: not ours.
	if !p.skipInline() || p.pos.Byte >= len(p.src) {
		return nil, false
	}
	if c := p.src[p.pos.Byte]; c != '\n' && c != '\r' && c != '}' && !p.atLineComment() {
		return nil, false
	}
	closeRange, ok := p.body(b.Body, open, depth+1)
	if !ok {
		return nil, false
	}
	b.Type = p.intern(typ)
	b.Labels = labels
	b.TypeRange = typeRange
	b.LabelRanges = labelRanges
	b.OpenBraceRange = open
	b.CloseBraceRange = closeRange
	return b, true
}

// body parses a block's body after its opening brace up to and including the closing one.
func (p *litParser) body(body *hclsyntax.Body, open hcl.Range, depth int) (hcl.Range, bool) {
	body.Attributes = hclsyntax.Attributes{}
	body.Blocks = hclsyntax.Blocks{}
	src := p.src
	for {
		if !p.skipInline() || p.pos.Byte >= len(src) {
			return hcl.Range{}, false
		}
		switch c := src[p.pos.Byte]; {
		case c == '\n' || c == '\r':
			if _, ok := p.newline(); !ok {
				return hcl.Range{}, false
			}
		case p.atLineComment():
			if _, nl, ok := p.lineComment(); !ok || !nl {
				return hcl.Range{}, false
			}
		case c == '}':
			closeRange := p.single()
			body.SrcRange = hcl.RangeBetween(open, closeRange)
			body.EndRange = hcl.Range{Filename: p.name, Start: closeRange.End, End: closeRange.End}
			return closeRange, true
		case identStart(c):
			if !p.item(body, depth) {
				return hcl.Range{}, false
			}
		default:
			return hcl.Range{}, false
		}
	}
}

// item parses an attribute, or a nested block, of a body at depth.
func (p *litParser) item(body *hclsyntax.Body, depth int) bool {
	start := p.pos
	name, nameRange, ok := p.ident()
	if !ok || !p.skipInline() || p.pos.Byte >= len(p.src) {
		return false
	}
	switch p.src[p.pos.Byte] {
	case '{', '"':
		if depth >= maxLiteralDepth {
			return false
		}
		p.pos = start
		b, ok := p.block(depth)
		if !ok || !p.endOfBlock(false) {
			return false
		}
		body.Blocks = append(body.Blocks, b)
		return true
	case '=':
	default:
		return false
	}
	if next := p.pos.Byte + 1; next < len(p.src) && (p.src[next] == '=' || p.src[next] == '>') {
		return false // == or =>
	}
	equals := p.single()
	if !p.skipInline() || p.pos.Byte >= len(p.src) {
		return false
	}
	expr, exprRange, ok := p.value()
	if !ok || !p.endOfLine() {
		return false
	}
	key := p.intern(name)
	if _, dup := body.Attributes[key]; dup {
		return false // HCL's "Attribute redefined"
	}
	a := p.attr()
	a.Name = key
	a.Expr = expr
	a.SrcRange = hcl.RangeBetween(nameRange, exprRange)
	a.NameRange = nameRange
	a.EqualsRange = equals
	body.Attributes[key] = a
	return true
}

// value parses a literal expression: a quoted string, a number, true, false or null.
func (p *litParser) value() (hclsyntax.Expression, hcl.Range, bool) {
	switch c := p.src[p.pos.Byte]; {
	case c == '"':
		open, text, close, ok := p.quoted()
		if !ok {
			return nil, hcl.Range{}, false
		}
		if text.Start.Byte == text.End.Byte {
			// HCL gives "" an empty part just after the closing quote.
			text = hcl.Range{Filename: p.name, Start: close.End, End: close.End}
		}
		l := p.lit()
		l.Val = cty.StringVal(string(p.buf))
		l.SrcRange = text
		t := p.tmpl(l)
		t.SrcRange = hcl.RangeBetween(open, close)
		return t, t.SrcRange, true
	case c >= '0' && c <= '9':
		tok, ok := p.number()
		if !ok {
			return nil, hcl.Range{}, false
		}
		v, err := cty.ParseNumberVal(string(p.src[tok.Start.Byte:tok.End.Byte]))
		if err != nil {
			return nil, hcl.Range{}, false
		}
		l := p.lit()
		l.Val, l.SrcRange = v, tok
		return l, tok, true
	case identStart(c):
		name, r, ok := p.ident()
		if !ok {
			return nil, hcl.Range{}, false
		}
		var v cty.Value
		switch string(name) {
		case "true":
			v = cty.True
		case "false":
			v = cty.False
		case "null":
			v = cty.NullVal(cty.DynamicPseudoType)
		default:
			return nil, hcl.Range{}, false
		}
		l := p.lit()
		l.Val, l.SrcRange = v, r
		return l, r, true
	}
	return nil, hcl.Range{}, false
}

// number consumes a number token as HCL's scanner delimits it: a digit, then digits, dots
// and exponents (e, E, e+ or e- before a digit), not ending in a dot. Whatever follows must
// end the expression, which the caller checks.
func (p *litParser) number() (hcl.Range, bool) {
	src, i := p.src, p.pos.Byte+1
	end := i
	for i < len(src) {
		switch c := src[i]; {
		case c >= '0' && c <= '9':
			i++
			end = i
		case c == '.':
			i++
		case c == 'e' || c == 'E':
			j := i + 1
			if j < len(src) && (src[j] == '+' || src[j] == '-') {
				j++
			}
			if j >= len(src) || src[j] < '0' || src[j] > '9' {
				goto done
			}
			i = j + 1
			end = i
		default:
			goto done
		}
	}
done:
	stop := hcl.Pos{Line: p.pos.Line, Column: p.pos.Column + end - p.pos.Byte, Byte: end}
	r := p.rangeTo(stop)
	p.pos = stop
	return r, true
}

// quoted parses a quoted string without template sequences into p.buf, giving the ranges of
// its opening quote, its text and its closing quote.
func (p *litParser) quoted() (open, text, close hcl.Range, ok bool) {
	open = p.single()
	src := p.src
	p.buf = p.buf[:0]
	textStart := p.pos
	i, col := p.pos.Byte, p.pos.Column
	lit := i // start of the text not yet copied to buf
	for {
		if i >= len(src) {
			return open, text, close, false
		}
		c := src[i]
		switch {
		case c == '"':
			p.buf = append(p.buf, src[lit:i]...)
			p.pos = hcl.Pos{Line: p.pos.Line, Column: col, Byte: i}
			text = hcl.Range{Filename: p.name, Start: textStart, End: p.pos}
			close = p.single()
			return open, text, close, true
		case c == '\\':
			p.buf = append(p.buf, src[lit:i]...)
			n, ok := p.escape(i)
			if !ok {
				return open, text, close, false
			}
			i += n
			col += n
			lit = i
		case c == '$' || c == '%':
			if i+1 < len(src) && src[i+1] == '{' {
				return open, text, close, false // a template sequence
			}
			i++
			col++
		case c == '\n' || c == '\r':
			return open, text, close, false
		case c < utf8.RuneSelf:
			i++
			col++
		default:
			r, size := utf8.DecodeRune(src[i:])
			if !simpleRune(r) {
				return open, text, close, false
			}
			i += size
			col++
		}
	}
}

// escape resolves the escape sequence at src[i] into p.buf, giving its length; ok is false
// for anything HCL would refuse.
func (p *litParser) escape(i int) (n int, ok bool) {
	src := p.src
	if i+1 >= len(src) {
		return 0, false
	}
	switch src[i+1] {
	case 'n':
		p.buf = append(p.buf, '\n')
	case 'r':
		p.buf = append(p.buf, '\r')
	case 't':
		p.buf = append(p.buf, '\t')
	case '"':
		p.buf = append(p.buf, '"')
	case '\\':
		p.buf = append(p.buf, '\\')
	case 'u', 'U':
		digits := 4
		if src[i+1] == 'U' {
			digits = 8
		}
		if i+2+digits > len(src) {
			return 0, false
		}
		var r rune
		for _, h := range src[i+2 : i+2+digits] {
			var d byte
			switch {
			case h >= '0' && h <= '9':
				d = h - '0'
			case h >= 'a' && h <= 'f':
				d = h - 'a' + 10
			case h >= 'A' && h <= 'F':
				d = h - 'A' + 10
			default:
				return 0, false
			}
			r = r<<4 | rune(d)
			if r > unicode.MaxRune {
				return 0, false
			}
		}
		if utf8.RuneLen(r) < 0 {
			return 0, false // a surrogate: HCL's "Cannot encode character"
		}
		p.buf = utf8.AppendRune(p.buf, r)
		return 2 + digits, true
	default:
		return 0, false
	}
	return 2, true
}

// simpleRune reports whether r is, wherever it stands in a string or comment, a grapheme
// cluster of its own: one column to HCL, which counts columns in clusters. It holds for
// letters, digits, punctuation, symbols and spaces of a few common blocks, leaving out
// combining marks, format characters, Hangul jamo and regional indicators, which join their
// neighbours; fastparse_test.go checks every rune it accepts against HCL. Other runes make the
// fast path give up.
func simpleRune(r rune) bool {
	switch {
	case r < 0xA0:
		return false
	case r <= 0x2FF: // Latin-1 Supplement, Latin Extended-A and -B, IPA, modifier letters
		if r == 0xAD { // soft hyphen: a format character
			return false
		}
	case r >= 0x370 && r <= 0x3FF: // Greek
	case r >= 0x400 && r <= 0x52F: // Cyrillic
		if r >= 0x483 && r <= 0x489 { // combining
			return false
		}
	case r >= 0x2010 && r <= 0x2027, r >= 0x2030 && r <= 0x205E: // punctuation
	case r >= 0x20A0 && r <= 0x20C0: // currency signs
	case r >= 0x2100 && r <= 0x214F: // letterlike symbols
	case r >= 0x3000 && r <= 0x3029: // CJK punctuation
	case r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA: // kana
	case r >= 0x4E00 && r <= 0x9FFF: // CJK ideographs
	default:
		return false
	}
	return unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S, unicode.Zs)
}

// litNav is hclsyntax's navigation (unexported there) for a file parsed by parseLiteral: it
// names the block an offset is in, for diagnostics ("in invoice "x"").
type litNav struct {
	root *hclsyntax.Body
}

func (n litNav) blockAt(offset int) *hclsyntax.Block {
	for _, b := range n.root.Blocks {
		if b.Range().ContainsOffset(offset) {
			return b
		}
	}
	return nil
}

// ContextString implements hcled.ContextString, as hclsyntax's navigation does.
func (n litNav) ContextString(offset int) string {
	b := n.blockAt(offset)
	if b == nil {
		return ""
	}
	if len(b.Labels) == 0 {
		return b.Type
	}
	buf := &bytes.Buffer{}
	buf.WriteString(b.Type)
	for _, label := range b.Labels {
		fmt.Fprintf(buf, " %q", label)
	}
	return buf.String()
}

// ContextDefRange is the definition range of the block at offset, as hclsyntax's
// navigation gives it.
func (n litNav) ContextDefRange(offset int) hcl.Range {
	b := n.blockAt(offset)
	if b == nil {
		return hcl.Range{}
	}
	return b.DefRange()
}
