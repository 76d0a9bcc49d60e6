package config_test

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/internal/manifestgen"
)

var treeOptions = []cmp.Option{
	cmpopts.IgnoreUnexported(hclsyntax.Body{}),
	cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) }),
}

// navigator is what hclsyntax's (unexported) navigation of a file offers.
type navigator interface {
	ContextString(offset int) string
	ContextDefRange(offset int) hcl.Range
}

// checkLiteral parses src with the fast path and, if it takes it, checks that the file is
// exactly the one HCL makes of it: no diagnostics from HCL, the same tree (every node, value
// and range), the same value and ranges of every node, the same navigation. It reports
// whether the fast path took the file.
func checkLiteral(t testing.TB, src []byte) bool {
	t.Helper()
	got, ok := config.ParseLiteral(src, "t.hcl")
	if !ok {
		return false
	}
	want, diags := hclsyntax.ParseConfig(src, "t.hcl", hcl.InitialPos)
	if len(diags) > 0 {
		t.Fatalf("the fast path took a file HCL reports on: %s\n%q", diags, src)
	}
	if len(got.Bytes) != len(src) || len(src) > 0 && &got.Bytes[0] != &src[0] {
		t.Fatalf("the file's bytes are not its source")
	}
	if d := cmp.Diff(want.Body, got.Body, treeOptions...); d != "" {
		t.Fatalf("tree differs from HCL's (-HCL +fast):\n%s\nsource: %q", d, src)
	}
	compareBodies(t, want.Body.(*hclsyntax.Body), got.Body.(*hclsyntax.Body), src)
	wantNav, wok := want.Nav.(navigator)
	gotNav, gok := got.Nav.(navigator)
	if !wok || !gok {
		t.Fatalf("navigation: HCL's %T, fast %T", want.Nav, got.Nav)
	}
	// Every offset of a small file; of a large one, the edges of every block and a sample.
	offsets := map[int]bool{}
	for off := -1; off <= len(src)+1; off += 1 + len(src)/2000 {
		offsets[off] = true
	}
	for _, b := range want.Body.(*hclsyntax.Body).Blocks {
		for _, r := range []hcl.Range{b.Range(), b.DefRange()} {
			for d := -1; d <= 1; d++ {
				offsets[r.Start.Byte+d], offsets[r.End.Byte+d] = true, true
			}
		}
	}
	for off := range offsets {
		if w, g := wantNav.ContextString(off), gotNav.ContextString(off); w != g {
			t.Fatalf("ContextString(%d) = %q, HCL %q\nsource: %q", off, g, w, src)
		}
		if w, g := wantNav.ContextDefRange(off), gotNav.ContextDefRange(off); w != g {
			t.Fatalf("ContextDefRange(%d) = %v, HCL %v\nsource: %q", off, g, w, src)
		}
	}
	return true
}

// compareBodies walks both trees node by node, comparing what the loader reads: names,
// values, Range() and every range field. (The cmp.Diff above compares the fields already;
// this also holds the methods and the evaluated values to HCL's.)
func compareBodies(t testing.TB, want, got *hclsyntax.Body, src []byte) {
	t.Helper()
	fail := func(what string, w, g any) {
		t.Helper()
		t.Fatalf("%s: fast %v, HCL %v\nsource: %q", what, g, w, src)
	}
	if want.Range() != got.Range() || want.SrcRange != got.SrcRange || want.EndRange != got.EndRange {
		fail("body ranges", []hcl.Range{want.Range(), want.EndRange}, []hcl.Range{got.Range(), got.EndRange})
	}
	if len(want.Attributes) != len(got.Attributes) || len(want.Blocks) != len(got.Blocks) {
		fail("body items", want, got)
	}
	for name, w := range want.Attributes {
		g := got.Attributes[name]
		if g == nil || g.Name != w.Name {
			fail("attribute "+name, w, g)
		}
		for _, r := range [][2]hcl.Range{{w.Range(), g.Range()}, {w.SrcRange, g.SrcRange}, {w.NameRange, g.NameRange}, {w.EqualsRange, g.EqualsRange}, {w.Expr.Range(), g.Expr.Range()}, {w.Expr.StartRange(), g.Expr.StartRange()}} {
			if r[0] != r[1] {
				fail("attribute "+name+" ranges", r[0], r[1])
			}
		}
		wv, wd := w.Expr.Value(nil)
		gv, gd := g.Expr.Value(nil)
		if !wv.RawEquals(gv) || len(wd) != len(gd) {
			fail("attribute "+name+" value", wv, gv)
		}
		if wt, ok := w.Expr.(*hclsyntax.TemplateExpr); ok {
			gt := g.Expr.(*hclsyntax.TemplateExpr)
			for i := range wt.Parts {
				if wt.Parts[i].Range() != gt.Parts[i].Range() {
					fail("attribute "+name+" part range", wt.Parts[i].Range(), gt.Parts[i].Range())
				}
			}
		}
	}
	for i, w := range want.Blocks {
		g := got.Blocks[i]
		if w.Type != g.Type || !cmp.Equal(w.Labels, g.Labels) {
			fail("block", w, g)
		}
		for _, r := range [][2]hcl.Range{{w.Range(), g.Range()}, {w.DefRange(), g.DefRange()}, {w.TypeRange, g.TypeRange}, {w.OpenBraceRange, g.OpenBraceRange}, {w.CloseBraceRange, g.CloseBraceRange}} {
			if r[0] != r[1] {
				fail("block ranges", r[0], r[1])
			}
		}
		if !cmp.Equal(w.LabelRanges, g.LabelRanges) {
			fail("label ranges", w.LabelRanges, g.LabelRanges)
		}
		compareBodies(t, w.Body, g.Body, src)
	}
}

// TestParseLiteralGenerated: the manifests the bench loads take the fast path, and give
// HCL's trees.
func TestParseLiteralGenerated(t *testing.T) {
	dir := t.TempDir()
	if err := manifestgen.Literal(dir, 500, 5); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if len(names) != 5 {
		t.Fatalf("%d files", len(names))
	}
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !checkLiteral(t, src) {
			t.Errorf("%s: the fast path declined a generated file", name)
		}
	}
}

// TestParseLiteralFixtures holds every configuration file of the tests and examples to HCL's
// tree where the fast path takes it.
func TestParseLiteralFixtures(t *testing.T) {
	var names []string
	for _, root := range []string{"testdata", "../examples", "../cmd", "../internal"} {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".hcl") {
				names = append(names, path)
			}
			return nil
		})
	}
	took := 0
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(src) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if checkLiteral(t, src) {
				took++
			}
		})
	}
	t.Logf("the fast path took %d of %d files", took, len(names))
	if len(names) < 50 || took < 10 {
		t.Errorf("the fast path took %d of %d files: the test checks too little", took, len(names))
	}
}

// TestParseLiteralForms: each form the fast path knows is taken and matches HCL; each it
// does not know is left to HCL.
func TestParseLiteralForms(t *testing.T) {
	for _, c := range []struct {
		src  string
		fast bool
	}{
		{"", true},
		{"\n\n", true},
		{"# only a comment", true},
		{"/* only */ /* comments */\n", true},
		{"invoice \"a\" {\n}\n", true},
		{"invoice \"a\" {}", true},
		{"invoice \"a\" {}\n", true},
		{"invoice {\n}\n", true},
		{"invoice \"a\" \"b\" {\n}\n", true},
		{"invoice \"a\" {\n  x = \"\"\n}\n", true},
		{"invoice \"a\" {\n  x = \"a$b%c$$d%%e$\"\n}\n", true},
		{"invoice \"a\" {\n  x = \"\\n\\r\\t\\\"\\\\\\u00e9\\U0001F600\"\n}\n", true},
		{"invoice \"a\" {\n  x = \"e\\u0301\"\n}\n", true}, // NFC by cty, as in HCL
		{"invoice \"caf\\u0065\\u0301\" {\n}\n", true},     // labels are not normalized
		{"invoice \"a\" {\n  x = 1\n  y = 1.5\n  z = 1e3\n  w = 2E-2\n  v = 007\n}\n", true},
		{"invoice \"a\" {\n  x = true\n  y = false\n  z = null\n}\n", true},
		{"invoice \"a\" { # c\n  x = 1 # c\n  y = 2 // c\n  /* c */ z /* c */ = /* c */ 3 /* c\n */\n} # c\n", true},
		{"invoice \"a\" {\r\n  x = \"y\"\r\n}\r\n", true},
		{"invoice \"a\" {\n\tx\t=\t\"y\"\t\n}\t", true},
		{"invoice \"a\" {\n  sender_data {\n    first_name = \"Zoë\"\n  }\n}\n", true},
		{"invoice \"a\" {\n  sender_data {}\n}\n", true},
		{"invoice \"a\" {\n  x = \"Grüße, Жанна, 中文, €5 — ok\"\n}\n", true},
		{"invoice \"a\" {\n}\n# trailing comment without newline", true},
		{"invoice \"a\" {\n  x = \"${var.y}\"\n}\n", false},
		{"invoice \"a\" {\n  x = \"$${y}\"\n}\n", false},
		{"invoice \"a\" {\n  x = \"%{if true}y%{endif}\"\n}\n", false},
		{"invoice \"a\" {\n  x = <<EOT\ny\nEOT\n}\n", false},
		{"invoice \"a\" {\n  x = -1\n}\n", false},
		{"invoice \"a\" {\n  x = var.y\n}\n", false},
		{"invoice \"a\" {\n  x = true ? 1 : 2\n}\n", false},
		{"invoice \"a\" {\n  x = \"a\" + \"b\"\n}\n", false},
		{"invoice \"a\" {\n  x = [1]\n}\n", false},
		{"invoice \"a\" {\n  x = 1.2.3\n}\n", false},
		{"invoice \"a\" {\n  x = 1\n  x = 2\n}\n", false},
		{"invoice \"a\" { x = 1 }\n", false},
		{"invoice a {\n}\n", false},
		{"invoice \"a\" {\n  x = 1\n", false},
		{"invoice \"a\" {\n  x = \"e\u0301\"\n}\n", false},    // a combining mark in the source
		{"invoice \"a\" {\n  x = \"\U0001F600\"\n}\n", false}, // an emoji
		{"invoice \"a\" {\n  x = \"a\\qb\"\n}\n", false},
		{"invoice \"a\" {\n  x = \"\\ud800\"\n}\n", false},
		{"invoice \"a\" {\n  x = \"a\rb\"\n}\n", false},
		{"\ufeffinvoice \"a\" {\n}\n", false},
		{"x = 1\n", false},
		{"invoice \"a\" {\n  b {\n    c {\n    }\n  }\n}\n", false},
		{"invoice \"a\" {\n}invoice \"b\" {\n}\n", false},
		{"invoice \"a\" {\n  x = 1 y = 2\n}\n", false},
		{"invoice \"a\" {\n  x == 1\n}\n", false},
		{"invoice \"a\" {\n  x = 1\r}\n", false},
	} {
		got := checkLiteral(t, []byte(c.src))
		if got != c.fast {
			t.Errorf("%q: fast path taken = %v, want %v", c.src, got, c.fast)
		}
	}
}

// TestParseLiteralRunes: every rune the fast path counts as one column is one to HCL, in a
// label, in a string (after a quote, a letter, a $ or %, before a quote), next to another such
// rune, and in comments.
func TestParseLiteralRunes(t *testing.T) {
	var runes []rune
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if config.SimpleRune(r) {
			runes = append(runes, r)
		}
	}
	if len(runes) < 20000 {
		t.Fatalf("only %d runes", len(runes))
	}
	rnd := rand.New(rand.NewSource(1))
	other := func() rune { return runes[rnd.Intn(len(runes))] }
	// Each block holds eight runes: one in its labels, one in each attribute and its comments.
	const perBlock, perFile = 8, 400
	step := perFile
	if testing.Short() || raceEnabled {
		step = 5 * perFile // a fifth of them: the table does not change with the race detector
	}
	for i := 0; i < len(runes); i += step {
		chunk := runes[i:min(i+perFile, len(runes))]
		var b strings.Builder
		for j := 0; j < len(chunk); j += perBlock {
			r := chunk[j]
			fmt.Fprintf(&b, "blk \"%c\" \"x%c%c\" /*%c*/ {\n", r, r, other(), r)
			for k, r := range chunk[j+1 : min(j+perBlock, len(chunk))] {
				q := other()
				fmt.Fprintf(&b, "  /*%c%c*/ a%d = \"%cx%c$%c%%%c%c\" /* %c */ # %c%c\n", r, q, k, r, r, r, r, q, r, r, q)
			}
			b.WriteString("}\n")
		}
		if !checkLiteral(t, []byte(b.String())) {
			t.Fatalf("runes %U to %U: the fast path declined", chunk[0], chunk[len(chunk)-1])
		}
	}
}

// litGen writes random files, mostly of the fast path's forms, with now and then one it does
// not know.
type litGen struct {
	r  *rand.Rand
	b  strings.Builder
	nl string
}

func (g *litGen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *litGen) chance(p float64) bool { return g.r.Float64() < p }

// space is what may stand between two tokens on a line.
func (g *litGen) space() {
	switch g.r.Intn(12) {
	case 0:
		g.b.WriteString("")
	case 1:
		g.b.WriteString("\t")
	case 2:
		g.b.WriteString("  \t ")
	case 3:
		g.b.WriteString(" /* c */ ")
	case 4:
		g.b.WriteString("/*" + g.text(false) + "*/")
	case 5:
		g.b.WriteString(" /* two" + g.nl + " lines */ ")
	default:
		g.b.WriteString(" ")
	}
}

// eol ends a line: spaces, maybe a comment, the newline.
func (g *litGen) eol() {
	if g.chance(0.3) {
		g.b.WriteString(g.pick(" ", "", "\t", "   "))
	}
	switch g.r.Intn(6) {
	case 0:
		g.b.WriteString(" # " + g.text(false))
	case 1:
		g.b.WriteString("//" + g.text(false))
	case 2:
		g.b.WriteString(" /* c */")
	}
	g.b.WriteString(g.nl)
}

// text is a run of characters for strings and comments.
func (g *litGen) text(quoted bool) string {
	var b strings.Builder
	for n := g.r.Intn(8); n > 0; n-- {
		switch g.r.Intn(30) {
		case 0:
			b.WriteString(g.pick("é", "Ж", "中", "€", "—", "ß", "Ω", "ー", "\u00a0", "\u3000"))
		case 1:
			if quoted {
				b.WriteString(g.pick(`\n`, `\r`, `\t`, `\"`, `\\`, `\u00e9`, `\u0041`, `\U0001F600`, `\u0301`, `\u0000`))
			} else {
				b.WriteString(g.pick(`\`, `"`, "*", "/"))
			}
		case 2:
			b.WriteString(g.pick("$", "%", "$$", "%%", "$x", "%y", "{", "}", "=", "#", "//", "/*"))
		case 3:
			if g.chance(0.05) {
				// What the fast path leaves to HCL.
				b.WriteString(g.pick("${x}", "%{if true}y%{endif}", "$${z}", "e\u0301", "\U0001F600", "\u200d", "한", "\u00ad", `\q`, `\ud800`, "\r", "\x00", "\x7f", "\xff", "*/"))
			}
		case 4:
			b.WriteString(g.pick("\t", " ", "  "))
		default:
			b.WriteByte(byte('a' + g.r.Intn(26)))
		}
	}
	return b.String()
}

func (g *litGen) value() {
	switch g.r.Intn(20) {
	case 0, 1:
		g.b.WriteString(g.pick("0", "7", "42", "007", "1.5", "0.25", "1e3", "1E+3", "2e-2", "10.00", "123456789012345678901234567890", "1.e5", "0.000001"))
	case 2:
		g.b.WriteString(g.pick("true", "false", "null"))
	case 3:
		if g.chance(0.2) {
			g.b.WriteString(g.pick("-1", "1.2.3", "1.", "1e", "1..2", "1x", "truex", "true-1", "foo", "var.x", "[1]", "{a=1}", "\"a\" + \"b\"", "true ? 1 : 2", "<<EOT"+g.nl+"x"+g.nl+"EOT", "upper(\"x\")", "(1)", "!true"))
			return
		}
		fallthrough
	default:
		g.b.WriteString("\"" + g.text(true) + "\"")
	}
}

func (g *litGen) block(depth int) {
	if depth == 0 {
		g.b.WriteString(g.pick("invoice", "invoice", "invoice", "locals", "x-y", "_b"))
	} else {
		g.b.WriteString(g.pick("sender_data", "sender_data", "nested"))
	}
	for n := g.r.Intn(3); depth == 0 && n > 0; n-- {
		g.space()
		if g.chance(0.02) {
			g.b.WriteString("bare")
			continue
		}
		g.b.WriteString("\"" + g.text(true) + "\"")
	}
	if depth > 0 && g.chance(0.05) {
		g.b.WriteString(` "label"`)
	}
	g.space()
	if g.chance(0.03) {
		g.b.WriteString("{ a = 1 }")
		g.eol()
		return
	}
	if g.chance(0.05) {
		g.b.WriteString("{}")
		g.eol()
		return
	}
	g.b.WriteString("{")
	g.eol()
	names := []string{"title", "currency", "amount", "timer", "email_user", "a", "b-c", "_d", "x1"}
	used := map[string]bool{}
	for n := g.r.Intn(7); n > 0; n-- {
		if g.chance(0.1) {
			g.b.WriteString(g.nl)
		}
		g.b.WriteString(g.pick("", "  ", "\t", "    "))
		if g.chance(0.1) && depth < 2 {
			g.block(depth + 1)
			continue
		}
		name := g.pick(names...)
		if used[name] && !g.chance(0.05) {
			continue
		}
		used[name] = true
		g.b.WriteString(name)
		g.space()
		g.b.WriteString("=")
		g.space()
		g.value()
		g.eol()
	}
	g.b.WriteString(g.pick("", "  ", "\t"))
	g.b.WriteString("}")
	g.eol()
}

func (g *litGen) file() []byte {
	g.b.Reset()
	g.nl = "\n"
	if g.chance(0.2) {
		g.nl = "\r\n"
	}
	for n := g.r.Intn(6); n > 0; n-- {
		switch g.r.Intn(6) {
		case 0:
			g.b.WriteString(g.nl)
		case 1:
			g.b.WriteString("# " + g.text(false) + g.nl)
		case 2:
			g.b.WriteString("/* " + g.text(false) + " */")
			g.space()
		default:
			g.block(0)
		}
	}
	s := g.b.String()
	switch g.r.Intn(5) {
	case 0:
		s = strings.TrimRight(s, "\r\n")
	case 1:
		s += "  \t"
	}
	return []byte(s)
}

// TestParseLiteralRandom: random files of literal blocks, and mutations of them, are either
// left to HCL or parsed exactly as HCL parses them.
func TestParseLiteralRandom(t *testing.T) {
	g := &litGen{r: rand.New(rand.NewSource(17))}
	n := 3000
	if testing.Short() || raceEnabled {
		n = 600
	}
	took, mutantsTook := 0, 0
	for i := 0; i < n; i++ {
		src := g.file()
		if checkLiteral(t, src) {
			took++
		}
		// Mutations: a byte replaced, removed or inserted anywhere.
		for m := 0; m < 3 && len(src) > 0; m++ {
			mut := append([]byte(nil), src...)
			at := g.r.Intn(len(mut))
			c := " \t\r\n\"\\${}%#/*=.-0aé"[g.r.Intn(19)]
			switch g.r.Intn(3) {
			case 0:
				mut[at] = c
			case 1:
				mut = append(mut[:at], mut[at+1:]...)
			default:
				mut = append(mut[:at], append([]byte{c}, mut[at:]...)...)
			}
			if checkLiteral(t, mut) {
				mutantsTook++
			}
		}
	}
	t.Logf("the fast path took %d of %d files and %d of %d mutants", took, n, mutantsTook, 3*n)
	if took < n/5 || took > n*95/100 {
		t.Errorf("the fast path took %d of %d files: the generator tests too little of one side", took, n)
	}
}

// FuzzParseLiteral: on any bytes, the fast path declines or gives exactly HCL's file.
func FuzzParseLiteral(f *testing.F) {
	g := &litGen{r: rand.New(rand.NewSource(1))}
	for i := 0; i < 20; i++ {
		f.Add(g.file())
	}
	var fixtures []string
	_ = filepath.WalkDir("testdata/invalid", func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".hcl") {
			fixtures = append(fixtures, path)
		}
		return nil
	})
	sort.Strings(fixtures)
	for _, name := range fixtures[:min(len(fixtures), 20)] {
		if src, err := os.ReadFile(name); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkLiteral(t, src)
	})
}

// BenchmarkParseLiteral parses one generated file of 1,000 blocks (370 KB) on the fast path
// and with HCL.
func BenchmarkParseLiteral(b *testing.B) {
	dir := b.TempDir()
	if err := manifestgen.Literal(dir, 1000, 1); err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "invoices_000.hcl"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := config.ParseLiteral(src, "t.hcl"); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("hcl", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			if _, diags := hclsyntax.ParseConfig(src, "t.hcl", hcl.InitialPos); diags.HasErrors() {
				b.Fatal(diags)
			}
		}
	})
}
