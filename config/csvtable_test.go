package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/invoiceform/invoiceform/config"
)

// tableInvoice is an invoice block over local.rows that reads every column of tableCSV.
const tableInvoice = `
invoice "batch" {
  for_each = local.rows

  foreign_id         = "batch-${each.key}"
  title              = "Subscription ${each.value.title}"
  currency           = each.value.currency
  amount             = each.value.amount
  timer              = false
  end_user_reference = each.value.customer
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = each.value.email
}
`

const tableLocal = `
locals {
  rows = { for r in csvdecode(file("rows.csv")) : r.id => r }
}
`

// tableCSV has rows out of key order, keys that sort differently bytewise and by case, a
// value that is not NFC (HCL normalizes it) and a quoted field with a comma.
const tableCSV = "id,title,currency,amount,customer,email\n" +
	"b-2,Two,EUR,12.50,cust-2,two@example.com\n" +
	"a-1,\"One, first\",EUR,10,cust-1,one@example.com\n" +
	"B-3,Cafe\u0301,USD,3.00,cust-3,three@example.com\n" +
	"\u00e9-4,Four,BTC,0.00100000,cust-4,four@example.com\n" +
	"10,Ten,EUR,1,cust-10,ten@example.com\n"

// TestCSVTableMatchesHCL loads configurations with the CSV tables on and off, and requires the
// same invoices and the same diagnostics, and the same charges to the evaluation limits; the
// plain forms must take the table, the rest must be left to HCL.
func TestCSVTableMatchesHCL(t *testing.T) {
	var big strings.Builder
	big.WriteString("id,title,currency,amount,customer,email\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&big, "%05d,T %d,EUR,%d.%02d,cust-%d,c%d@example.com\n", 3000-i, i, i+1, i%100, i, i)
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		table bool // whether local.rows must be kept as a table
	}{
		{"plain", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": tableCSV}, true},
		{"3000 rows", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": big.String()}, true},
		{"byte-order mark", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": "\ufeff" + tableCSV}, true},
		{"key variable", map[string]string{"main.hcl": strings.Replace(tableLocal, "for r in", "for i, r in", 1) + tableInvoice, "rows.csv": tableCSV}, true},
		{"key from another column", map[string]string{"main.hcl": strings.Replace(tableLocal, "r.id", "r.customer", 1) + tableInvoice, "rows.csv": tableCSV}, true},
		{"invoices in another file", map[string]string{"main.hcl": tableLocal, "inv.hcl": tableInvoice, "rows.csv": tableCSV}, false},
		{"two blocks", map[string]string{"main.hcl": tableLocal + tableInvoice + strings.Replace(strings.Replace(tableInvoice, `"batch"`, `"again"`, 1), "batch-", "again-", 1), "rows.csv": tableCSV}, true},
		{"whole row and index steps", map[string]string{"main.hcl": tableLocal + strings.NewReplacer(
			`"Subscription ${each.value.title}"`, `jsonencode(each.value)`,
			`each.value.currency`, `each.value["currency"]`,
			`each.value.customer`, `lower(each.value.customer)`).Replace(tableInvoice), "rows.csv": tableCSV}, true},
		{"missing column in an attribute", map[string]string{"main.hcl": tableLocal + strings.Replace(tableInvoice, "each.value.customer", "each.value.client", 1), "rows.csv": tableCSV}, true},
		{"invalid values", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": strings.NewReplacer("12.50", "12.5.0", "USD", "XYZ", "three@", "three").Replace(tableCSV)}, true},
		{"duplicate key", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": tableCSV + "a-1,Again,EUR,1,cust-9,nine@example.com\n"}, false},
		{"keys equal once normalized (file() normalizes its text)", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": tableCSV + "e\u0301-4,Again,EUR,1,cust-9,nine@example.com\n"}, false},
		{"missing key column", map[string]string{"main.hcl": strings.Replace(tableLocal, "r.id", "r.nope", 1) + tableInvoice, "rows.csv": tableCSV}, false},
		{"header only", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": "id,title,currency,amount,customer,email\n"}, false},
		{"empty file", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": ""}, false},
		{"parse error", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": tableCSV + "x,\"unclosed,EUR,1,c,e@example.com\n"}, false},
		{"wrong number of fields", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": tableCSV + "x,y\n"}, false},
		{"duplicate column", map[string]string{"main.hcl": tableLocal + tableInvoice, "rows.csv": strings.Replace(tableCSV, "customer", "title", 1)}, false},
		{"condition", map[string]string{"main.hcl": strings.Replace(tableLocal, "=> r }", `=> r if r.currency == "EUR" }`, 1) + tableInvoice, "rows.csv": tableCSV}, false},
		{"value not the row", map[string]string{"main.hcl": strings.Replace(tableLocal, "=> r }", `=> merge(r, { title = "x" }) }`, 1) + tableInvoice, "rows.csv": tableCSV}, false},
		{"local used elsewhere", map[string]string{"main.hcl": tableLocal + strings.Replace(tableInvoice, `"Subscription ${each.value.title}"`, `"${each.value.title} of ${length(local.rows)}"`, 1), "rows.csv": tableCSV}, false},
		{"local used by another local", map[string]string{"main.hcl": tableLocal + "locals {\n  n = length(local.rows)\n}\n" + tableInvoice, "rows.csv": tableCSV}, false},
		{"locals as a whole", map[string]string{"main.hcl": tableLocal + "locals {\n  all = local\n}\n" + tableInvoice, "rows.csv": tableCSV}, false},
		{"text decoded again", map[string]string{"main.hcl": tableLocal + "locals {\n  n = length(csvdecode(file(\"rows.csv\")))\n}\n" + strings.Replace(tableInvoice, `"Subscription ${each.value.title}"`, `"${each.value.title} of ${local.n}"`, 1), "rows.csv": big.String()}, true},
		{"text decoded again after", map[string]string{"main.hcl": tableLocal + "locals {\n  z = length(csvdecode(file(\"rows.csv\")))\n}\n" + strings.Replace(tableInvoice, `"Subscription ${each.value.title}"`, `"${each.value.title} of ${local.z}"`, 1), "rows.csv": big.String()}, true},
		{"text from a sensitive variable", map[string]string{"main.hcl": "variable \"csv\" {\n  type = string\n  sensitive = true\n  default = \"id,title,currency,amount,customer,email\\na,T,EUR,1,c,e@example.com\\n\"\n}\nlocals {\n  rows = { for r in csvdecode(var.csv) : r.id => r }\n}\n" + tableInvoice}, true},
		{"for_each not the local alone", map[string]string{"main.hcl": tableLocal + strings.Replace(tableInvoice, "local.rows", `{ for k, v in local.rows : k => v if v.currency != "BTC" }`, 1), "rows.csv": tableCSV}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeDir(t, c.files)
			opts := config.LoadOptions{Today: today}
			want, wantDiags, wantTables, wantCharged := config.LoadTables(dir, opts, false)
			got, gotDiags, gotTables, gotCharged := config.LoadTables(dir, opts, true)
			if len(wantTables) != 0 {
				t.Fatalf("tables off, yet kept %v", wantTables)
			}
			if taken := len(gotTables) > 0; taken != c.table {
				t.Errorf("kept as a table: %v, want %v", gotTables, c.table)
			}
			if diff := cmp.Diff(wantDiags.Error(), gotDiags.Error()); diff != "" {
				t.Errorf("diagnostics differ (-HCL +table):\n%s", diff)
			}
			if diff := cmp.Diff(invoiceFacts(want.Invoices), invoiceFacts(got.Invoices)); diff != "" {
				t.Errorf("invoices differ (-HCL +table):\n%s", diff)
			}
			if wantCharged != gotCharged {
				t.Errorf("charged %v to the limits, HCL %v", gotCharged, wantCharged)
			}
			if c.table && len(got.Invoices) == 0 {
				t.Errorf("no invoices: the case tests nothing")
			}
		})
	}
}

// invoiceFacts is what a loaded invoice tells its users, as text.
func invoiceFacts(invs []*config.Invoice) []string {
	var out []string
	for _, inv := range invs {
		s := fmt.Sprintf("%s id=%q cancel=%v body=%s hash=%s decl=%s", inv.Address, inv.ForeignID, inv.Cancel, inv.Body, inv.Hash, inv.DeclRange)
		for _, f := range config.AttrFields() {
			s += fmt.Sprintf(" %s@%s", f, inv.AttrRange(f))
		}
		out = append(out, s)
	}
	return out
}

// TestCSVTableMatchesCSVDecode decodes texts as tables, read in one part and in parts of a
// few lines, and requires csvdecode's rows wherever csvdecode gives rows, and no table
// wherever it fails or gives none.
func TestCSVTableMatchesCSVDecode(t *testing.T) {
	for _, text := range []string{
		tableCSV,
		"\ufeff" + tableCSV,
		"a,b\n1,2\n3,4",                          // no final line break
		"a,b\r\n1,2\r\n3,4\r\n",                  // CRLF
		"\n\na,b\n\n1,2\n\n\n3,4\n\n",            // empty lines
		"a,b\n1,2\r3,4\n",                        // a bare CR inside a field
		"a,b\n\"x\ny\",2\n3,\"4\"\"\"\n",         // quoted fields, a line break and a quote in them
		"a,b\n1,2\n3\n",                          // too few fields
		"a,b\n1,2\n3,4,5\n",                      // too many
		"a,b\n1,2\n3,\"4\n",                      // an unclosed quote
		"a,b\n1,x\"y\n",                          // a bare quote
		"a,a\n1,2\n",                             // a duplicate column
		"a,b\n",                                  // no rows
		"",                                       // no header
		"a, b ,c\n 1 , 2 ,3\n",                   // spaces are kept
		"a\n\n",                                  // one column, no rows
		"a\n1\n2\n\n3\n",                         // one column
		"caf\u00e9,cafe\u0301\n\u00e9,e\u0301\n", // NFC and not
		strings.Repeat("x,y\n", 1) + strings.Repeat("1,2\n3,4\n", 200),
		strings.Repeat("x,y\n", 1) + strings.Repeat("1,2\n3,4\n", 200) + "5\n",
	} {
		want, err := config.StdCSVDecode.Call([]cty.Value{cty.StringVal(strings.TrimPrefix(text, "\ufeff"))})
		wantOK := err == nil && want.LengthInt() > 0
		for _, partMin := range []int{1 << 20, 1, 7} {
			rows, ok := config.DecodeCSVTable(cty.StringVal(text).AsString(), partMin)
			if ok != wantOK {
				t.Errorf("%q (parts of %d): table %v, csvdecode %v (%v)", text, partMin, ok, want.GoString(), err)
				continue
			}
			if ok && !cty.ListVal(rows).RawEquals(want) {
				t.Errorf("%q (parts of %d): rows %#v, csvdecode %#v", text, partMin, cty.ListVal(rows), want)
			}
		}
	}
}
