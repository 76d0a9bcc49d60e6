package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/api"
)

// FuzzDecode feeds arbitrary answers to the decoders (invoice, accounts, currencies, error
// answers): they must never panic, every decode failure has a message, and every error
// answer is a classified error value with a message that names the endpoint and never
// carries the secret.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		okInvoice,
		`{"data":{"id":"7","amount":1e-8,"foreign_id":196,"end_user_reference":12345}}`,
		`{"data":{"id":826901,"amount":"0.106.75000000","sender_type":natural}}`,
		`{"errors":{"foreign_id":"The foreign id has already been taken."}}`,
		`{"errors":{"error":"Invoice cannot be failed in its current state.","code":"invalid_invoice_state"}}`,
		`{"error":"Bad signature header","code":"bad_header_signature"}`,
		`{"errors": {"error code: 1015"}}`,
		`{"errors":{"title":["a","b"],"x":{"y":1}}}`,
		`[]`, `OK`, ``, `null`, `{"data":null}`, `{"errors":null}`, `{"errors":[]}`,
		`{"data":[{"currency":{"iso":"BTC","precision":8},"balance":"0.1"}]}`, `{"data":[{"iso":"EUR","precision":"x"}]}`,
	}
	for _, s := range seeds {
		for _, status := range []int{200, 201, 400, 403, 429, 500} {
			f.Add(status, s, "7")
		}
	}
	f.Fuzz(func(t *testing.T, status int, body string, retryAfter string) {
		if inv, err := api.DecodeInvoice([]byte(body)); err == nil && inv == nil {
			t.Fatal("nil invoice without an error")
		} else if err != nil && err.Error() == "" {
			t.Fatal("empty decode error")
		}
		if _, err := api.DecodeAccounts([]byte(body)); err != nil && err.Error() == "" {
			t.Fatal("empty accounts decode error")
		}
		if _, err := api.DecodeCurrencies([]byte(body)); err != nil && err.Error() == "" {
			t.Fatal("empty currencies decode error")
		}
		if status < 100 || status > 999 || status/100 == 2 {
			return // classify is only called for non-2xx answers
		}
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		redact := func(s string) string { return strings.ReplaceAll(s, leakySecret, "[redacted]") }
		for _, mutating := range []bool{true, false} {
			err := api.Classify("POST /invoices/create", status, h, []byte(body+leakySecret), mutating, redact)
			if err == nil {
				t.Fatalf("status %d: no error", status)
			}
			msg := err.Error()
			if !strings.Contains(msg, "POST /invoices/create") || strings.Contains(msg, leakySecret) {
				t.Fatalf("status %d: bad message %q", status, msg)
			}
			if o := api.OutcomeOf(err); o < api.Definite || o > api.Fatal {
				t.Fatalf("status %d: outcome %v", status, o)
			}
		}
	})
}
