package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
)

// writeDir writes files into a new temporary directory and returns it.
func writeDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const plainInvoice = `
invoice "order-1" {
  title              = var.title
  currency           = "EUR"
  amount             = var.amount
  timer              = false
  end_user_reference = "cust-1"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "buyer@example.com"
}
`

func mustLoad(t *testing.T, dir string, opts config.LoadOptions) *config.Config {
	t.Helper()
	if opts.Today.IsZero() {
		opts.Today = today
	}
	cfg, diags := config.Load(dir, opts)
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return cfg
}

func loadErrors(t *testing.T, dir string, opts config.LoadOptions) hcl.Diagnostics {
	t.Helper()
	if opts.Today.IsZero() {
		opts.Today = today
	}
	_, diags := config.Load(dir, opts)
	if !diags.HasErrors() {
		t.Fatalf("load succeeded, want errors")
	}
	return diags
}

func TestCanonicalBody(t *testing.T) {
	dir := writeDir(t, map[string]string{"main.hcl": `
invoice "x" {
  sender_data {
    date_of_birth = "1995-08-17"
    last_name     = "Müller"
    first_name    = "Friedrich"
  }
  sender_type        = "natural"
  email_user         = "a&b@example.com"
  url_failed         = "https://shop.example.com/f?a=1&b=<2>"
  url_success        = "https://shop.example.com/ok"
  end_user_reference = 12345
  foreign_id         = "order-\"7\""
  timer              = true
  amount             = "0106.750"
  sender_currency    = "BTC"
  currency           = "EUR"
  description        = "line 1\nline 2\ttab"
  title              = "Invoice Title"
}
`})
	cfg := mustLoad(t, dir, config.LoadOptions{})
	want := `{"timer":true,"title":"Invoice Title","description":"line 1\nline 2\ttab","currency":"EUR","sender_currency":"BTC","amount":106.75,` +
		`"foreign_id":"order-\"7\"","end_user_reference":"12345","url_success":"https://shop.example.com/ok","url_failed":"https://shop.example.com/f?a=1&b=<2>",` +
		`"email_user":"a&b@example.com","sender_type":"natural","sender_data":{"first_name":"Friedrich","last_name":"Müller","date_of_birth":"1995-08-17"}}`
	if diff := cmp.Diff(want, string(cfg.Invoices[0].Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if got, want := cfg.Invoices[0].Hash, invoice.Hash([]byte(want)); got != want {
		t.Errorf("hash %s, want %s", got, want)
	}
}

func TestCanonicalBodyIsStable(t *testing.T) {
	// The same invoice written differently (number or string amount, trailing zeros, attribute
	// order) must give the same bytes: plan compares hashes to detect changes.
	a := writeDir(t, map[string]string{"main.hcl": `
variable "title" { default = "Order 1" }
variable "amount" { default = 10.5 }
` + plainInvoice})
	b := writeDir(t, map[string]string{"main.hcl": `
invoice "order-1" {
  email_user         = "buyer@example.com"
  url_failed         = "https://shop.example.com/failed"
  url_success        = "https://shop.example.com/ok"
  end_user_reference = "cust-1"
  timer              = false
  amount             = "10.50"
  currency           = "EUR"
  title              = "Order 1"
}
`})
	ca, cb := mustLoad(t, a, config.LoadOptions{}), mustLoad(t, b, config.LoadOptions{})
	if string(ca.Invoices[0].Body) != string(cb.Invoices[0].Body) {
		t.Errorf("bodies differ:\n%s\n%s", ca.Invoices[0].Body, cb.Invoices[0].Body)
	}
}

func TestVariablePrecedence(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"main.hcl": `
variable "title" {
  type    = string
  default = "from default"
}
variable "amount" { type = number }
` + plainInvoice,
		"a.vars": "title = \"from file a\"\namount = 11\n",
		"b.vars": "title = \"from file b\"\n",
	})
	env := []string{"INVOICEFORM_VAR_title=from env", "INVOICEFORM_VAR_amount=12.25", "OTHER=x"}
	cases := []struct {
		name       string
		opts       config.LoadOptions
		title, amt string
		source     string
	}{
		{"env only", config.LoadOptions{Environ: env}, "from env", "12.25", "environment variable INVOICEFORM_VAR_title"},
		{"var-file beats env", config.LoadOptions{Environ: env, VarFiles: []string{filepath.Join(dir, "a.vars")}}, "from file a", "11", "-var-file " + filepath.Join(dir, "a.vars")},
		{"later var-file wins", config.LoadOptions{Environ: env, VarFiles: []string{filepath.Join(dir, "a.vars"), filepath.Join(dir, "b.vars")}}, "from file b", "11", "-var-file " + filepath.Join(dir, "b.vars")},
		{"-var beats all", config.LoadOptions{Environ: env, VarFiles: []string{filepath.Join(dir, "a.vars")}, Vars: []string{"title=from -var", "title=last -var", "amount=0.5"}}, "last -var", "0.5", "-var"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := mustLoad(t, dir, c.opts)
			r := cfg.Invoices[0].Request
			if r.Title != c.title || r.Amount.String() != c.amt {
				t.Errorf("title %q amount %s, want %q %s", r.Title, r.Amount, c.title, c.amt)
			}
			if got := cfg.Variables["title"].Source; got != c.source {
				t.Errorf("source %q, want %q", got, c.source)
			}
		})
	}
}

func TestVariableErrors(t *testing.T) {
	dir := writeDir(t, map[string]string{"main.hcl": `
variable "title" { type = string }
variable "amount" { type = number }
` + plainInvoice})
	cases := []struct {
		name string
		opts config.LoadOptions
		want []string
	}{
		{"missing values name each variable", config.LoadOptions{}, []string{`No value for required variable "title"`, `No value for required variable "amount"`}},
		{"undeclared -var", config.LoadOptions{Vars: []string{"title=x", "amount=1", "titel=y"}}, []string{"Value for undeclared variable"}},
		{"malformed -var", config.LoadOptions{Vars: []string{"title=x", "amount=1", "novalue"}}, []string{"Invalid -var option"}},
		{"bad number", config.LoadOptions{Vars: []string{"title=x", "amount=abc"}}, []string{"Invalid value for variable"}},
		{"missing var-file", config.LoadOptions{Vars: []string{"title=x", "amount=1"}, VarFiles: []string{filepath.Join(dir, "nope.vars")}}, []string{"Cannot read a variables file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			diags := loadErrors(t, dir, c.opts)
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("summaries (-want +got):\n%s\n%s", diff, diags.Error())
			}
		})
	}
}

func TestSensitiveVariableValueNotShown(t *testing.T) {
	dir := writeDir(t, map[string]string{"main.hcl": `
variable "token" {
  type      = string
  sensitive = true
}
locals {
  n = parseint(var.token, 10)
}
`})
	_, diags := config.Load(dir, config.LoadOptions{Vars: []string{"token=s3cr3t-VALUE"}, Today: today})
	if !diags.HasErrors() {
		t.Fatal("want an error from parseint")
	}
	var b strings.Builder
	w := hcl.NewDiagnosticTextWriter(&b, nil, 0, false)
	w.WriteDiagnostics(diags)
	if strings.Contains(b.String(), "s3cr3t-VALUE") {
		t.Errorf("diagnostics show the sensitive value:\n%s", b.String())
	}
}

func TestPersonalDataNotShownInDiagnostics(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"main.hcl": `
invoice "batch" {
  for_each           = { for r in csvdecode(file("rows.csv")) : r.id => r }
  foreign_id         = "b-${each.key}"
  title              = "Order"
  currency           = "EUR"
  amount             = "10.00"
  timer              = false
  end_user_reference = "c-${each.key}"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = each.value.mail
}
`,
		"rows.csv": "id,email\n1,private.person@example.org\n",
	})
	diags := loadErrors(t, dir, config.LoadOptions{})
	var b strings.Builder
	w := hcl.NewDiagnosticTextWriter(&b, nil, 0, false)
	w.WriteDiagnostics(diags)
	if strings.Contains(b.String(), "private.person") {
		t.Errorf("diagnostics show personal data:\n%s", b.String())
	}
}

func TestForEachSetAndMap(t *testing.T) {
	dir := writeDir(t, map[string]string{"main.hcl": `
locals {
  customers = toset(["c2", "c1", "c3"])
  prices    = { small = "10.00", large = 99.99 }
}
invoice "sub" {
  for_each           = local.customers
  foreign_id         = "sub-${each.key}"
  title              = "Subscription for ${each.value}"
  currency           = "EUR"
  amount             = 10
  timer              = false
  end_user_reference = each.key
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "billing@example.com"
}
invoice "box" {
  for_each           = local.prices
  foreign_id         = "box-${each.key}"
  title              = "Box ${each.key}"
  currency           = "USD"
  amount             = each.value
  timer              = false
  end_user_reference = "cust-9"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "billing@example.com"
}
`})
	cfg := mustLoad(t, dir, config.LoadOptions{})
	var got []string
	for _, inv := range cfg.Invoices {
		got = append(got, inv.Address+" "+inv.ForeignID+" "+inv.Request.Amount.String())
	}
	want := []string{
		`invoice.sub["c1"] sub-c1 10`, `invoice.sub["c2"] sub-c2 10`, `invoice.sub["c3"] sub-c3 10`,
		`invoice.box["large"] box-large 99.99`, `invoice.box["small"] box-small 10`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("invoices (-want +got):\n%s", diff)
	}
}

func TestRepeatedInstanceErrorsAreCounted(t *testing.T) {
	var rows strings.Builder
	rows.WriteString("id,amount\n")
	for i := 0; i < 40; i++ {
		rows.WriteString("r")
		rows.WriteString(strings.Repeat("x", i))
		rows.WriteString(",-1\n")
	}
	dir := writeDir(t, map[string]string{
		"main.hcl": `
invoice "batch" {
  for_each           = { for r in csvdecode(file("rows.csv")) : r.id => r }
  foreign_id         = "b-${strlen(each.key)}"
  title              = "Order"
  currency           = "EUR"
  amount             = each.value.amount
  timer              = false
  end_user_reference = "c1"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "billing@example.com"
}
`,
		"rows.csv": rows.String(),
	})
	diags := loadErrors(t, dir, config.LoadOptions{})
	if len(diags) != 6 {
		t.Fatalf("got %d diagnostics, want 5 instances and a count:\n%s", len(diags), diags.Error())
	}
	if !strings.Contains(diags[5].Detail, "35 more instances") {
		t.Errorf("last diagnostic %q does not count the other 35", diags[5].Detail)
	}
}

func TestTemplateFile(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"main.hcl": `
variable "title" { default = "x" }
variable "amount" { default = 1 }
locals {
  text = templatefile("tmpl/desc.tpl", { items = ["a", "b"], who = "Ann" })
}
invoice "t" {
  title              = "T"
  description        = local.text
  currency           = "EUR"
  amount             = 1
  timer              = false
  end_user_reference = "c1"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "billing@example.com"
}
`,
		"tmpl/desc.tpl": "For ${upper(who)}:%{ for i in items } ${i}%{ endfor }",
	})
	cfg := mustLoad(t, dir, config.LoadOptions{})
	if got := cfg.Invoices[0].Request.Description; got != "For ANN: a b" {
		t.Errorf("description %q", got)
	}
}

func TestFileFunctionsRefuseSymlinkOutside(t *testing.T) {
	outside := writeDir(t, map[string]string{"secret.txt": "secret"})
	dir := writeDir(t, map[string]string{"main.hcl": `locals { s = file("link.txt") }`})
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Skip("symlinks not supported here:", err)
	}
	diags := loadErrors(t, dir, config.LoadOptions{})
	if !strings.Contains(diags.Error(), "outside the configuration directory") {
		t.Errorf("got %s", diags.Error())
	}
}

func TestFileFunctionsRefusePathsOutside(t *testing.T) {
	// The parent holds a real file, so a refusal cannot be a mere "no such file"; and one that
	// does not exist must be refused the same way, so nothing can probe the disk outside.
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "x.csv"), []byte("id,t\n1,secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "config")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(parent, filepath.Join(dir, "up")); err != nil {
		t.Skip("symlinks not supported here:", err)
	}
	abs := filepath.Join(parent, "x.csv")
	for _, expr := range []string{
		`file("../x.csv")`,
		`file("../nope.txt")`,
		`file("sub/../../x.csv")`,
		`file("up/x.csv")`,
		`file("` + abs + `")`,
		`file("/etc/nope-nope")`,
		`templatefile("../x.csv", {})`,
		`csvdecode(file("../x.csv"))`,
		`jsondecode(file("../x.csv"))`,
		`fileexists("../x.csv")`,
		`fileexists("../nope.txt")`,
	} {
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("locals { s = "+expr+" }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		diags := loadErrors(t, dir, config.LoadOptions{})
		if !strings.Contains(diags.Error(), "is outside the configuration directory") || strings.Contains(diags.Error(), "secret") {
			t.Errorf("%s: got %s", expr, diags.Error())
		}
	}
}

func TestEmptyDirectory(t *testing.T) {
	diags := loadErrors(t, t.TempDir(), config.LoadOptions{})
	if diags[0].Summary != "No configuration files" {
		t.Errorf("got %q", diags[0].Summary)
	}
}

func TestComputedAmountNoise(t *testing.T) {
	// 0.1 + 0.2 in binary floating point is not 0.3; the loader must not round it silently.
	dir := writeDir(t, map[string]string{"main.hcl": `
variable "title" { default = "x" }
variable "amount" { default = 0.1 + 0.2 }
` + plainInvoice})
	cfg, diags := config.Load(dir, config.LoadOptions{Today: today})
	if !diags.HasErrors() {
		if got := cfg.Invoices[0].Request.Amount.String(); got != "0.3" {
			t.Fatalf("amount %s accepted; want exactly 0.3 or an error", got)
		}
		return
	}
	if diags[0].Summary != "Too many decimal places" {
		t.Errorf("got %s", diags.Error())
	}
}

// TestCSVDecodeMatchesStandardLibrary checks the parallel csvdecode against go-cty's own on
// the same inputs, including its errors.
func TestCSVDecodeMatchesStandardLibrary(t *testing.T) {
	var big strings.Builder
	big.WriteString("id,name,note\n")
	for i := 0; i < 3000; i++ {
		big.WriteString(strings.Repeat("x", i%7) + "," + "n\"" + "," + "\"quoted, with comma\"\n")
	}
	inputs := []string{
		"a,b\n1,2\n3,4\n",
		"a,b\n",
		"",
		"a,a\n1,2\n",
		"a,b\n1,2,3\n",
		"a,b\n\"unterminated\n",
		"a\n\"multi\nline\"\n",
		big.String(),
	}
	for _, in := range inputs {
		ours := decodeWith(t, "csvdecode", in)
		theirs := decodeWith(t, "stdcsvdecode", in)
		if ours != theirs {
			t.Errorf("csvdecode(%.40q):\n ours   %.300s\n theirs %.300s", in, ours, theirs)
		}
		// A byte-order mark (Excel's "CSV UTF-8") is skipped: the same result as without.
		if bomd := decodeWith(t, "csvdecode", "\ufeff"+in); bomd != theirs {
			t.Errorf("csvdecode(BOM + %.40q):\n ours   %.300s\n theirs %.300s", in, bomd, theirs)
		}
	}
}

func decodeWith(t *testing.T, fn, in string) string {
	t.Helper()
	f := config.CSVDecode
	if fn == "stdcsvdecode" {
		f = config.StdCSVDecode
	}
	v, err := f.Call([]cty.Value{cty.StringVal(in)})
	if err != nil {
		return "error: " + err.Error()
	}
	return v.GoString()
}

func TestBackendSettings(t *testing.T) {
	for name, tc := range map[string]struct {
		src, env  string
		connStr   string
		workspace string
		wantErr   string
	}{
		"none":    {src: `settings {}`},
		"default": {src: "settings {\n  backend \"pg\" {}\n}", workspace: "default"},
		"full": {src: `settings {
  backend "pg" {
    conn_str  = "postgres://invoiceform@db.example.com/invoices?sslmode=verify-full"
    workspace = "prod-eu"
  }
}`, connStr: "postgres://invoiceform@db.example.com/invoices?sslmode=verify-full", workspace: "prod-eu"},
		"keyword form": {src: "settings {\n  backend \"pg\" { conn_str = \"host=db.example.com dbname=invoices\" }\n}",
			connStr: "host=db.example.com dbname=invoices", workspace: "default"},
		"from a sensitive variable": {src: `
variable "pg" {
  type      = string
  sensitive = true
}
settings {
  backend "pg" { conn_str = var.pg }
}`,
			env: "INVOICEFORM_VAR_pg=postgres://u:pw-from-env@db.example.com/d", connStr: "postgres://u:pw-from-env@db.example.com/d", workspace: "default"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, diags := config.Load(dir, config.LoadOptions{SettingsOnly: true, Environ: []string{tc.env}})
			if len(diags) > 0 {
				t.Fatalf("diagnostics: %v", diags)
			}
			be := cfg.Settings.Backend
			if tc.workspace == "" {
				if be != nil {
					t.Fatalf("backend %+v, want none", be)
				}
				return
			}
			if be == nil || be.Type != "pg" || be.ConnStr != tc.connStr || be.Workspace != tc.workspace {
				t.Fatalf("backend %+v, want pg %q %q", be, tc.connStr, tc.workspace)
			}
		})
	}
}

// TestSettingsOnly: the state commands load the settings alone: invoices are not evaluated,
// a directory without files is fine, and a variable without a value matters only where the
// settings use it, with a hint naming its environment variable.
func TestSettingsOnly(t *testing.T) {
	cfg, diags := config.Load(t.TempDir(), config.LoadOptions{SettingsOnly: true})
	if len(diags) > 0 || cfg.Settings.Backend != nil {
		t.Fatalf("empty directory: %v %+v", diags, cfg.Settings)
	}
	dir := t.TempDir()
	src := `
variable "url" { type = string }
variable "ws" { type = string }
settings {
  backend "pg" { workspace = var.ws }
}
invoice "x" { title = var.url }
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, diags = config.Load(dir, config.LoadOptions{SettingsOnly: true})
	if len(diags) != 1 || diags[0].Summary != "No value for a setting" || !strings.Contains(diags[0].Detail, "INVOICEFORM_VAR_ws") {
		t.Fatalf("got %v, want one error naming INVOICEFORM_VAR_ws", diags)
	}
	cfg, diags = config.Load(dir, config.LoadOptions{SettingsOnly: true, Environ: []string{"INVOICEFORM_VAR_ws=prod"}})
	if len(diags) > 0 || cfg.Settings.Backend.Workspace != "prod" || len(cfg.Invoices) != 0 {
		t.Fatalf("got %v %+v", diags, cfg.Settings.Backend)
	}
	// A file of invoices only is not even parsed: its mistakes are plan's business.
	if err := os.WriteFile(filepath.Join(dir, "broken.hcl"), []byte("invoice \"y\" {\n  title = \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags = config.Load(dir, config.LoadOptions{SettingsOnly: true, Environ: []string{"INVOICEFORM_VAR_ws=prod"}})
	if len(diags) > 0 || cfg.Settings.Backend.Workspace != "prod" {
		t.Fatalf("with a broken invoices file: %v", diags)
	}
	if _, diags = config.Load(dir, config.LoadOptions{Environ: []string{"INVOICEFORM_VAR_ws=prod", "INVOICEFORM_VAR_url=x"}}); !diags.HasErrors() {
		t.Fatal("a full load accepted the broken file")
	}
}
