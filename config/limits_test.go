package config_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/config"
)

// loadLocals loads a configuration of one locals block (and extra files) and returns the
// diagnostics' text. The limits are counts, not times: that a bomb ends is shown by the test
// ending (no timed assertion; `make` of the numbers is in docs/language.md).
func loadLocals(t *testing.T, locals string, files map[string]string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	files["main.hcl"] = "locals {\n" + locals + "\n}\n"
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, diags := config.Load(dir, config.LoadOptions{Today: today})
	return diags.Error(), diags.HasErrors()
}

// TestEvaluationLimits: what would fill memory or run for hours ends within seconds with a
// diagnostic at the expression; ordinary uses of the same functions still work.
func TestEvaluationLimits(t *testing.T) {
	doubling := func(tmpl string) string {
		var b strings.Builder
		b.WriteString("  a0 = \"0123456789abcdef\"\n")
		for i := 1; i <= 40; i++ {
			b.WriteString("  a" + itoa(i) + " = " + strings.ReplaceAll(tmpl, "PREV", "local.a"+itoa(i-1)) + "\n")
		}
		return b.String()
	}
	for name, c := range map[string]struct {
		locals string
		files  map[string]string
		want   string
	}{
		"setproduct":          {locals: `x = setproduct(range(1024), range(1024), range(1024))`, want: "one call may make at most 1,000,000"},
		"split":               {locals: `big = join("", [for i in range(1000) : "0123456789"])` + "\n" + `big2 = join("", [for i in range(200) : local.big])` + "\n" + `x = split("", local.big2)`, want: "one call may make at most 1,000,000"},
		"nested for":          {locals: `x = [for a in range(1024) : [for b in range(1024) : [for c in range(1024) : c]]]`, want: "iterations of this configuration's for expressions past 1,000,000"},
		"template for":        {locals: `x = "%{for a in range(1024)}%{for b in range(1024)}%{for c in range(1024)}0123456789abcdef%{endfor}%{endfor}%{endfor}"`, want: "Evaluation limit exceeded"},
		"doubling templates":  {locals: doubling(`"${PREV}${PREV}"`), want: "past 256 MiB"},
		"doubling join":       {locals: doubling(`join("", [PREV, PREV])`), want: "past 256 MiB"},
		"doubling format":     {locals: doubling(`format("%s%s", PREV, PREV)`), want: "past 256 MiB"},
		"doubling replace":    {locals: doubling(`replace(PREV, "0", PREV)`), want: "past 256 MiB"},
		"doubling lists":      {locals: strings.ReplaceAll(doubling(`[PREV, PREV]`), `"0123456789abcdef"`, `[1]`), want: "more than 10,000,000 elements"},
		"doubling concat":     {locals: strings.ReplaceAll(doubling(`concat(PREV, PREV)`), `"0123456789abcdef"`, `[1]`), want: "one call may make at most 1,000,000"},
		"doubling jsonencode": {locals: strings.ReplaceAll(doubling(`{a = PREV, b = PREV}`), `"0123456789abcdef"`, `"x"`) + "  j = jsonencode(local.a40)", want: "Evaluation limit exceeded"},
		"format width":        {locals: `x = format("%999999999999d", 1)`, want: "past 256 MiB"},
		"indent":              {locals: `x = indent(999999999999, "a\nb")`, want: "past 256 MiB"},
		"deep JSON":           {locals: `x = jsondecode(file("d.json"))`, files: map[string]string{"d.json": strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)}, want: "more than 100 levels deep"},
		"default nested for":  {locals: `y = 1`, files: map[string]string{"v.hcl": "variable \"v\" {\n  default = [for a in [" + strings.Repeat("1,", 1000) + "] : [for b in [" + strings.Repeat("1,", 1000) + "] : [for c in [" + strings.Repeat("1,", 1000) + "] : c]]]\n}\n"}, want: "Evaluation limit exceeded"},
		"function in default": {locals: `y = 1`, files: map[string]string{"v.hcl": "variable \"v\" {\n  default = upper(\"x\")\n}\n"}, want: "Function calls not allowed"},
		"templatefile for":    {locals: `x = templatefile("t.tmpl", {})`, files: map[string]string{"t.tmpl": "%{for a in range(1024)}%{for b in range(1024)}%{for c in range(1024)}x%{endfor}%{endfor}%{endfor}"}, want: "Evaluation limit exceeded"},
		"regex_replace":       {locals: `big = join("", [for i in range(1024) : "0123456789abcdefghij"])` + "\n" + `x = regex_replace(local.big, "", local.big)`, want: "past 256 MiB"},
		"flatten of doubling": {locals: strings.ReplaceAll(doubling(`[PREV, PREV]`), "a40 =", "a40x =") + "  f = flatten(local.a23)", want: "Evaluation limit exceeded"},
	} {
		t.Run(name, func(t *testing.T) {
			if c.files == nil {
				c.files = map[string]string{}
			}
			text, failed := loadLocals(t, c.locals, c.files)
			if !failed || !strings.Contains(text, c.want) {
				t.Errorf("got %.2000s, want an error with %q", text, c.want)
			}
			if !strings.Contains(text, "main.hcl:") && !strings.Contains(text, "v.hcl:") {
				t.Errorf("no place: %.500s", text)
			}
		})
	}

	// The same functions as configurations use them.
	text, failed := loadLocals(t, `
  a = setproduct(["a", "b"], range(3))
  b = join(",", [for i in range(1000) : format("%05d", i)])
  c = split(",", local.b)
  d = replace(local.b, ",", ";")
  e = regex_replace(local.b, "(\\d+)", "<$1>")
  f = indent(2, "a\nb")
  g = flatten([local.c, local.c])
  h = concat(local.c, local.c)
  i = jsonencode({x = local.c})
  j = jsondecode(local.i)
  k = "${local.b}-${local.d}"
  l = csvdecode("id,title\n1,x\n2,y\n")
  m = formatlist("%s-%s", local.c, "x")
  n = "%{for s in local.c}${s}%{endfor}"
`, map[string]string{})
	if failed {
		t.Fatalf("ordinary functions: %s", text)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestHugeNumbers: a number whose decimal text would be millions of digits long ends where it
// is written or made, within a second, with a diagnostic at its line; it never reaches a
// conversion to text (templates, tostring, format, function arguments, map keys, invoice
// attributes), each of which would take minutes.
func TestHugeNumbers(t *testing.T) {
	const want = "numbers may have at most 1,000 digits"
	squares := "  a0 = 1e100\n"
	for i := 1; i <= 30; i++ {
		squares += "  a" + itoa(i) + " = local.a" + itoa(i-1) + " * local.a" + itoa(i-1) + "\n"
	}
	invoice := func(attr string) string {
		return "invoice \"a\" {\n  title = \"Order\"\n  currency = \"EUR\"\n  amount = \"1.00\"\n  timer = false\n  end_user_reference = \"c-1\"\n  url_success = \"https://shop.example.com/ok\"\n  url_failed = \"https://shop.example.com/failed\"\n  email_user = \"b@example.com\"\n  " + attr + "\n}\n"
	}
	for name, c := range map[string]struct {
		src  string
		vars []string
		line int
	}{
		"title template":       {src: invoice(`description = "n${1e300000000}"`), line: 10},
		"title literal":        {src: invoice(`description = 1e300000000`), line: 10},
		"amount literal":       {src: strings.Replace(invoice(""), `amount = "1.00"`, `amount = 1e300000000`, 1), line: 4},
		"product":              {src: "locals {\n  x = 1e300000000 * 1e300000000\n}\n", line: 2},
		"sum of moderate":      {src: "locals {\n  x = 1e999 * 1e999 + 1\n}\n", line: 2},
		"repeated squaring":    {src: "locals {\n" + squares + "}\n", line: 6},
		"tiny":                 {src: "locals {\n  x = \"${1e-300000000}\"\n}\n", line: 2},
		"tostring":             {src: "locals {\n  x = tostring(1e300000000)\n}\n", line: 2},
		"format %f":            {src: "locals {\n  x = format(\"%f\", 1e300000000)\n}\n", line: 2},
		"string concatenation": {src: "locals {\n  n = 1e300000000\n  x = \"a${local.n}b\"\n}\n", line: 2},
		"function argument":    {src: "locals {\n  x = upper(1e300000000)\n}\n", line: 2},
		"map key":              {src: "locals {\n  m = {a = 1}\n  x = local.m[1e300000000]\n}\n", line: 3},
		"tonumber":             {src: "locals {\n  x = \"${tonumber(\"1e300000000\")}\"\n}\n", line: 2},
		"jsondecode":           {src: "locals {\n  x = jsondecode(\"[1e300000000]\")\n}\n", line: 2},
		"string default":       {src: "variable \"v\" {\n  type = string\n  default = 1e300000000\n}\n", line: 3},
		"-var":                 {src: "variable \"v\" {\n  type = number\n}\nlocals {\n  x = \"${var.v}\"\n}\n", vars: []string{"v=1e300000000"}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(c.src), 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, diags := config.Load(dir, config.LoadOptions{Today: today, Vars: c.vars})
			took := time.Since(start)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), want) {
				t.Fatalf("got %.2000s, want an error with %q", diags.Error(), want)
			}
			if c.line > 0 && (diags[0].Subject == nil || diags[0].Subject.Start.Line != c.line) {
				t.Errorf("first diagnostic %s, want it on line %d", diags[0].Error(), c.line)
			}
			// A hang guard, not a speed test: without the limit, writing such a number
			// as text takes minutes.
			if took > 30*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}

	// Numbers as configurations use them still work, up to 1,000 digits.
	text, failed := loadLocals(t, `
  a = "${1e999}"
  b = tostring(2 * 1e500)
  c = format("%.2f", 10.005 * 3)
  d = local.a == tostring(1e999)
  e = 1e-999 * 1
`, map[string]string{})
	if failed {
		t.Fatalf("ordinary numbers: %s", text)
	}
}
