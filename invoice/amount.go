package invoice

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Amount is an exact decimal amount of money. It never passes through float64: it is parsed
// from decimal text, and numbers written in HCL are converted from cty's 512-bit big.Float
// through their shortest exact decimal text. The zero value is 0.
type Amount struct{ d apd.Decimal }

// maxAmountDigits bounds the integer part: no currency needs more, and it keeps absurd input
// (a 10 MB number) from reaching the arithmetic.
const maxAmountDigits = 24

// maxAmountPlaces bounds the fraction: the API works with at most 8 places; 30 leaves room for
// a helpful "too many decimal places" message instead of a parse error.
const maxAmountPlaces = 30

var errAmountEmpty = errors.New("is empty")

// ParseAmount parses decimal text: digits with an optional fraction, like "106.75" or "100".
// Signs, exponents, spaces, thousands separators and other forms are refused with a message
// that says what to write instead.
func ParseAmount(s string) (Amount, error) {
	if s == "" {
		return Amount{}, errAmountEmpty
	}
	if strings.TrimSpace(s) != s {
		return Amount{}, errors.New("has leading or trailing spaces; write only the digits, e.g. \"106.75\"")
	}
	body := s
	neg := false
	switch body[0] {
	case '-':
		neg, body = true, body[1:]
	case '+':
		return Amount{}, errors.New("has a sign; write only the digits, e.g. \"106.75\"")
	}
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" || (hasDot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		switch {
		case strings.ContainsAny(body, "eE") && !strings.ContainsAny(body, " ,"):
			return Amount{}, errors.New("uses an exponent; write the amount as plain decimal digits" + plainHint(body))
		case strings.Contains(body, ","):
			return Amount{}, errors.New("contains a comma; use a dot as the decimal separator and no thousands separators, e.g. \"1234.50\"")
		}
		return Amount{}, errors.New("is not a decimal number; write digits with an optional fraction, e.g. \"106.75\"")
	}
	if len(strings.TrimLeft(intPart, "0")) > maxAmountDigits {
		return Amount{}, fmt.Errorf("is too large (more than %d digits before the decimal point)", maxAmountDigits)
	}
	if len(frac) > maxAmountPlaces {
		return Amount{}, fmt.Errorf("has too many decimal places (%d)", len(frac))
	}
	var a Amount
	if len(intPart)+len(frac) <= 18 {
		setDigits(&a.d, intPart, frac)
	} else {
		if _, _, err := a.d.SetString(body); err != nil {
			return Amount{}, errors.New("is not a decimal number; write digits with an optional fraction, e.g. \"106.75\"")
		}
		a.d.Reduce(&a.d)
	}
	if neg && !a.d.IsZero() {
		a.d.Negative = true
	}
	return a, nil
}

// setDigits sets d to the decimal intPart.frac (digits only, 18 at most in all: they fit an
// int64) as SetString and Reduce make it: no trailing zeros in the coefficient, zero as 0E0.
// It is what nearly every amount takes, at a tenth of SetString's cost.
func setDigits(d *apd.Decimal, intPart, frac string) {
	var c int64
	for i := 0; i < len(intPart); i++ {
		c = c*10 + int64(intPart[i]-'0')
	}
	for i := 0; i < len(frac); i++ {
		c = c*10 + int64(frac[i]-'0')
	}
	e := -int32(len(frac))
	if c == 0 {
		e = 0
	}
	for c != 0 && c%10 == 0 {
		c /= 10
		e++
	}
	d.SetFinite(c, e)
}

// plainHint is `: "1000"` for "1e3": the plain digits the exponent form stands for, when it
// parses and is short enough to show; else an example.
func plainHint(s string) string {
	var d apd.Decimal
	if _, _, err := d.SetString(s); err == nil && d.Exponent > -40 && d.Exponent < 40 && d.NumDigits() < 40 {
		d.Reduce(&d)
		return fmt.Sprintf(", here %q", d.Text('f'))
	}
	return `, e.g. "0.0001"`
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AmountFromBigFloat converts an HCL number. cty keeps numbers as 512-bit binary floats, so a
// literal 0.1 is not exactly one tenth; its shortest decimal text ("0.1") is what the operator
// wrote. Arithmetic results may carry binary noise in the last places, which the precision
// check then reports instead of silently rounding money.
func AmountFromBigFloat(f *big.Float) (Amount, error) {
	if f.IsInf() {
		return Amount{}, errors.New("is infinite")
	}
	return ParseAmount(f.Text('f', -1))
}

// MustParseAmount is ParseAmount for constants in tests and tables; it panics on bad input.
func MustParseAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(fmt.Sprintf("invoice.MustParseAmount(%q): %v", s, err))
	}
	return a
}

// String writes the canonical form: no exponent, no trailing zeros, no leading zeros ("100",
// "106.75", "0.00000001"). It is the form sent to the API and hashed.
func (a Amount) String() string { return a.d.Text('f') }

// Places is the number of decimal places the amount needs (trailing zeros do not count).
func (a Amount) Places() int {
	if a.d.Exponent >= 0 {
		return 0
	}
	return int(-a.d.Exponent)
}

// Sign is -1, 0 or +1.
func (a Amount) Sign() int { return a.d.Sign() }

// Cmp compares a and b exactly: -1, 0 or +1.
func (a Amount) Cmp(b Amount) int { return a.d.Cmp(&b.d) }

// Add returns the exact sum a+b.
func (a Amount) Add(b Amount) Amount {
	var r Amount
	// Exact addition needs enough digits for both operands; 80 covers maxAmountDigits and
	// maxAmountPlaces with room for the sums of any realistic number of invoices.
	ctx := apd.Context{Precision: 80, MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent, Traps: apd.DefaultTraps | apd.Inexact | apd.Rounded}
	if _, err := ctx.Add(&r.d, &a.d, &b.d); err != nil {
		panic(fmt.Sprintf("invoice: exact addition of %s and %s: %v", a, b, err))
	}
	r.d.Reduce(&r.d)
	return r
}

// Format writes the amount with exactly places decimals (padding with zeros; it never rounds:
// places below Places() are raised to Places()) and a comma between thousands, as in plan
// totals: "1,234.50".
func (a Amount) Format(places int) string {
	if p := a.Places(); places < p {
		places = p
	}
	var q apd.Decimal
	q.Set(&a.d)
	if int(-q.Exponent) < places {
		// Rescale without rounding: multiply the coefficient by 10^k and lower the exponent.
		k := places + int(q.Exponent)
		ten := new(apd.BigInt).Exp(apd.NewBigInt(10), apd.NewBigInt(int64(k)), nil)
		q.Coeff.Mul(&q.Coeff, ten)
		q.Exponent -= int32(k)
	}
	s := q.Text('f')
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := 0; i < len(intPart); i++ {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(intPart[i])
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// MarshalText writes the canonical form, so amounts serialise as exact text in JSON and files.
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses text written by MarshalText (also accepting a leading minus).
func (a *Amount) UnmarshalText(b []byte) error {
	p, err := ParseAmount(string(b))
	if err != nil {
		return fmt.Errorf("amount %q %w", b, err)
	}
	*a = p
	return nil
}
