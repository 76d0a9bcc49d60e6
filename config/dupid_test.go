package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/config"
)

// TestDuplicateIDsWhateverTheHash: foreign_ids are compared in lower case, looked up by a
// hash of it once they stop coming in increasing order, and two different ids that share a
// hash must still be told apart. For ids in order, in order and then not (from the first id,
// the middle, the last), and in no order (exact and letter-case duplicates; ASCII, non-ASCII
// and ids past the hash's stack buffer), the invoices and duplicate diagnostics are those of a
// plain map of strings.ToLower, with the real hash, with every id colliding, and with ids
// colliding by length and by first byte.
func TestDuplicateIDsWhateverTheHash(t *testing.T) {
	long := strings.Repeat("L", 150)
	lists := map[string][]string{
		"no order": {
			"order-1", "order-2", "Order-1", "order-2", "ORDER-3", "order-3x",
			"Ärger-1", "ärger-1", "straße", "STRASSE", // ToLower does not fold ß into ss: two ids
			long, strings.ToLower(long), long + "x",
			"a", "b", "A",
			"ſ-1", "s-1", // EqualFold would fold them; ToLower, the key, does not
		},
		"in order":                  {"a-1", "A-2", "a-3", "b", "B-1", "c", "ca", "cb", "d-ä", "d-ö", "e" + long, "f"},
		"in order, then a case dup": {"a-1", "A-2", "a-3", "b", "B-1", "c", "A-3"},
		"in order, then an exact":   {"a-1", "a-2", "a-3", "a-1"},
		"equal neighbours":          {"x-1", "X-1", "x-2"},
		"non-ASCII neighbours":      {"ä-1", "Ä-1", "ä-2", "ö"},
		"out of order at once":      {"b", "a", "B", "A", "c"},
		"prefixes":                  {"a", "a-", "a-1", "A", "a-"},
	}
	for name, ids := range lists {
		t.Run(name, func(t *testing.T) {
			// The reference: a map of strings.ToLower.
			var wantInvoices []string
			wantDups := 0
			first := map[string]bool{}
			for _, id := range ids {
				if first[strings.ToLower(id)] {
					wantDups++
					continue
				}
				first[strings.ToLower(id)] = true
				wantInvoices = append(wantInvoices, id)
			}
			dir := dupConfig(t, ids)
			for hname, h := range map[string]func(string) uint64{
				"real hash":           nil,
				"every id collides":   func(string) uint64 { return 42 },
				"collide by length":   func(id string) uint64 { return uint64(len(id)) },
				"collide by 1st byte": func(id string) uint64 { return uint64(id[0] | 0x20) },
			} {
				restore := func() {}
				if h != nil {
					restore = config.SetIDHash(h)
				}
				cfg, diags := config.Load(dir, config.LoadOptions{Today: today})
				restore()
				var invoices []string
				for _, inv := range cfg.Invoices {
					invoices = append(invoices, inv.ForeignID)
				}
				dups := 0
				for _, d := range diags {
					if d.Summary == "Duplicate foreign_id" || d.Summary == "foreign_ids differ only in letter case" {
						dups++
					} else {
						t.Errorf("%s: unexpected diagnostic %s: %s", hname, d.Summary, d.Detail)
					}
				}
				if d := cmp.Diff(wantInvoices, invoices); d != "" || dups != wantDups {
					t.Errorf("%s: %d duplicates (want %d), invoices (-want +got):\n%s", hname, dups, wantDups, d)
				}
			}
		})
	}
}

// dupConfig writes a configuration declaring one invoice per id, in that order.
func dupConfig(t *testing.T, ids []string) string {
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
	return dir
}
