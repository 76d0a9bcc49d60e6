package emulator_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/emulator"
)

// The emulator is as lenient as the Laravel backend it stands in for (issue 16).

// TestNullBody: an independent SDK sends null to accounts/list and currencies/list, and the
// sandbox answered with success; null is signed as sent.
func TestNullBody(t *testing.T) {
	_, base := start(t, emulator.Options{})
	for _, path := range []string{"/accounts/list", "/currencies/list"} {
		for _, body := range []string{"null", " null\n"} {
			r := signed(t, base, path, []byte(body))
			if r.status != http.StatusOK || !strings.HasPrefix(r.body, `{"data":[`) {
				t.Errorf("%s with %q: %d %s", path, body, r.status, r.body)
			}
		}
	}
	// A create with no input fails validation field by field, as with {}.
	r := signed(t, base, "/invoices/create", []byte("null"))
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"timer":"The timer field is required."`) {
		t.Errorf("create null: %d %s", r.status, r.body)
	}
	// Other scalars stay refused.
	for _, body := range []string{`"null"`, `nul`, `true`} {
		if r := signed(t, base, "/accounts/list", []byte(body)); r.status != http.StatusBadRequest || r.body != `{"error":"Bad content format","code":"bad_content_format"}` {
			t.Errorf("%q: %d %s", body, r.status, r.body)
		}
	}
}

// TestTimerForms: Laravel's boolean rule takes true, false, 1, 0, "1" and "0".
func TestTimerForms(t *testing.T) {
	srv, base := start(t, emulator.Options{})
	for i, c := range []struct {
		raw   string
		timer bool
	}{{`true`, true}, {`false`, false}, {`1`, true}, {`0`, false}, {`"1"`, true}, {`"0"`, false}} {
		m := validBody("timer-" + string(rune('a'+i)))
		m["timer"] = json.RawMessage(c.raw)
		r := signed(t, base, "/invoices/create", encode(t, m))
		if r.status != http.StatusOK {
			t.Errorf("timer %s: %d %s", c.raw, r.status, r.body)
			continue
		}
		inv, ok := srv.Lookup(testKey, m["foreign_id"].(string))
		if !ok || inv.Timer != c.timer {
			t.Errorf("timer %s: stored %v (found %v), want %v", c.raw, inv.Timer, ok, c.timer)
		}
	}
	for _, raw := range []string{`"true"`, `"false"`, `2`, `1.0`, `"yes"`, `[]`} {
		m := validBody("bad-timer")
		m["timer"] = json.RawMessage(raw)
		r := signed(t, base, "/invoices/create", encode(t, m))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"timer":"The timer field must be true or false."`) {
			t.Errorf("timer %s: %d %s", raw, r.status, r.body)
		}
	}
}

// TestBothSlashForms: /invoices/create/ and /invoices/X/cancel are routed like the
// documented /invoices/create and /invoices/X/cancel/.
func TestBothSlashForms(t *testing.T) {
	srv, base := start(t, emulator.Options{})
	for _, id := range []string{"plain", "slashed"} {
		path := "/invoices/create"
		if id == "slashed" {
			path += "/"
		}
		if r := signed(t, base, path, encode(t, validBody(id))); r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	for id, path := range map[string]string{"plain": "/invoices/plain/cancel/", "slashed": "/invoices/slashed/cancel"} {
		if r := signed(t, base, path, []byte(`{}`)); r.status != http.StatusOK || r.body != `[]` {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
		if inv, ok := srv.Lookup(testKey, id); !ok || inv.Status != "failed" {
			t.Errorf("%s: %+v %v", id, inv, ok)
		}
	}
}

// TestMerchantCurrencies: each merchant's account holds its own currencies; lists show
// them, and creates in another currency are refused with Laravel's "in" message.
func TestMerchantCurrencies(t *testing.T) {
	_, base := start(t, emulator.Options{Merchants: []emulator.Merchant{
		{Key: testKey, Secret: testSecret},
		{Key: "gbp-shop", Secret: "gbp-secret", Currencies: []string{"GBP", "JPY", "BTC"}},
	}})
	codes := func(key, secret, path string) string {
		r := signedAs(t, base, path, key, secret, []byte(`{}`))
		var out struct {
			Data []struct {
				Currency  string `json:"currency"`
				Precision *int   `json:"precision"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil || r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var cs []string
		for _, d := range out.Data {
			cs = append(cs, d.Currency)
		}
		return strings.Join(cs, ",")
	}
	if got := codes("gbp-shop", "gbp-secret", "/currencies/list"); got != "BTC,GBP,JPY" {
		t.Errorf("currencies/list of gbp-shop: %s", got)
	}
	if got := codes("gbp-shop", "gbp-secret", "/accounts/list"); got != "GBP,JPY,BTC" {
		t.Errorf("accounts/list of gbp-shop: %s", got)
	}
	if got := codes(testKey, testSecret, "/currencies/list"); !strings.Contains(got, "EUR") || strings.Contains(got, "GBP") {
		t.Errorf("the default merchant holds the documented codes: %s", got)
	}

	gbp := validBody("gbp-1")
	gbp["currency"] = "GBP"
	if r := signedAs(t, base, "/invoices/create", "gbp-shop", "gbp-secret", encode(t, gbp)); r.status != 200 {
		t.Errorf("GBP at gbp-shop: %d %s", r.status, r.body)
	}
	if r := signed(t, base, "/invoices/create", encode(t, gbp)); r.status != 400 || r.body != `{"errors":{"currency":"The selected currency is invalid."}}` {
		t.Errorf("GBP at the default merchant: %d %s", r.status, r.body)
	}
	eur := validBody("eur-1")
	if r := signedAs(t, base, "/invoices/create", "gbp-shop", "gbp-secret", encode(t, eur)); r.status != 400 || r.body != `{"errors":{"currency":"The selected currency is invalid."}}` {
		t.Errorf("EUR at gbp-shop: %d %s", r.status, r.body)
	}
	eth := validBody("eth-1")
	eth["currency"], eth["sender_currency"] = "GBP", "ETH"
	if r := signedAs(t, base, "/invoices/create", "gbp-shop", "gbp-secret", encode(t, eth)); r.status != 400 || !strings.Contains(r.body, `"sender_currency":"The selected sender currency is invalid."`) {
		t.Errorf("ETH at gbp-shop: %d %s", r.status, r.body)
	}
}

func TestCurrenciesFlag(t *testing.T) {
	var o emulator.Options
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	o.Bind(fs)
	if err := fs.Parse([]string{"-key=a", "-secret=x", "-key=b", "-secret=y", "-currencies=EUR,BTC", "-currencies=b:GBP,JPY"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := []string{strings.Join(o.Merchants[0].Currencies, ","), strings.Join(o.Merchants[1].Currencies, ",")}; got[0] != "EUR,BTC" || got[1] != "GBP,JPY" {
		t.Errorf("currencies: %q", got)
	}
	for _, bad := range [][]string{{"-currencies=EUR,XYZ"}, {"-currencies=nobody:EUR"}, {"-currencies=,"}, {"-currencies=eur"}} {
		var o emulator.Options
		fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
		o.Bind(fs)
		if err := fs.Parse(bad); err != nil {
			t.Fatal(err)
		}
		if err := o.Validate(); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}

func TestKnownCurrencies(t *testing.T) {
	_, base := start(t, emulator.Options{Merchants: []emulator.Merchant{{Key: testKey, Secret: testSecret, Currencies: emulator.KnownCurrencies()}}})
	r := signed(t, base, "/currencies/list", []byte(`{}`))
	for _, code := range []string{`"BTC"`, `"EUR"`, `"GBP"`, `"JPY"`, `"ZAR"`} {
		if !strings.Contains(r.body, code) {
			t.Errorf("%s missing: %s", code, r.body)
		}
	}
	if !strings.Contains(r.body, `"currency":"JPY","minimum_amount":"10","deposit_fee_percent":"0","withdrawal_fee_percent":"0","precision":0`) {
		t.Errorf("JPY has no minor unit: %s", r.body)
	}
}
