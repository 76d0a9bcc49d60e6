package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config"
)

// manyFiles is a configuration of a header file (variable, locals) and files of invoice
// blocks alone, which the loader parses and lets go of one at a time.
func manyFiles(files, per int) map[string]string {
	m := map[string]string{"main.hcl": `
variable "shop" {
  default = "https://shop.example.com"
}
locals {
  ok = "${var.shop}/ok"
}
`}
	for f := 0; f < files; f++ {
		var b strings.Builder
		for i := 0; i < per; i++ {
			fmt.Fprintf(&b, `invoice "f%d-%d" {
  title              = "Invoice %d"
  currency           = "EUR"
  amount             = "%d.50"
  timer              = false
  end_user_reference = "cust-%d"
  url_success        = local.ok
  url_failed         = "${var.shop}/failed"
  email_user         = "c%d@example.com"
}
`, f, i, i, i+1, i, i)
		}
		m[fmt.Sprintf("inv_%02d.hcl", f)] = b.String()
	}
	return m
}

// TestInvoiceOnlyFiles: files of invoice blocks see the header's variables and locals, keep
// file and block order, and keep their source for diagnostics.
func TestInvoiceOnlyFiles(t *testing.T) {
	dir := writeDir(t, manyFiles(5, 40))
	cfg := mustLoad(t, dir, config.LoadOptions{Parallelism: 3})
	if len(cfg.Invoices) != 200 {
		t.Fatalf("%d invoices, want 200", len(cfg.Invoices))
	}
	for i, inv := range cfg.Invoices {
		if want := fmt.Sprintf("f%d-%d", i/40, i%40); inv.ForeignID != want {
			t.Fatalf("invoice %d is %s, want %s (file and block order)", i, inv.ForeignID, want)
		}
		if inv.Request.URLSuccess != "https://shop.example.com/ok" {
			t.Fatalf("%s: url_success %q", inv.ForeignID, inv.Request.URLSuccess)
		}
	}
	for name, f := range cfg.Files {
		if len(f.Bytes) == 0 {
			t.Errorf("%s: no source kept for diagnostics", name)
		}
	}
}

// TestInvoiceOnlyFileErrors: a syntax error in a file of invoice blocks is reported alone (as
// before the files were streamed), and a variable error stops evaluation of every file.
func TestInvoiceOnlyFileErrors(t *testing.T) {
	files := manyFiles(3, 5)
	files["inv_01.hcl"] += "invoice \"broken\" {\n  title = \n}\n"
	files["inv_02.hcl"] = strings.Replace(files["inv_02.hcl"], `currency           = "EUR"`, `currency           = "XXX"`, 1)
	diags := loadErrors(t, writeDir(t, files), config.LoadOptions{})
	if len(diags) != 1 || !strings.HasSuffix(diags[0].Subject.Filename, "inv_01.hcl") {
		t.Fatalf("want the one syntax error of inv_01.hcl, got %v", diags)
	}

	files = manyFiles(3, 5)
	files["main.hcl"] += "variable \"needed\" {}\n"
	files["inv_02.hcl"] = strings.Replace(files["inv_02.hcl"], `currency           = "EUR"`, `currency           = "XXX"`, 1)
	diags = loadErrors(t, writeDir(t, files), config.LoadOptions{})
	if len(diags) != 1 || !strings.Contains(diags[0].Summary, "No value for required variable") {
		t.Fatalf("want only the missing variable, got %v", diags)
	}

	files = manyFiles(3, 5)
	files["inv_02.hcl"] = strings.Replace(files["inv_02.hcl"], `currency           = "EUR"`, `currency           = "XXX"`, 1)
	files["inv_00.hcl"] += strings.Replace(strings.SplitAfter(files["inv_01.hcl"], "}\n")[0], `"f1-0"`, `"f2-3"`, 1)
	diags = loadErrors(t, writeDir(t, files), config.LoadOptions{})
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary)
	}
	if strings.Join(got, "|") != "Unknown currency|Duplicate foreign_id" {
		t.Fatalf("want a duplicate foreign_id and an unknown currency, got %v", diags)
	}
}
