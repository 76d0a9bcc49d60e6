package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
)

func TestCurrencyLockRoundTrip(t *testing.T) {
	in := []config.LockedCurrency{
		{Code: "USD", Type: "fiat", Precision: 8},
		{Code: "BTC", Type: "crypto", Precision: 8},
		{Code: "JPY", Type: "fiat", Precision: 8},
		{Code: "SOL", Type: "crypto", Precision: 9}, // unknown to invoiceform's table
	}
	data := config.EncodeCurrencyLock("https://app.sandbox.cryptoprocessing.com/api/v2", in)
	if again := config.EncodeCurrencyLock("https://app.sandbox.cryptoprocessing.com/api/v2", []config.LockedCurrency{in[3], in[2], in[1], in[0]}); string(again) != string(data) {
		t.Errorf("the encoding depends on the order of the answer:\n%s\n%s", data, again)
	}
	text := string(data)
	if !strings.HasPrefix(text, "# This file is maintained by \"invoiceform currencies\"") || !strings.Contains(text, "Commit it") {
		t.Errorf("no header saying what the file is:\n%s", text)
	}
	if i, j := strings.Index(text, `currency "BTC"`), strings.Index(text, `currency "USD"`); i < 0 || j < i {
		t.Errorf("not sorted by code:\n%s", text)
	}
	dir := t.TempDir()
	if _, err := config.WriteCurrencyLock(dir, data); err != nil {
		t.Fatal(err)
	}
	lock, _, diags := config.ReadCurrencyLock(dir)
	if diags.HasErrors() || lock == nil {
		t.Fatalf("read back: %v", diags)
	}
	if lock.Endpoint != "https://app.sandbox.cryptoprocessing.com/api/v2" || lock.Codes() != "BTC, JPY, SOL, USD" {
		t.Errorf("read back %q with %s", lock.Endpoint, lock.Codes())
	}
	for code, want := range map[string]invoice.Currency{
		"JPY": {Code: "JPY", Name: "Yen", Kind: invoice.Fiat, Precision: 0},       // the minor unit wins over precision 8
		"USD": {Code: "USD", Name: "US Dollar", Kind: invoice.Fiat, Precision: 2}, //
		"SOL": {Code: "SOL", Name: "SOL", Kind: invoice.Crypto, Precision: 9},     // the lock's own
	} {
		c, ok := lock.Lookup(code)
		if got := c.Currency(); !ok || got != want {
			t.Errorf("%s: %+v, want %+v", code, got, want)
		}
	}
	if _, ok := lock.Lookup("GBP"); ok {
		t.Error("GBP found")
	}
}

func TestCurrencyLockAbsent(t *testing.T) {
	lock, f, diags := config.ReadCurrencyLock(t.TempDir())
	if lock != nil || f != nil || len(diags) > 0 {
		t.Errorf("no file: %v %v %v", lock, f, diags)
	}
}

func TestCurrencyLockBroken(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, config.CurrencyLockFile), "currency \"EUR\" {\n  type = \"fiat\"\n  precision = \"two\"\n}\n")
	writeFile(t, filepath.Join(dir, "main.hcl"), "")
	_, diags := config.Load(dir, config.LoadOptions{})
	if !diags.HasErrors() || diags[0].Subject == nil || filepath.Base(diags[0].Subject.Filename) != config.CurrencyLockFile || diags[0].Subject.Start.Line != 3 {
		t.Fatalf("want an error at line 3 of the lock file, got %v", diags)
	}
}

// TestCurrencyLockIsNotConfiguration: the loader does not read the lock file as a
// configuration file, though its name ends in .hcl.
func TestCurrencyLockIsNotConfiguration(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, config.CurrencyLockFile), string(config.EncodeCurrencyLock("https://example.com/api/v2", []config.LockedCurrency{{Code: "EUR", Type: "fiat", Precision: 2}})))
	_, diags := config.Load(dir, config.LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "No configuration files" {
		t.Fatalf("got %v", diags)
	}
}

func TestCurrencyNotInLockNamesTheFile(t *testing.T) {
	_, diags := config.Load("testdata/invalid/currency_not_in_lock", config.LoadOptions{Today: today})
	for _, d := range diags {
		if d.Summary == "Currency not in the account" {
			for _, want := range []string{`"GBP" is not a currency of the account`, config.CurrencyLockFile, "BTC, EUR, JPY", `run "invoiceform currencies" again`} {
				if !strings.Contains(d.Detail, want) {
					t.Errorf("detail %q lacks %q", d.Detail, want)
				}
			}
			return
		}
	}
	t.Fatalf("no diagnostic: %v", diags)
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
