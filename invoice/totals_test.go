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

// TestTotalsMerge: adding amounts in two Totals and merging them gives what adding them all,
// in order, to one gives: sums, counts, and the first of equal largest amounts.
func TestTotalsMerge(t *testing.T) {
	m := invoice.MustParseAmount
	type add struct{ group, cur, amount, id string }
	adds := []add{
		{"open", "EUR", "1.5", "a"}, {"open", "EUR", "7", "b"}, {"paid", "BTC", "0.1", "c"},
		{"open", "EUR", "7", "d"}, {"open", "EUR", "7.00", "e"}, {"paid", "BTC", "0.2", "f"}, {"open", "USD", "3", "g"}, {"paid", "BTC", "0.2", "h"},
	}
	list := func(tt *invoice.Totals) []invoice.Total { return tt.List(nil) }
	for split := 0; split <= len(adds); split++ {
		var one, first, second invoice.Totals
		for i, a := range adds {
			one.Add(a.group, a.cur, m(a.amount), a.id)
			if i < split {
				first.Add(a.group, a.cur, m(a.amount), a.id)
			} else {
				second.Add(a.group, a.cur, m(a.amount), a.id)
			}
		}
		first.Merge(&second)
		if d := cmp.Diff(list(&one), list(&first), cmp.Comparer(func(a, b invoice.Amount) bool { return a.Cmp(b) == 0 && a.String() == b.String() })); d != "" {
			t.Errorf("split at %d: merged totals differ (-one +merged):\n%s", split, d)
		}
		// second is unchanged by the merge: its totals are not shared.
		before := list(&second)
		first.Add("open", "EUR", m("100"), "z")
		if d := cmp.Diff(before, list(&second), cmp.Comparer(func(a, b invoice.Amount) bool { return a.String() == b.String() })); d != "" {
			t.Errorf("split at %d: adding after a merge changed the merged-in totals:\n%s", split, d)
		}
	}
}
