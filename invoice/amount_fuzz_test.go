package invoice_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/invoice"
)

// FuzzParseAmount checks ParseAmount against an independent reading of the same text with
// math/big: it never panics; it accepts exactly the plain decimals of the documented grammar
// (an optional minus, digits, an optional dot and digits, within the digit bounds) and refuses
// everything else with a non-empty message; an accepted value is the exact rational the text
// denotes, and its canonical string parses back to itself, byte for byte.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{
		"106.75", "100", "100.00", "0100.10", "0.00000001", "0", "-0", "-0.00", "-5", "00",
		"123456789012345678901234.5", "1234567890123456789012345", "0." + strings.Repeat("1", 30),
		"0." + strings.Repeat("1", 31), "", " 1", "1 ", "+1", "1e3", "1E-8", "1,50", "1,000.5",
		"1.", ".5", "1.2.3", "NaN", "Infinity", "inf", "0x10", "1_000", "１２", "\xff", "-", "-.",
		"--1", "1\x00", strings.Repeat("9", 10000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := invoice.ParseAmount(s)
		want, ok := plainDecimal(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseAmount(%q): error with an empty message", s)
			}
			if ok {
				t.Fatalf("ParseAmount(%q) refused a plain decimal: %v", s, err)
			}
			return
		}
		if !ok {
			t.Fatalf("ParseAmount(%q) = %s, but it is not a plain decimal within bounds", s, a)
		}
		canon := a.String()
		got, gok := new(big.Rat).SetString(canon)
		if !gok || got.Cmp(want) != 0 {
			t.Fatalf("ParseAmount(%q) = %s, want the value %s", s, canon, want.FloatString(40))
		}
		if strings.ContainsAny(canon, "eE+") || (strings.Contains(canon, ".") && strings.HasSuffix(canon, "0")) ||
			strings.HasSuffix(canon, ".") || strings.HasPrefix(strings.TrimPrefix(canon, "-"), "00") || canon == "-0" {
			t.Fatalf("ParseAmount(%q) = %q, not canonical", s, canon)
		}
		_, frac, _ := strings.Cut(canon, ".")
		if a.Places() != len(frac) {
			t.Fatalf("ParseAmount(%q) = %s with Places %d", s, canon, a.Places())
		}
		if a.Sign() != want.Sign() {
			t.Fatalf("ParseAmount(%q): Sign %d, want %d", s, a.Sign(), want.Sign())
		}
		again, err := invoice.ParseAmount(canon)
		if err != nil || again.String() != canon || again.Cmp(a) != 0 {
			t.Fatalf("ParseAmount(%q) = %s, which parses back as %s, %v", s, canon, again, err)
		}
		var u invoice.Amount
		if text, _ := a.MarshalText(); u.UnmarshalText(text) != nil || u.String() != canon {
			t.Fatalf("ParseAmount(%q) = %s: text round trip gives %s", s, canon, u)
		}
		formatted := strings.ReplaceAll(a.Format(8), ",", "")
		if fv, fok := new(big.Rat).SetString(formatted); !fok || fv.Cmp(want) != 0 {
			t.Fatalf("ParseAmount(%q) = %s: Format(8) = %s, another value", s, canon, a.Format(8))
		}
		// The HCL path: the same value as a 512-bit float, when it is exact there.
		if bf, _, err := big.ParseFloat(canon, 10, 512, big.ToNearestEven); err == nil {
			if r, _ := bf.Rat(nil); r != nil && r.Cmp(want) == 0 {
				if b, err := invoice.AmountFromBigFloat(bf); err != nil || b.Cmp(a) != 0 {
					t.Fatalf("AmountFromBigFloat(%s) = %s, %v", canon, b, err)
				}
			}
		}
	})
}

// plainDecimal is the documented grammar, written without ParseAmount's code: an optional
// minus, at most 24 significant digits before an optional dot, at most 30 after it.
func plainDecimal(s string) (*big.Rat, bool) {
	body := strings.TrimPrefix(s, "-")
	i := 0
	for i < len(body) && body[i] >= '0' && body[i] <= '9' {
		i++
	}
	intDigits := body[:i]
	rest := body[i:]
	frac := ""
	if rest != "" {
		if rest[0] != '.' {
			return nil, false
		}
		frac = rest[1:]
		for j := 0; j < len(frac); j++ {
			if frac[j] < '0' || frac[j] > '9' {
				return nil, false
			}
		}
		if frac == "" {
			return nil, false
		}
	}
	if intDigits == "" || len(strings.TrimLeft(intDigits, "0")) > 24 || len(frac) > 30 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}
