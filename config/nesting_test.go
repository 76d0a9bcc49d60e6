package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/invoiceform/invoiceform/config"
)

// deep nests 1 in n levels of the given opening and closing text.
func deep(open, close string, n int) string {
	return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
}

func TestThousandLevelsLoad(t *testing.T) {
	for _, expr := range []string{deep("[", "]", 1000), deep("{a=", "}", 1000), deep("(", ")", 1000), deep(`"${`, `}"`, 500)} {
		dir := writeDir(t, map[string]string{"main.hcl": "locals {\n  p = " + expr + "\n}\n"})
		mustLoad(t, dir, config.LoadOptions{})
	}
}

func TestTooDeepIsAnErrorNotAStackOverflow(t *testing.T) {
	// 100,000 levels overflow Go's stack in HCL's parser: the process would die without a word.
	const n = 100_000
	tooDeep := deep("(", ")", n)
	cases := map[string]struct {
		files map[string]string
		opts  config.LoadOptions
	}{
		"parentheses":    {files: map[string]string{"main.hcl": "locals {\n  p = " + tooDeep + "\n}\n"}},
		"lists":          {files: map[string]string{"main.hcl": "locals {\n  p = " + deep("[", "]", n) + "\n}\n"}},
		"interpolations": {files: map[string]string{"main.hcl": "locals {\n  p = " + deep(`"${`, `}"`, n) + "\n}\n"}},
		"blocks":         {files: map[string]string{"main.hcl": strings.Repeat("b {\n", n) + strings.Repeat("}\n", n)}},
		"-var": {
			files: map[string]string{"main.hcl": "variable \"v\" {\n  type = list(number)\n}\n"},
			opts:  config.LoadOptions{Vars: []string{"v=" + deep("[", "]", n)}},
		},
		"-var-file": {
			files: map[string]string{"main.hcl": "variable \"v\" {\n  type = number\n}\n", "vars.tfvars": "v = " + tooDeep + "\n"},
			opts:  config.LoadOptions{VarFiles: []string{"vars.tfvars"}},
		},
		"templatefile": {files: map[string]string{"main.hcl": "locals {\n  p = templatefile(\"t.tpl\", {})\n}\n", "t.tpl": deep("${", "}", n)}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := writeDir(t, c.files)
			for i, f := range c.opts.VarFiles {
				c.opts.VarFiles[i] = filepath.Join(dir, f)
			}
			var b strings.Builder
			for _, d := range loadErrors(t, dir, c.opts) {
				b.WriteString(d.Summary + ": " + d.Detail + "\n")
			}
			if msg := b.String(); !strings.Contains(msg, "at most 2000 levels deep") || len(msg) > 4096 {
				t.Errorf("got %d bytes: %.500s", len(msg), msg)
			}
		})
	}
}

func TestVariableValuesMustBeUTF8(t *testing.T) {
	main := "variable \"t\" {\n  type = string\n}\nvariable \"l\" {\n  type    = list(string)\n  default = []\n}\n"
	cases := map[string]config.LoadOptions{
		"-var string":          {Vars: []string{"t=caf\xe9"}},
		"-var list":            {Vars: []string{"t=x", "l=[\"caf\xe9\"]"}},
		"environment variable": {Vars: []string{"t=x"}, Environ: []string{config.EnvVarPrefix + "l=[\"\xff\"]"}},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			diags := loadErrors(t, writeDir(t, map[string]string{"main.hcl": main}), opts)
			if len(diags) != 1 || !strings.Contains(diags[0].Detail, "is not UTF-8 text: byte 0x") {
				t.Errorf("got %v", diags)
			}
		})
	}
	t.Run("-var-file", func(t *testing.T) {
		dir := writeDir(t, map[string]string{"main.hcl": main, "v.tfvars": "t = \"caf\xe9\"\n"})
		cfg, diags := config.Load(dir, config.LoadOptions{Today: today, VarFiles: []string{filepath.Join(dir, "v.tfvars")}})
		// One error, at the byte, with the source line shown: not also "no value for t".
		if len(diags) != 1 || diags[0].Summary != "Invalid character encoding" || diags[0].Subject == nil || diags[0].Subject.Start.Column != 9 {
			t.Fatalf("got %v", diags)
		}
		if f := cfg.Files[filepath.Join(dir, "v.tfvars")]; f == nil || !strings.Contains(string(f.Bytes), "caf?") {
			t.Errorf("the source line is not available, or still holds the bad byte")
		}
	})
}

// lexDepth is the nesting depth as HCL's lexer tokens give it.
func lexDepth(src []byte) int {
	toks, _ := hclsyntax.LexConfig(src, "x.hcl", hcl.InitialPos)
	depth, deepest := 0, 0
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			deepest = max(deepest, depth)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			depth = max(depth-1, 0)
		}
	}
	return deepest
}

var scanSeeds = []string{
	"a = 1\n",
	`a = "x${"y${[1, (2)]}"}"` + "\n",
	`a = "}}}}))))]]]] \" $${ %%{ \\"` + "\n",
	"# ((((((\n// [[[[[\n/* {{{{ \n */ a = [1]\n",
	`a = "%{ if true }${ {b = 1}.b }%{ endif }"` + "\n",
	`a = { for k, v in {a = "}"} : k => "${v}" }` + "\n",
	"b {\n  c {\n    d = [[[\"(\"]]]\n  }\n}\n",
	"a = \"unterminated\nb = ((((1))))\n",
	"a = <<EOT\n${(((1)))}\nEOT\n",
	"a = ))))(((( \n",
	"a = /* never closed ((((",
	"a = \"${\"${\"\\\"}\"}\"}\"\n",
	"a = \"$\"\nb = \"%\"\n",
	"} } a = \"${ {} ~} \" ( \"",
	"a = \"\\${ ) \" (((",
	"# comment at the end (((",
}

func TestScanDepthIsTheLexersDepth(t *testing.T) {
	for _, s := range scanSeeds {
		got, ok := config.ScanDepth([]byte(s))
		if want := lexDepth([]byte(s)); ok && got != want {
			t.Errorf("%q: scanned depth %d, lexer's %d", s, got, want)
		}
	}
}

// FuzzScanDepth: where the byte scan answers, it answers the lexer's depth, so a file it lets
// through is never deeper than MaxNesting.
func FuzzScanDepth(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, ok := config.ScanDepth(src)
		if want := lexDepth(src); ok && got != want {
			t.Fatalf("%q: scanned depth %d, lexer's %d", src, got, want)
		}
	})
}
