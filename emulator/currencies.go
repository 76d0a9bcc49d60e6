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
}

var currencies = func() map[string]currency {
	m := make(map[string]currency, len(currencyList))
	for _, c := range currencyList {
		m[c.Currency] = c
	}
	return m
}()

// currenciesBody is the fixed answer of /currencies/list. The optional "visible" filter is
// accepted and ignored: every emulated currency is visible [I].
var currenciesBody = func() []byte {
	b, err := json.Marshal(struct {
		Data []currency `json:"data"`
	}{currencyList})
	if err != nil {
		panic(err) // static data; cannot fail
	}
	return b
}()

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
