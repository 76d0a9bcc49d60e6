package rules_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config/rules"
)

func TestKindString(t *testing.T) {
	for k, want := range map[rules.Kind]string{
		rules.Fiat:   "fiat",
		rules.Crypto: "crypto",
		0:            "Kind(0)",
		9:            "Kind(9)",
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
		kind   rules.Kind
		prec   int32
		nameIn string
	}{
		{code: "EUR", ok: true, kind: rules.Fiat, prec: 2, nameIn: "Euro"},
		{code: "USD", ok: true, kind: rules.Fiat, prec: 2},
		{code: "BTC", ok: true, kind: rules.Crypto, prec: 8, nameIn: "Bitcoin"},
		{code: "BNB-BSC", ok: true, kind: rules.Crypto, prec: 8},
		{code: "USDTT", ok: true, kind: rules.Crypto, prec: 8, nameIn: "TRON"},
		{code: "USDTE", ok: true, kind: rules.Crypto, prec: 8, nameIn: "Ethereum"},
		{code: "USDTB", ok: true, kind: rules.Crypto, prec: 8, nameIn: "BSC"},
		{code: "eur"},     // case-sensitive
		{code: "USDT"},    // Tether exists only per network
		{code: "BTC "},    // no trimming
		{code: ""},        //
		{code: "GBP"},     // fiat, but not documented
		{code: "BNB_BSC"}, //
	}
	for _, tt := range tests {
		c, ok := rules.LookupCurrency(tt.code)
		if ok != tt.ok {
			t.Errorf("LookupCurrency(%q) ok = %v, want %v", tt.code, ok, tt.ok)
			continue
		}
		if !ok {
			if c != (rules.Currency{}) {
				t.Errorf("LookupCurrency(%q) = %+v with ok false, want the zero Currency", tt.code, c)
			}
			continue
		}
		if c.Code != tt.code || c.Kind != tt.kind || c.Precision != tt.prec {
			t.Errorf("LookupCurrency(%q) = %+v, want code %s kind %v precision %d", tt.code, c, tt.code, tt.kind, tt.prec)
		}
		if tt.nameIn != "" && !contains(c.Name, tt.nameIn) {
			t.Errorf("LookupCurrency(%q).Name = %q, want it to mention %q", tt.code, c.Name, tt.nameIn)
		}
	}
}

// TestCurrenciesTable pins the table to reference §6: exactly these codes, with fiat at 2
// decimals and crypto at 8.
func TestCurrenciesTable(t *testing.T) {
	fiat := []string{"EUR", "USD"}
	crypto := []string{"ADA", "BCH", "BNB", "BNB-BSC", "BTC", "DAI", "DOGE", "ETH", "EURS", "LTC",
		"TRX", "USDC", "USDTB", "USDTE", "USDTT", "WBTC", "XRP"}
	all := rules.Currencies()
	var codes []string
	for _, c := range all {
		codes = append(codes, c.Code)
		want := rules.Crypto
		wantPrec := int32(8)
		if slices.Contains(fiat, c.Code) {
			want, wantPrec = rules.Fiat, 2
		}
		if c.Kind != want || c.Precision != wantPrec {
			t.Errorf("%s: kind %v precision %d, want %v %d", c.Code, c.Kind, c.Precision, want, wantPrec)
		}
		if c.Name == "" {
			t.Errorf("%s has no name", c.Code)
		}
		if got, ok := rules.LookupCurrency(c.Code); !ok || got != c {
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
	a := rules.Currencies()
	a[0].Code = "XXX"
	a[0].Precision = 99
	if b := rules.Currencies(); b[0].Code == "XXX" || b[0].Precision == 99 {
		t.Fatalf("changing the result of Currencies changed the table: %+v", b[0])
	}
}

func TestSuggestCurrency(t *testing.T) {
	tests := []struct{ in, want string }{
		{"eur", "EUR"},         // case-insensitive exact match
		{"Usd", "USD"},         //
		{"bnb-bsc", "BNB-BSC"}, //
		{"BTC", "BTC"},         // already right
		{"BTX", "BTC"},         // one substitution
		{"btx", "BTC"},         // upper-cased before the distance
		{"ETHH", "ETH"},        // one insertion
		{"DOG", "DOGE"},        // one deletion
		{"BNBBSC", "BNB-BSC"},  // missing hyphen
		{"USDTTT", "USDTT"},    //
		{"BCC", "BCH"},         // tie between BCH and BTC: Code order
		{"LTCC1", "LTC"},       // two edits
		{"LTCCC1", ""},         // three edits
		{"zzzzzz", ""},         //
		{"", ""},               //
		{"X", ""},              // every code is as far as a rewrite
		{"bitcoin", ""},        // names are not codes
	}
	for _, tt := range tests {
		if got := rules.SuggestCurrency(tt.in); got != tt.want {
			t.Errorf("SuggestCurrency(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaxCodeLen(t *testing.T) {
	longest := 0
	for _, c := range rules.Currencies() {
		longest = max(longest, len(c.Code))
	}
	if longest != rules.MaxCodeLen {
		t.Errorf("the longest code has %d characters; maxCodeLen says %d", longest, rules.MaxCodeLen)
	}
}

func TestSuggestCurrencyAtTheLengthLimit(t *testing.T) {
	// Past maxCodeLen+2 characters nothing is computed (a 10 MB value took seconds).
	if s := rules.SuggestCurrency(strings.Repeat("E", 10<<20)); s != "" {
		t.Errorf("suggested %q", s)
	}
	if s := rules.SuggestCurrency("BNB-BSCXX"); s != "BNB-BSC" {
		t.Errorf("BNB-BSCXX: suggested %q, want BNB-BSC", s)
	}
}
