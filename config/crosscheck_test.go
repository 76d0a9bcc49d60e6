package config_test

import (
	"context"
	"testing"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/emulator"
)

// The config package writes canonical bodies itself and the api package has an independent
// encoder for the same form; both must produce the same bytes, and the emulator (written
// from the reference, apart from both) must accept every example invoice.

func toAPI(r config.Request) *api.CreateRequest {
	c := &api.CreateRequest{
		Timer: r.Timer, Title: r.Title, Description: r.Description, Currency: r.Currency,
		SenderCurrency: r.SenderCurrency, Amount: r.Amount.String(), ForeignID: r.ForeignID,
		EndUserReference: r.EndUserReference, URLSuccess: r.URLSuccess, URLFailed: r.URLFailed,
		EmailUser: r.EmailUser, Type: r.Type, SenderType: r.SenderType,
	}
	if sd := r.SenderData; sd != nil {
		c.SenderData = &api.SenderData{
			FirstName: sd.FirstName, LastName: sd.LastName, DateOfBirth: sd.DateOfBirth,
			Email: sd.Email, LegalName: sd.LegalName, CountryOfRegistration: sd.CountryOfRegistration,
		}
	}
	return c
}

func exampleInvoices(t *testing.T) []*config.Invoice {
	t.Helper()
	var all []*config.Invoice
	for _, dir := range []string{"../examples/quickstart", "../examples/batch"} {
		all = append(all, mustLoad(t, dir, config.LoadOptions{}).Invoices...)
	}
	return all
}

func TestCanonicalBodyMatchesAPIEncoder(t *testing.T) {
	for _, inv := range exampleInvoices(t) {
		want, err := toAPI(inv.Request).Encode()
		if err != nil {
			t.Fatalf("%s: api encode: %v", inv.Address, err)
		}
		if string(inv.Body) != string(want) {
			t.Errorf("%s:\nconfig %s\napi    %s", inv.Address, inv.Body, want)
		}
	}
}

func TestEmulatorAcceptsExampleInvoices(t *testing.T) {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	client, err := api.New(api.Config{Endpoint: base, Key: emulator.DefaultKey, Secret: emulator.DefaultSecret})
	if err != nil {
		t.Fatal(err)
	}
	invs := exampleInvoices(t)
	for _, inv := range invs[:50] {
		got, err := client.CreateInvoice(context.Background(), inv.Body)
		if err != nil {
			t.Fatalf("%s: %v", inv.Address, err)
		}
		if got.ForeignID != inv.ForeignID {
			t.Errorf("%s: answer for %q", inv.Address, got.ForeignID)
		}
	}
}
