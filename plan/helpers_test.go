package plan_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// inv makes a declared invoice the way config.Load does: canonical body and its hash.
func inv(id, currency, amount string, mods ...func(*invoice.Request)) *config.Invoice {
	a, err := invoice.ParseAmount(amount)
	if err != nil {
		panic(err)
	}
	r := invoice.Request{Title: "Order " + id, Currency: currency, Amount: a, ForeignID: id, EndUserReference: "cust-1",
		URLSuccess: "https://shop.example.com/ok", URLFailed: "https://shop.example.com/failed", EmailUser: "buyer@example.com"}
	for _, m := range mods {
		m(&r)
	}
	body := r.Encode()
	return &config.Invoice{Address: fmt.Sprintf("invoice.%s", id), ForeignID: id, Request: r, Body: body, Hash: invoice.Hash(body),
		DeclRange: hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 20}}}
}

func cancelled(i *config.Invoice) *config.Invoice { i.Cancel = true; return i }

// rec makes a state record for an invoice's body.
func rec(i *config.Invoice, phase state.Phase, status string) *state.Record {
	t := time.Date(2026, 11, 24, 3, 4, 5, 0, time.UTC)
	return &state.Record{ForeignID: i.ForeignID, Phase: phase, Status: status, Body: i.Body, BodyHash: invoice.Hash(i.Body),
		CreatedAt: t, UpdatedAt: t, DetailsKnown: status != ""}
}

func snapshot(recs ...*state.Record) *state.Snapshot {
	s := &state.Snapshot{Records: map[string]*state.Record{}, Lineage: "6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10", Serial: 7,
		Binding: state.Binding{Endpoint: "https://app.sandbox.cryptoprocessing.com/api/v2"}}
	for _, r := range recs {
		s.Records[r.ForeignID] = r
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
