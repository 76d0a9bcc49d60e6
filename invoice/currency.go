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
	Code      string // API code, e.g. "BTC", "USDTT", "BNB-BSC"
	Name      string // human name, e.g. "Tether USD (TRON)"
	Kind      Kind
	Precision int32 // decimal places accepted: fiat 2, crypto 8
}

// currencies is the table of docs/api.md "Currencies": the crypto codes from S33 (the CoinsPaid
// confirmations-and-limits page), the fiat codes from S19. The API documents precision only per
// currency through /currencies/list (BTC = 8) and echoes every amount with 8 decimals, so every
// crypto currency gets 8; fiat gets the 2 decimals of its minor unit. The names are ours, for
// messages; the API does not send them. Sorted by Code: LookupCurrency searches it.
var currencies = [...]Currency{
	{Code: "ADA", Name: "Cardano", Kind: Crypto, Precision: 8},
	{Code: "BCH", Name: "Bitcoin Cash", Kind: Crypto, Precision: 8},
	{Code: "BNB", Name: "BNB", Kind: Crypto, Precision: 8},
	{Code: "BNB-BSC", Name: "BNB (BNB Smart Chain)", Kind: Crypto, Precision: 8},
	{Code: "BTC", Name: "Bitcoin", Kind: Crypto, Precision: 8},
	{Code: "DAI", Name: "Dai", Kind: Crypto, Precision: 8},
	{Code: "DOGE", Name: "Dogecoin", Kind: Crypto, Precision: 8},
	{Code: "ETH", Name: "Ether", Kind: Crypto, Precision: 8},
	{Code: "EUR", Name: "Euro", Kind: Fiat, Precision: 2},
	{Code: "EURS", Name: "STASIS EURO", Kind: Crypto, Precision: 8},
	{Code: "LTC", Name: "Litecoin", Kind: Crypto, Precision: 8},
	{Code: "TRX", Name: "TRON", Kind: Crypto, Precision: 8},
	{Code: "USD", Name: "US Dollar", Kind: Fiat, Precision: 2},
	{Code: "USDC", Name: "USD Coin", Kind: Crypto, Precision: 8},
	{Code: "USDTB", Name: "Tether USD (BSC)", Kind: Crypto, Precision: 8},
	{Code: "USDTE", Name: "Tether USD (Ethereum)", Kind: Crypto, Precision: 8},
	{Code: "USDTT", Name: "Tether USD (TRON)", Kind: Crypto, Precision: 8},
	{Code: "WBTC", Name: "Wrapped Bitcoin", Kind: Crypto, Precision: 8},
	{Code: "XRP", Name: "XRP", Kind: Crypto, Precision: 8},
}

// LookupCurrency returns the currency with exactly this code; codes are case-sensitive, as the
// API's are.
func LookupCurrency(code string) (Currency, bool) {
	i, ok := slices.BinarySearchFunc(currencies[:], code, func(c Currency, code string) int {
		return strings.Compare(c.Code, code)
	})
	if !ok {
		return Currency{}, false
	}
	return currencies[i], true
}

// Currencies returns every known currency, sorted by Code. The slice is the caller's.
func Currencies() []Currency {
	return slices.Clone(currencies[:])
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
