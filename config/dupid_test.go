package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/config"
)

// TestDuplicateIDsWhateverTheHash: foreign_ids are looked up by a hash of their lower case,
// and two different ids that share a hash must still be told apart. The same configuration
// (exact and letter-case duplicates, ASCII, non-ASCII and ids past the hash's stack buffer)
// gives the same invoices and the same diagnostics with the real hash, with every id
// colliding, and with ids colliding by length.
func TestDuplicateIDsWhateverTheHash(t *testing.T) {
	long := strings.Repeat("L", 150)
	ids := []string{
		"order-1", "order-2", "Order-1", "order-2", "ORDER-3", "order-3x",
		"Ärger-1", "ärger-1", "straße", "STRASSE", // ToLower does not fold ß into ss: two ids
		long, strings.ToLower(long), long + "x",
		"a", "b", "A",
		"ſ-1", "s-1", // EqualFold would fold them; ToLower, the key, does not
	}
	var rows []string
	for i, id := range ids {
		rows = append(rows, fmt.Sprintf("    k%02d = %q", i, id))
	}
	dir := t.TempDir()
	src := `locals {
  ids = {
` + strings.Join(rows, "\n") + `
  }
}

invoice "dup" {
  for_each           = local.ids
  foreign_id         = each.value
  title              = "T"
  currency           = "EUR"
  amount             = "1"
  timer              = false
  end_user_reference = "c"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "buyer@example.com"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func() (invoices, diags []string) {
		cfg, ds := config.Load(dir, config.LoadOptions{Today: today})
		for _, inv := range cfg.Invoices {
			invoices = append(invoices, inv.ForeignID)
		}
		for _, d := range ds {
			diags = append(diags, d.Summary+": "+d.Detail)
		}
		return invoices, diags
	}
	wantInvoices, wantDiags := load()
	// What the real hash gives is checked against the ids themselves, once.
	if want := []string{"order-1", "order-2", "ORDER-3", "order-3x", "Ärger-1", "straße", "STRASSE", long, long + "x", "a", "b", "ſ-1", "s-1"}; !slices.Equal(wantInvoices, want) {
		t.Fatalf("invoices %q, want %q", wantInvoices, want)
	}
	if len(wantDiags) != 5 {
		t.Fatalf("%d diagnostics, want 5 (Order-1, order-2, ärger-1, the long id, A):\n%s", len(wantDiags), strings.Join(wantDiags, "\n"))
	}
	for name, h := range map[string]func(string) uint64{
		"every id collides":   func(string) uint64 { return 42 },
		"collide by length":   func(id string) uint64 { return uint64(len(id)) },
		"collide by 1st byte": func(id string) uint64 { return uint64(id[0] | 0x20) },
	} {
		t.Run(name, func(t *testing.T) {
			defer config.SetIDHash(h)()
			invoices, diags := load()
			if d := cmp.Diff(wantInvoices, invoices); d != "" {
				t.Errorf("invoices differ (-real hash +%s):\n%s", name, d)
			}
			if d := cmp.Diff(wantDiags, diags); d != "" {
				t.Errorf("diagnostics differ (-real hash +%s):\n%s", name, d)
			}
		})
	}
}
