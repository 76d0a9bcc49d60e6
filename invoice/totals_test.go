package invoice_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/invoice"
)

func TestTotals(t *testing.T) {
	var tt invoice.Totals
	if got := tt.List(nil); len(got) != 0 {
		t.Fatalf("empty totals: %v", got)
	}
	m := invoice.MustParseAmount
	tt.Add("create", "EUR", m("0.1"), "a")
	tt.Add("create", "EUR", m("0.2"), "b")
	tt.Add("create", "EUR", m("0.2"), "c") // a tie keeps the first
	tt.Add("create", "BTC", m("0.00000001"), "d")
	tt.Add("cancel", "EUR", m("5"), "e")
	if !tt.AddBody("create", []byte(`{"currency":"EUR","amount":1000000000000000000000.01}`), "f") {
		t.Fatal("AddBody refused a valid body")
	}
	if tt.AddBody("create", []byte(`{"currency":"EUR"}`), "g") {
		t.Fatal("AddBody counted a body without an amount")
	}
	rank := func(g string) int { return map[string]int{"create": 0, "cancel": 1}[g] }
	got := tt.List(rank)
	type row struct {
		Group, Currency, Sum, Largest, LargestID string
		Count                                    int
	}
	var rows []row
	for _, x := range got {
		rows = append(rows, row{x.Group, x.Currency, x.Sum.String(), x.Largest.String(), x.LargestForeignID, x.Count})
	}
	want := []row{
		{"create", "BTC", "0.00000001", "0.00000001", "d", 1},
		{"create", "EUR", "1000000000000000000000.51", "1000000000000000000000.01", "f", 4}, // exact: no float
		{"cancel", "EUR", "5", "5", "e", 1},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Error(d)
	}
	byName := tt.List(nil)
	if byName[0].Group != "cancel" {
		t.Errorf("List(nil) does not sort groups by name: %v", byName[0].Group)
	}
}
