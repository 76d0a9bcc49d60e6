package config_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/diagview"
)

// FuzzLoad loads arbitrary bytes as a configuration file: loading must never panic, every
// diagnostic has a summary and renders (text lines bounded, JSON), and a configuration that
// loads without errors must give every invoice a body and hash.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"../examples/quickstart", "testdata/invalid/sender_data_missing", "testdata/invalid/locals_cycle", "testdata/invalid/for_each_list"} {
		src, err := os.ReadFile(filepath.Join(dir, "main.hcl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("invoice \"a\" {\n for_each = {a=1}\n foreign_id = each.key\n}\n"))
	f.Add([]byte("variable \"v\" {\n default = 1\n}\nlocals {\n x = var.v + 1\n}\n"))
	f.Add([]byte("locals {\n p = " + strings.Repeat("(", 3000) + "1" + strings.Repeat(")", 3000) + "\n}\n"))
	f.Add([]byte("locals {\n x = \"caf\xe9\"\n y = file(\"../x\")\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := config.Load(dir, config.LoadOptions{Today: today, Parallelism: 2})
		for _, d := range diags {
			if d.Summary == "" {
				t.Errorf("diagnostic without a summary: %#v", d)
			}
		}
		// Every refusal renders, as the commands print it, within bounds.
		var text bytes.Buffer
		if err := diagview.Text(&text, cfg.Files, diags, 0, false); err != nil {
			t.Fatalf("rendering the diagnostics: %v", err)
		}
		for _, line := range strings.Split(text.String(), "\n") {
			if len(line) > diagview.MaxTextLine+100 {
				t.Fatalf("a diagnostic line of %d bytes", len(line))
			}
		}
		if err := diagview.JSON(io.Discard, cfg.Files, diags); err != nil {
			t.Fatalf("rendering the diagnostics as JSON: %v", err)
		}
		if diags.HasErrors() {
			return
		}
		for _, inv := range cfg.Invoices {
			if len(inv.Body) == 0 || len(inv.Hash) != 64 {
				t.Errorf("%s: valid invoice without body or hash", inv.Address)
			}
		}
	})
}
