package invoice

import (
	"cmp"
	"slices"
)

// Total is the exact sum of the amounts of one group (a plan action, a state phase, or ""
// for a single group) in one currency, with the largest amount and whose it is.
type Total struct {
	Group    string
	Currency string
	Count    int
	Sum      Amount
	Largest  Amount
	// LargestForeignID is the foreign_id of the first invoice with the Largest amount.
	LargestForeignID string
}

// Totals sums amounts per group and currency, exactly. The zero value is ready to use.
type Totals struct {
	m map[[2]string]*Total
}

// Add counts one invoice of foreignID for amount in currency under group.
func (t *Totals) Add(group, currency string, amount Amount, foreignID string) {
	if t.m == nil {
		t.m = map[[2]string]*Total{}
	}
	k := [2]string{group, currency}
	s := t.m[k]
	if s == nil {
		s = &Total{Group: group, Currency: currency}
		t.m[k] = s
	}
	s.Count++
	s.Sum = s.Sum.Add(amount)
	if s.Count == 1 || amount.Cmp(s.Largest) > 0 {
		s.Largest, s.LargestForeignID = amount, foreignID
	}
}

// Merge adds o's totals to t's, as if o's amounts had been added after t's: the largest
// amount of a total stays t's unless o's is larger.
func (t *Totals) Merge(o *Totals) {
	for k, b := range o.m {
		if t.m == nil {
			t.m = map[[2]string]*Total{}
		}
		a := t.m[k]
		if a == nil {
			c := *b
			t.m[k] = &c
			continue
		}
		a.Count += b.Count
		a.Sum = a.Sum.Add(b.Sum)
		if b.Largest.Cmp(a.Largest) > 0 {
			a.Largest, a.LargestForeignID = b.Largest, b.LargestForeignID
		}
	}
}

// AddBody counts a request body under group, reading its currency and amount with Money; a
// body without them counts nowhere and AddBody reports false.
func (t *Totals) AddBody(group string, body []byte, foreignID string) bool {
	cur, amt, ok := Money(body)
	if ok {
		t.Add(group, cur, amt, foreignID)
	}
	return ok
}

// List returns the totals sorted by group rank, then currency code. rank orders the groups
// (a plan lists creates before cancels); nil sorts groups by name.
func (t *Totals) List(rank func(group string) int) []Total {
	out := make([]Total, 0, len(t.m))
	for _, s := range t.m {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Total) int {
		if a.Group != b.Group {
			if rank != nil {
				return cmp.Compare(rank(a.Group), rank(b.Group))
			}
			return cmp.Compare(a.Group, b.Group)
		}
		return cmp.Compare(a.Currency, b.Currency)
	})
	return out
}
