package invoice

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"
)

// TestSetDigitsIsSetStringReduced: the fast path of ParseAmount gives exactly the decimal
// SetString and Reduce give (coefficient, exponent, sign, form, text), for zeros, leading and
// trailing zeros, and every length up to its 18 digits, the boundary included.
func TestSetDigitsIsSetStringReduced(t *testing.T) {
	var cases [][2]string
	add := func(i, f string) { cases = append(cases, [2]string{i, f}) }
	for _, i := range []string{"0", "00", "1", "10", "100", "007", "123456789", "999999999999999999", "100000000000000000"} {
		for _, f := range []string{"", "0", "00", "5", "50", "05", "123", "1000", "00000001", "999999999"} {
			if len(i)+len(f) <= 18 {
				add(i, f)
			}
		}
	}
	r := rand.New(rand.NewPCG(17, 18))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	for range 20000 {
		ni := 1 + r.IntN(18)
		add(digits(ni), digits(r.IntN(19-ni)))
	}
	for _, c := range cases {
		text := c[0]
		if c[1] != "" {
			text += "." + c[1]
		}
		var want, got apd.Decimal
		if _, _, err := want.SetString(text); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		want.Reduce(&want)
		setDigits(&got, c[0], c[1])
		if got.Form != want.Form || got.Negative != want.Negative || got.Exponent != want.Exponent || got.Coeff.Cmp(&want.Coeff) != 0 || got.Text('f') != want.Text('f') {
			t.Fatalf("%s: setDigits gives %s (%s E%d), SetString and Reduce %s (%s E%d)", text, got.Text('f'), got.Coeff.String(), got.Exponent, want.Text('f'), want.Coeff.String(), want.Exponent)
		}
	}
	// ParseAmount takes the fast path for these and the slow one past 18 digits: the same.
	for _, s := range []string{"-0.00", "-1.50", "123456789012345678", "1234567890123456789", "0.000000000000000001", "0.0000000000000000010"} {
		a, err := ParseAmount(s)
		var want apd.Decimal
		_, _, err2 := want.SetString(s)
		want.Reduce(&want)
		if want.IsZero() {
			want.Negative = false
		}
		if err != nil || err2 != nil || a.d.Text('f') != want.Text('f') || a.d.Exponent != want.Exponent || a.d.Negative != want.Negative {
			t.Errorf("ParseAmount(%q) = %s E%d neg %t (%v), want %s E%d neg %t", s, a.d.Text('f'), a.d.Exponent, a.d.Negative, err, want.Text('f'), want.Exponent, want.Negative)
		}
	}
}
