package invoice_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/invoice"
)

func TestKindString(t *testing.T) {
	for k, want := range map[invoice.Kind]string{
		invoice.Fiat:   "fiat",
		invoice.Crypto: "crypto",
		0:              "Kind(0)",
		9:              "Kind(9)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

func TestLookupCurrency(t *testing.T) {
	tests := []struct {
		code   string
		ok     bool
		kind   invoice.Kind
		prec   int32
		nameIn string
	}{
		{code: "EUR", ok: true, kind: invoice.Fiat, prec: 2, nameIn: "Euro"},
		{code: "USD", ok: true, kind: invoice.Fiat, prec: 2},
		{code: "BTC", ok: true, kind: invoice.Crypto, prec: 8, nameIn: "Bitcoin"},
		{code: "BNB-BSC", ok: true, kind: invoice.Crypto, prec: 8},
		{code: "USDTT", ok: true, kind: invoice.Crypto, prec: 8, nameIn: "TRON"},
		{code: "USDTE", ok: true, kind: invoice.Crypto, prec: 8, nameIn: "Ethereum"},
		{code: "USDTB", ok: true, kind: invoice.Crypto, prec: 8, nameIn: "BSC"},
		{code: "eur"},     // case-sensitive
		{code: "USDT"},    // Tether exists only per network
		{code: "BTC "},    // no trimming
		{code: ""},        //
		{code: "GBP"},     // fiat, but not documented
		{code: "BNB_BSC"}, //
	}
	for _, tt := range tests {
		c, ok := invoice.LookupCurrency(tt.code)
		if ok != tt.ok {
			t.Errorf("LookupCurrency(%q) ok = %v, want %v", tt.code, ok, tt.ok)
			continue
		}
		if !ok {
			if c != (invoice.Currency{}) {
				t.Errorf("LookupCurrency(%q) = %+v with ok false, want the zero Currency", tt.code, c)
			}
			continue
		}
		if c.Code != tt.code || c.Kind != tt.kind || c.Precision != tt.prec {
			t.Errorf("LookupCurrency(%q) = %+v, want code %s kind %v precision %d", tt.code, c, tt.code, tt.kind, tt.prec)
		}
		if tt.nameIn != "" && !strings.Contains(c.Name, tt.nameIn) {
			t.Errorf("LookupCurrency(%q).Name = %q, want it to mention %q", tt.code, c.Name, tt.nameIn)
		}
	}
}

// TestCurrenciesTable pins the table to docs/api.md "Currencies": exactly these codes, with fiat at 2
// decimals and crypto at 8.
func TestCurrenciesTable(t *testing.T) {
	fiat := []string{"EUR", "USD"}
	crypto := []string{"ADA", "BCH", "BNB", "BNB-BSC", "BTC", "DAI", "DOGE", "ETH", "EURS", "LTC",
		"TRX", "USDC", "USDTB", "USDTE", "USDTT", "WBTC", "XRP"}
	all := invoice.Currencies()
	var codes []string
	for _, c := range all {
		codes = append(codes, c.Code)
		want := invoice.Crypto
		wantPrec := int32(8)
		if slices.Contains(fiat, c.Code) {
			want, wantPrec = invoice.Fiat, 2
		}
		if c.Kind != want || c.Precision != wantPrec {
			t.Errorf("%s: kind %v precision %d, want %v %d", c.Code, c.Kind, c.Precision, want, wantPrec)
		}
		if c.Name == "" {
			t.Errorf("%s has no name", c.Code)
		}
		if got, ok := invoice.LookupCurrency(c.Code); !ok || got != c {
			t.Errorf("LookupCurrency(%q) = %+v, %v; want %+v", c.Code, got, ok, c)
		}
	}
	if !slices.IsSorted(codes) {
		t.Errorf("Currencies() not sorted by Code: %v", codes)
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(fiat), crypto...)))
	if !slices.Equal(codes, want) {
		t.Errorf("Currencies() codes = %v, want %v", codes, want)
	}
}

func TestCurrenciesReturnsCopy(t *testing.T) {
	a := invoice.Currencies()
	a[0].Code = "XXX"
	a[0].Precision = 99
	if b := invoice.Currencies(); b[0].Code == "XXX" || b[0].Precision == 99 {
		t.Fatalf("changing the result of Currencies changed the table: %+v", b[0])
	}
}
