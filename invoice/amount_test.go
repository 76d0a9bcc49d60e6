package invoice_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/invoice"
)

func TestParseAmount(t *testing.T) {
	cases := []struct {
		in, want string
		places   int
		err      string
	}{
		{"106.75", "106.75", 2, ""},
		{"100", "100", 0, ""},
		{"100.00", "100", 0, ""},
		{"0100.10", "100.1", 1, ""},
		{"0.00000001", "0.00000001", 8, ""},
		{"123456789012345678901234.5", "123456789012345678901234.5", 1, ""},
		{"0", "0", 0, ""},
		{"-5", "-5", 0, ""},
		{"", "", 0, "is empty"},
		{" 1", "", 0, "spaces"},
		{"+1", "", 0, "sign"},
		{"1e3", "", 0, `uses an exponent; write the amount as plain decimal digits, here "1000"`},
		{"1.5E-2", "", 0, `plain decimal digits, here "0.015"`},
		{"1e999", "", 0, `plain decimal digits, e.g. "0.0001"`},
		{"1,50", "", 0, "comma"},
		{"1.", "", 0, "not a decimal number"},
		{".5", "", 0, "not a decimal number"},
		{"1.2.3", "", 0, "not a decimal number"},
		{"NaN", "", 0, "not a decimal number"},
		{"Infinity", "", 0, "not a decimal number"},
		{"１２", "", 0, "not a decimal number"},
		{"1234567890123456789012345", "", 0, "too large"},
		{"0." + strings.Repeat("1", 31), "", 0, "too many decimal places"},
	}
	for _, c := range cases {
		a, err := invoice.ParseAmount(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseAmount(%q) error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAmount(%q): %v", c.in, err)
			continue
		}
		if a.String() != c.want || a.Places() != c.places {
			t.Errorf("ParseAmount(%q) = %s (%d places), want %s (%d places)", c.in, a, a.Places(), c.want, c.places)
		}
	}
}

func TestAmountFromBigFloat(t *testing.T) {
	// HCL parses number literals at 512 bits; the shortest decimal text is what was written.
	for _, lit := range []string{"0.1", "106.75", "0.00000001", "1234567.89", "100"} {
		f, _, err := big.ParseFloat(lit, 10, 512, big.ToNearestEven)
		if err != nil {
			t.Fatal(err)
		}
		a, err := invoice.AmountFromBigFloat(f)
		if err != nil || a.String() != lit {
			t.Errorf("AmountFromBigFloat(%s) = %s, %v", lit, a, err)
		}
	}
	if _, err := invoice.AmountFromBigFloat(new(big.Float).SetInf(false)); err == nil {
		t.Error("infinity accepted")
	}
}

func TestAmountArithmeticAndFormat(t *testing.T) {
	sum := invoice.Amount{}
	for _, s := range []string{"0.1", "0.2", "1234.5", "0.00000001"} {
		sum = sum.Add(invoice.MustParseAmount(s))
	}
	if sum.String() != "1234.80000001" {
		t.Errorf("sum %s", sum)
	}
	cases := []struct {
		in     string
		places int
		want   string
	}{
		{"1234.5", 2, "1,234.50"},
		{"1234567", 2, "1,234,567.00"},
		{"0.5", 8, "0.50000000"},
		{"999", 0, "999"},
		{"1000", 0, "1,000"},
		{"12.345", 2, "12.345"}, // never rounds
		{"-1234.5", 2, "-1,234.50"},
	}
	for _, c := range cases {
		if got := invoice.MustParseAmount(c.in).Format(c.places); got != c.want {
			t.Errorf("Format(%s, %d) = %s, want %s", c.in, c.places, got, c.want)
		}
	}
	if invoice.MustParseAmount("10.50").Cmp(invoice.MustParseAmount("10.5")) != 0 {
		t.Error("10.50 != 10.5")
	}
	var a invoice.Amount
	if err := a.UnmarshalText([]byte("12.30")); err != nil || a.String() != "12.3" {
		t.Errorf("UnmarshalText: %s %v", a, err)
	}
	if err := a.UnmarshalText([]byte("x")); err == nil {
		t.Error("UnmarshalText accepted x")
	}
}
