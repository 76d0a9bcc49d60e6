package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/api"
)

func TestCheckCurrencies(t *testing.T) {
	held := []api.Currency{{Currency: "EUR"}, {Currency: "BTC"}}
	var creates []currencyUse
	for i := range 7 {
		creates = append(creates, currencyUse{foreignID: fmt.Sprintf("gbp-%d", i), currency: "GBP"})
	}
	creates = append(creates, currencyUse{foreignID: "eth-1", currency: "EUR", sender: "ETH"}, currencyUse{foreignID: "ok", currency: "EUR", sender: "BTC"})
	err := checkCurrencies(creates, held)
	if err == nil {
		t.Fatal("accepted")
	}
	want := "the account does not have the currency ETH (1 invoice: eth-1); GBP (7 invoices: gbp-0, gbp-1, gbp-2, gbp-3, gbp-4 and 2 more): its /currencies/list holds BTC, EUR. Nothing was applied."
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if err := checkCurrencies(creates[7:8], []api.Currency{{Currency: "EUR"}, {Currency: "ETH"}}); err != nil {
		t.Errorf("held: %v", err)
	}
}
