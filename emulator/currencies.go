package emulator

import (
	"encoding/json"
	"math/big"
)

// currency is one entry of /currencies/list. The codes are the documented ones [D S33, S19];
// minimums, fees and the EUR rates used for sender_amount are made up for the emulator [I]:
// they only need to be plausible and stable.
type currency struct {
	ID                   int64  `json:"id"`
	Type                 string `json:"type"`
	Currency             string `json:"currency"`
	MinimumAmount        string `json:"minimum_amount"`
	DepositFeePercent    string `json:"deposit_fee_percent"`
	WithdrawalFeePercent string `json:"withdrawal_fee_percent"`
	Precision            int    `json:"precision"`
	rateEUR              string // value of one unit in EUR
}

var currencyList = []currency{
	{1, "crypto", "BTC", "0.0001", "0.99", "0", 8, "60000"},
	{2, "crypto", "ETH", "0.01", "0.99", "0", 8, "3000"},
	{3, "crypto", "LTC", "0.01", "0.99", "0", 8, "80"},
	{4, "crypto", "BCH", "0.001", "0.99", "0", 8, "400"},
	{5, "crypto", "XRP", "1", "0.99", "0", 6, "0.5"},
	{6, "crypto", "DOGE", "10", "0.99", "0", 8, "0.1"},
	{7, "crypto", "ADA", "1", "0.99", "0", 6, "0.4"},
	{8, "crypto", "TRX", "10", "0.99", "0", 6, "0.1"},
	{9, "crypto", "BNB", "0.01", "0.99", "0", 8, "500"},
	{10, "crypto", "BNB-BSC", "0.01", "0.99", "0", 8, "500"},
	{11, "crypto", "USDC", "2", "0.99", "0", 6, "0.92"},
	{12, "crypto", "DAI", "2", "0.99", "0", 8, "0.92"},
	{13, "crypto", "WBTC", "0.0001", "0.99", "0", 8, "60000"},
	{14, "crypto", "EURS", "2", "0.99", "0", 2, "1"},
	{15, "crypto", "USDTT", "2", "0.99", "0", 6, "0.92"},
	{16, "crypto", "USDTE", "2", "0.99", "0", 6, "0.92"},
	{17, "crypto", "USDTB", "2", "0.99", "0", 8, "0.92"},
	{18, "fiat", "EUR", "10", "0", "0", 2, "1"},
	{19, "fiat", "USD", "10", "0", "0", 2, "0.92"},
	// The other fiat currencies of the sandbox account recorded in an independent SDK's tests
	// (serjvanilla/coinspaid-go, "accounts/list"), for merchants configured to hold them
	// (Merchant.Currencies, -currencies). Places are their ISO 4217 minor units [I].
	{20, "fiat", "GBP", "10", "0", "0", 2, "1.17"},
	{21, "fiat", "AUD", "10", "0", "0", 2, "0.61"},
	{22, "fiat", "CAD", "10", "0", "0", 2, "0.68"},
	{23, "fiat", "CHF", "10", "0", "0", 2, "1.05"},
	{24, "fiat", "CNY", "10", "0", "0", 2, "0.13"},
	{25, "fiat", "SEK", "10", "0", "0", 2, "0.088"},
	{26, "fiat", "NOK", "10", "0", "0", 2, "0.086"},
	{27, "fiat", "RUB", "10", "0", "0", 2, "0.01"},
	{28, "fiat", "JPY", "10", "0", "0", 0, "0.0062"},
	{29, "fiat", "NZD", "10", "0", "0", 2, "0.56"},
	{30, "fiat", "MXN", "10", "0", "0", 2, "0.05"},
	{31, "fiat", "ARS", "10", "0", "0", 2, "0.001"},
	{32, "fiat", "BRL", "10", "0", "0", 2, "0.17"},
	{33, "fiat", "INR", "10", "0", "0", 2, "0.011"},
	{34, "fiat", "KRW", "10", "0", "0", 0, "0.00068"},
	{35, "fiat", "MYR", "10", "0", "0", 2, "0.2"},
	{36, "fiat", "THB", "10", "0", "0", 2, "0.026"},
	{37, "fiat", "IDR", "10", "0", "0", 2, "0.000057"},
	{38, "fiat", "VND", "10", "0", "0", 0, "0.000036"},
	{39, "fiat", "PEN", "10", "0", "0", 2, "0.25"},
	{40, "fiat", "CLP", "10", "0", "0", 0, "0.001"},
	{41, "fiat", "KZT", "10", "0", "0", 2, "0.0019"},
	{42, "fiat", "UAH", "10", "0", "0", 2, "0.022"},
	{43, "fiat", "CZK", "10", "0", "0", 2, "0.04"},
	{44, "fiat", "PLN", "10", "0", "0", 2, "0.23"},
	{45, "fiat", "ZAR", "10", "0", "0", 2, "0.05"},
}

// defaultCurrencies are the currencies a merchant holds unless configured otherwise: the
// documented codes, the first 19 of currencyList [D S33, S19].
var defaultCurrencies = func() []string {
	out := make([]string, 19)
	for i := range out {
		out[i] = currencyList[i].Currency
	}
	return out
}()

var currencies = func() map[string]currency {
	m := make(map[string]currency, len(currencyList))
	for _, c := range currencyList {
		m[c.Currency] = c
	}
	return m
}()

// currenciesBody is a merchant's answer of /currencies/list: its currencies, in the order of
// currencyList. The optional "visible" filter is accepted and ignored: every emulated
// currency is visible [I].
func currenciesBody(held map[string]bool) []byte {
	list := make([]currency, 0, len(held))
	for _, c := range currencyList {
		if held[c.Currency] {
			list = append(list, c)
		}
	}
	b, err := json.Marshal(struct {
		Data []currency `json:"data"`
	}{list})
	if err != nil {
		panic(err) // static data; cannot fail
	}
	return b
}

// heldSet is the set of codes; nil or empty means defaultCurrencies.
func heldSet(codes []string) map[string]bool {
	if len(codes) == 0 {
		codes = defaultCurrencies
	}
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

func rateEUR(code string) *big.Rat {
	r, ok := new(big.Rat).SetString(currencies[code].rateEUR)
	if !ok || r.Sign() <= 0 {
		return big.NewRat(1, 1) // callers pass validated codes; never divide by nothing
	}
	return r
}

// convert turns amount of from into to at the emulator's fixed rates.
func convert(amount *big.Rat, from, to string) *big.Rat {
	v := new(big.Rat).Mul(amount, rateEUR(from))
	return v.Quo(v, rateEUR(to))
}

// KnownCurrencies lists every code the emulator can hold, in table order: the documented
// ones and the other fiat currencies of the recorded sandbox account. Give it as a
// Merchant's Currencies for an account that holds them all.
func KnownCurrencies() []string {
	out := make([]string, len(currencyList))
	for i, c := range currencyList {
		out[i] = c.Currency
	}
	return out
}
