package rules_test

import (
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config/rules"
	"github.com/invoiceform/invoiceform/invoice"
)

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
	for _, c := range invoice.Currencies() {
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
