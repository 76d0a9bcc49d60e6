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
		{code: "eur"},  // case-sensitive
		{code: "USDT"}, // Tether exists only per network
		{code: "BTC "}, // no trimming
		{code: ""},     //
		{code: "GBP", ok: true, kind: invoice.Fiat, prec: 2, nameIn: "Pound"},
		{code: "JPY", ok: true, kind: invoice.Fiat, prec: 0, nameIn: "Yen"},
		{code: "BHD", ok: true, kind: invoice.Fiat, prec: 3},
		{code: "KWD", ok: true, kind: invoice.Fiat, prec: 3},
		{code: "CLF", ok: true, kind: invoice.Fiat, prec: 4},
		{code: "KRW", ok: true, kind: invoice.Fiat, prec: 0},
		{code: "XAU"},     // gold: not money a shop bills in
		{code: "XTS"},     // the testing code
		{code: "XXX"},     // no currency
		{code: "HRK"},     // withdrawn in 2023
		{code: "gbp"},     //
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

// TestCurrenciesTable pins the table: the crypto codes of docs/api.md "Currencies" at 8
// places, and the ISO 4217 fiat codes, each three upper-case letters, at their minor units.
func TestCurrenciesTable(t *testing.T) {
	crypto := []string{"ADA", "BCH", "BNB", "BNB-BSC", "BTC", "DAI", "DOGE", "ETH", "EURS", "LTC",
		"TRX", "USDC", "USDTB", "USDTE", "USDTT", "WBTC", "XRP"}
	// Metals, test codes, units of account and funds codes stay out.
	excluded := []string{"XAU", "XAG", "XPD", "XPT", "XTS", "XXX", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD",
		"BOV", "CHE", "CHW", "COU", "MXV", "USN", "UYI"}
	all := invoice.Currencies()
	var codes, gotCrypto []string
	fiat := 0
	for _, c := range all {
		codes = append(codes, c.Code)
		switch c.Kind {
		case invoice.Crypto:
			gotCrypto = append(gotCrypto, c.Code)
			if c.Precision != 8 {
				t.Errorf("%s: crypto at %d places, want 8", c.Code, c.Precision)
			}
		case invoice.Fiat:
			fiat++
			if len(c.Code) != 3 || strings.Trim(c.Code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				t.Errorf("fiat code %q is not three upper-case letters", c.Code)
			}
			if c.Precision < 0 || c.Precision > 4 {
				t.Errorf("%s: %d places; ISO 4217 minor units are 0 to 4", c.Code, c.Precision)
			}
			if slices.Contains(excluded, c.Code) {
				t.Errorf("%s is not a currency a shop bills in", c.Code)
			}
		default:
			t.Errorf("%s: kind %v", c.Code, c.Kind)
		}
		if c.Name == "" {
			t.Errorf("%s has no name", c.Code)
		}
		if got, ok := invoice.LookupCurrency(c.Code); !ok || got != c {
			t.Errorf("LookupCurrency(%q) = %+v, %v; want %+v", c.Code, got, ok, c)
		}
	}
	for i := 1; i < len(codes); i++ {
		if codes[i-1] >= codes[i] {
			t.Errorf("Currencies() not strictly sorted by Code: %s before %s", codes[i-1], codes[i])
		}
	}
	if !slices.Equal(gotCrypto, crypto) {
		t.Errorf("crypto codes = %v, want %v", gotCrypto, crypto)
	}
	// ISO 4217 has about 180 codes; without metals, funds and test codes about 155 remain.
	if fiat < 150 || fiat > 170 {
		t.Errorf("%d fiat codes; want the whole ISO 4217 list of money (about 155)", fiat)
	}
	// A sample pinned to the standard's minor units.
	for code, places := range map[string]int32{
		"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "AUD": 2, "CAD": 2, "PLN": 2, "CNY": 2, "INR": 2,
		"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "XOF": 0, "XAF": 0, "UGX": 0, "PYG": 0,
		"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3,
		"CLF": 4, "UYW": 4,
	} {
		c, ok := invoice.LookupCurrency(code)
		if !ok || c.Kind != invoice.Fiat || c.Precision != places {
			t.Errorf("LookupCurrency(%q) = %+v, %v; want fiat at %d places", code, c, ok, places)
		}
	}
}

func TestPlaces(t *testing.T) {
	for code, want := range map[string]int{"JPY": 0, "EUR": 2, "BHD": 3, "CLF": 4, "BTC": 8, "XYZ": 0, "": 0} {
		if got := invoice.Places(code); got != want {
			t.Errorf("Places(%q) = %d, want %d", code, got, want)
		}
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
