package invoice

import (
	"slices"
	"strconv"
	"strings"
)

// Kind of currency.
type Kind uint8

// The kinds of currency the API accepts.
const (
	Fiat Kind = iota + 1
	Crypto
)

// String returns "fiat" or "crypto".
func (k Kind) String() string {
	switch k {
	case Fiat:
		return "fiat"
	case Crypto:
		return "crypto"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Currency is a currency code the API accepts in currency and sender_currency.
type Currency struct {
	Code      string // API code, e.g. "BTC", "USDTT", "BNB-BSC", "JPY"
	Name      string // human name, e.g. "Tether USD (TRON)"
	Kind      Kind
	Precision int32 // decimal places accepted: crypto 8, fiat its ISO 4217 minor unit (JPY 0, EUR 2, BHD 3)
}

// crypto are the crypto codes of docs/api.md "Currencies" (S33, the CoinsPaid
// confirmations-and-limits page). The API documents precision only per currency through
// /currencies/list (BTC = 8) and echoes every amount with 8 decimals, so every crypto
// currency gets 8. The names are ours, for messages; the API does not send them.
var crypto = [...]Currency{
	{Code: "ADA", Name: "Cardano", Kind: Crypto, Precision: 8},
	{Code: "BCH", Name: "Bitcoin Cash", Kind: Crypto, Precision: 8},
	{Code: "BNB", Name: "BNB", Kind: Crypto, Precision: 8},
	{Code: "BNB-BSC", Name: "BNB (BNB Smart Chain)", Kind: Crypto, Precision: 8},
	{Code: "BTC", Name: "Bitcoin", Kind: Crypto, Precision: 8},
	{Code: "DAI", Name: "Dai", Kind: Crypto, Precision: 8},
	{Code: "DOGE", Name: "Dogecoin", Kind: Crypto, Precision: 8},
	{Code: "ETH", Name: "Ether", Kind: Crypto, Precision: 8},
	{Code: "EURS", Name: "STASIS EURO", Kind: Crypto, Precision: 8},
	{Code: "LTC", Name: "Litecoin", Kind: Crypto, Precision: 8},
	{Code: "TRX", Name: "TRON", Kind: Crypto, Precision: 8},
	{Code: "USDC", Name: "USD Coin", Kind: Crypto, Precision: 8},
	{Code: "USDTB", Name: "Tether USD (BSC)", Kind: Crypto, Precision: 8},
	{Code: "USDTE", Name: "Tether USD (Ethereum)", Kind: Crypto, Precision: 8},
	{Code: "USDTT", Name: "Tether USD (TRON)", Kind: Crypto, Precision: 8},
	{Code: "WBTC", Name: "Wrapped Bitcoin", Kind: Crypto, Precision: 8},
	{Code: "XRP", Name: "XRP", Kind: Crypto, Precision: 8},
}

// currencies is every code invoiceform knows without asking an account: the crypto codes
// and the ISO 4217 fiat codes (iso4217.go), at their places. An account holds a subset (its
// /currencies/list, kept in the currencies lock file). Sorted by Code: LookupCurrency
// searches it.
var currencies = func() []Currency {
	out := make([]Currency, 0, len(crypto)+len(iso4217))
	out = append(out, crypto[:]...)
	for _, f := range iso4217 {
		out = append(out, Currency{Code: f.code, Name: f.name, Kind: Fiat, Precision: f.places})
	}
	slices.SortFunc(out, func(a, b Currency) int { return strings.Compare(a.Code, b.Code) })
	return out
}()

// LookupCurrency returns the currency with exactly this code; codes are case-sensitive, as the
// API's are.
func LookupCurrency(code string) (Currency, bool) {
	i, ok := slices.BinarySearchFunc(currencies, code, func(c Currency, code string) int {
		return strings.Compare(c.Code, code)
	})
	if !ok {
		return Currency{}, false
	}
	return currencies[i], true
}

// Currencies returns every known currency, sorted by Code. The slice is the caller's.
func Currencies() []Currency {
	return slices.Clone(currencies)
}

// Places is the number of decimal places amounts in currency are written with: the currency's
// precision, or 0 for a code this table does not know (such amounts are shown as they are,
// with no padding, and never rounded).
func Places(currency string) int {
	if c, ok := LookupCurrency(currency); ok {
		return int(c.Precision)
	}
	return 0
}
