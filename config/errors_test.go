package config_test

import (
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config"
)

// TestErrorsAtOnce: one run reports every independent problem of a block, each once, and a
// block missing many attributes gets one error that lists them.
func TestErrorsAtOnce(t *testing.T) {
	for dir, want := range map[string][]string{
		"testdata/invalid/many_errors_one_block": {
			"Unsupported argument", "Unknown currency", "Too many decimal places", "Incorrect attribute value type",
			"Invalid url_success", "Invalid date_of_birth", "Incorrect attribute value type",
		},
		"testdata/invalid/missing_many_attributes": {"Missing required attributes", "Missing sender_data attributes"},
		"testdata/invalid/for_each_errors_at_once": {
			"Too many decimal places", "Incorrect attribute value type", "Incorrect attribute value type", "Too many function arguments",
		},
	} {
		_, diags := config.Load(dir, config.LoadOptions{Today: today})
		var got []string
		for _, d := range diags {
			got = append(got, d.Summary)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: got\n  %s\nwant\n  %s", dir, strings.Join(got, "|"), strings.Join(want, "|"))
		}
	}
	_, diags := config.Load("testdata/invalid/missing_many_attributes", config.LoadOptions{Today: today})
	if len(diags) == 2 {
		for _, want := range []string{
			"The API requires currency, amount, timer, end_user_reference, url_success, url_failed and email_user; add to the invoice block:\n  currency = ...\n",
			"timer = ... (true: the invoice expires",
		} {
			if !strings.Contains(diags[0].Detail, want) {
				t.Errorf("detail %q\nlacks %q", diags[0].Detail, want)
			}
		}
		if want := "A legal sender needs legal_name and country_of_registration in sender_data."; diags[1].Detail != want {
			t.Errorf("detail %q, want %q", diags[1].Detail, want)
		}
	}
}

// TestPersonalDataInIDs: a natural person's name, e-mail address and date of birth are
// personal data in foreign_id and end_user_reference; a company's legal name is not.
func TestPersonalDataInIDs(t *testing.T) {
	natural := `sender_type = "natural"
  sender_data {
    first_name = "Friedrich"
    last_name = "Muller"
    date_of_birth = "1995-08-17"
    email = "fm@example.net"
  }`
	legal := `sender_type = "legal"
  sender_data {
    legal_name = "Acme Widgets GmbH"
    country_of_registration = "DEU"
    email = "billing@acme.example"
  }`
	for _, tt := range []struct {
		name, id, ref, sender, want string
	}{
		{"legal name in foreign_id", "acme-2025-03", "cust-1", legal, ""},
		{"legal name word in end_user_reference", "order-1", "widgets-gmbh-7", legal, ""},
		{"legal name whole", "acme-widgets-gmbh", "acme-widgets-gmbh", legal, ""},
		{"company e-mail", "order-1", "billing@acme.example", legal, "contains an e-mail address"},
		{"first name", "friedrich-1", "cust-1", natural, "foreign_id contains the sender's name"},
		{"last name", "order-1", "MULLER-7", natural, "end_user_reference contains the sender's name"},
		{"date of birth", "order-1995-08-17", "cust-1", natural, "foreign_id contains the sender's date of birth"},
		{"date of birth compact", "order-1", "c19950817", natural, "end_user_reference contains the sender's date of birth"},
		{"natural opaque", "order-1", "cust-1", natural, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{"main.hcl": `invoice "x" {
  foreign_id = "` + tt.id + `"
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  end_user_reference = "` + tt.ref + `"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
  ` + tt.sender + `
}
`})
			_, diags := config.Load(dir, config.LoadOptions{Today: today})
			switch {
			case tt.want == "" && len(diags) > 0:
				t.Errorf("got %s, want no diagnostic", diags.Error())
			case tt.want != "" && (len(diags) != 1 || !strings.Contains(diags[0].Detail, tt.want)):
				t.Errorf("got %v, want one diagnostic containing %q", diags, tt.want)
			}
		})
	}
}

// TestCSVMessages: a byte-order mark is skipped; parse errors name the file and line; a
// duplicate key names the rows and their lines, without HCL's grouping hint.
func TestCSVMessages(t *testing.T) {
	cfg := mustLoad(t, "testdata/csv_bom", config.LoadOptions{Today: today})
	var ids []string
	for _, inv := range cfg.Invoices {
		ids = append(ids, inv.ForeignID+"="+inv.Request.Amount.String())
	}
	if got, want := strings.Join(ids, " "), "batch-A-1=10 batch-A-2=12.5"; got != want {
		t.Errorf("BOM CSV: got %s, want %s", got, want)
	}

	for dir, want := range map[string]string{
		"testdata/invalid/for_each_csv_parse_error":   `Call to function "csvdecode" failed: CSV parse error in rows.csv on line 3: wrong number of fields.`,
		"testdata/invalid/for_each_csv_duplicate_key": `Rows 1 and 3 of rows.csv (lines 2 and 4) both have the key "1" (r.id), and each key must be unique`,
	} {
		diags := loadErrors(t, dir, config.LoadOptions{Today: today})
		if len(diags) != 1 || !strings.Contains(diags[0].Detail, want) || strings.Contains(diags[0].Detail, "...") {
			t.Errorf("%s: got %v, want one error containing %q", dir, diags, want)
		}
	}

	// More than two rows, other duplicates, and a collection that is not a CSV file.
	dir := writeDir(t, map[string]string{
		"main.hcl": `locals {
  a = { for r in csvdecode(file("r.csv")) : r.id => r }
  b = { for i, v in ["x", "y", "x"] : v => i }
}
`,
		"r.csv": "id\nk\nk\nj\nk\nj\n",
	})
	var got []string
	for _, d := range loadErrors(t, dir, config.LoadOptions{Today: today}) {
		got = append(got, d.Detail)
	}
	for _, want := range []string{
		`Rows 1, 2 and 4 of r.csv (lines 2, 3 and 5) all have the key "k" (r.id)`,
		`Rows 3 and 5 of r.csv (lines 4 and 6) both have the key "j"`,
		`Elements 1 and 3 of the collection (counting from 1) both have the key "x" (v)`,
	} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("got\n%s\nwant a detail containing %q", strings.Join(got, "\n"), want)
		}
	}
}

// TestAttrRange: an invoice tells where each attribute is set, for messages about it (a
// conflict points at the changed attribute); unset ones are the block header.
func TestAttrRange(t *testing.T) {
	cfg := mustLoad(t, "testdata/csv_bom", config.LoadOptions{Today: today})
	inv := cfg.Invoices[1]
	for field, line := range map[string]int{"amount": 6, "foreign_id": 8, "title": 4, "description": 2, "sender_data": 2} {
		if r := inv.AttrRange(field); r.Start.Line != line {
			t.Errorf("AttrRange(%q) is line %d, want %d", field, r.Start.Line, line)
		}
	}
}
