package api_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/api"
)

func i64(v int64) *int64 { return &v }

// TestDecodeCreateAnswers serves each documented success shape and inconsistency ("Creating an invoice",
// "Where the docs disagree" of the reference) over real HTTP and checks what CreateInvoice makes of it.
func TestDecodeCreateAnswers(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   *api.Invoice
	}{
		{"current docs example (S1), 200", 200, okInvoice, &api.Invoice{
			ID: 826900, URL: "https://invoices.sandbox.cryptoprocessing.com/invoice/Jyf1cQ", ForeignID: "order-0344",
			EndUserReference: "12345", Title: "Invoice Title", Status: "created", Currency: "EUR", Amount: "100.00000000",
		}},
		{"201 Created (docs disagree)", 201, okInvoice, &api.Invoice{
			ID: 826900, URL: "https://invoices.sandbox.cryptoprocessing.com/invoice/Jyf1cQ", ForeignID: "order-0344",
			EndUserReference: "12345", Title: "Invoice Title", Status: "created", Currency: "EUR", Amount: "100.00000000",
		}},
		{"broken S4 example: amount with two dots, number end_user_reference, address on type 1 (docs disagree)", 200,
			`{"data":{"id":826901,"url":"https://wallet.coinspaid.com/invoice/RB9NZv","foreign_id":"user_196","end_user_reference":12345,"address":"3Ls1wkZ","title":"Invoice 171","status":"created","currency":"EUR","amount":"0.106.75000000","sender_currency":null,"sender_amount":null,"fixed_at":null,"release_at":null,"seconds_left":null}}`,
			&api.Invoice{ID: 826901, URL: "https://wallet.coinspaid.com/invoice/RB9NZv", ForeignID: "user_196", EndUserReference: "12345",
				Address: "3Ls1wkZ", Title: "Invoice 171", Status: "created", Currency: "EUR", Amount: "0.106.75000000"}},
		{"2020 shape: name for title, numeric foreign_id, pending timer invoice (docs disagree)", 200,
			`{"data":{"id":164,"url":"https://app.coinspaid.com/invoice/abcdef","foreign_id":196,"name":"Old title","status":"pending","currency":"EUR","amount":"106.75000000","sender_currency":"BTC","sender_amount":"0.01060080","fixed_at":1700000000,"release_at":1700000900,"seconds_left":899}}`,
			&api.Invoice{ID: 164, URL: "https://app.coinspaid.com/invoice/abcdef", ForeignID: "196", Title: "Old title", Status: "pending",
				Currency: "EUR", Amount: "106.75000000", SenderCurrency: "BTC", SenderAmount: "0.01060080",
				FixedAt: i64(1700000000), ReleaseAt: i64(1700000900), SecondsLeft: i64(899)}},
		{"amounts as numbers keep their exact text, never float64", 200,
			`{"data":{"id":"7","amount":106.75000000000000001,"sender_amount":1e-8,"fixed_at":"1700000000","seconds_left":"899","unknown":{"deep":[1,2]}}}`,
			&api.Invoice{ID: 7, Amount: "106.75000000000000001", SenderAmount: "1e-8", FixedAt: i64(1700000000), SecondsLeft: i64(899)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, endpoint := newRecorder(t, func(*http.Request) (int, string) { return c.status, c.body })
			got, err := newClient(t, endpoint).CreateInvoice(context.Background(), []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Fatalf("invoice (-want +got):\n%s", d)
			}
		})
	}
}

func TestUnreadableSuccessIsUncertain(t *testing.T) {
	bodies := map[string]string{
		"empty":                  ``,
		"HTML":                   `<html>OK</html>`,
		"cancel answer":          `[]`,
		"no data":                `{"result":{"id":1}}`,
		"data null":              `{"data":null}`,
		"data a list":            `{"data":[{"id":1}]}`,
		"id missing":             `{"data":{"url":"https://x.example/invoice/abcdef"}}`,
		"id fractional":          `{"data":{"id":1.5}}`,
		"id too large":           `{"data":{"id":99999999999999999999}}`,
		"id a word":              `{"data":{"id":"abc"}}`,
		"url an object":          `{"data":{"id":1,"url":{"href":"x"}}}`,
		"fixed_at a float":       `{"data":{"id":1,"fixed_at":1.5}}`,
		"amount a boolean":       `{"data":{"id":1,"amount":true}}`,
		"truncated":              `{"data":{"id":1,`,
		"the 429 non-JSON shape": `{"errors": {"error code: 1015"}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			_, endpoint := newRecorder(t, func(*http.Request) (int, string) { return 200, body })
			_, err := newClient(t, endpoint).CreateInvoice(context.Background(), []byte(`{}`))
			var re *api.ResponseError
			if !errors.As(err, &re) || api.OutcomeOf(err) != api.Uncertain || re.Status != 200 {
				t.Fatalf("got %v (outcome %v), want an uncertain ResponseError", err, api.OutcomeOf(err))
			}
			if !strings.Contains(err.Error(), "POST /invoices/create") || !strings.Contains(err.Error(), "already been taken") {
				t.Errorf("message lacks the endpoint or the hint: %v", err)
			}
		})
	}
}

// TestErrorClassification serves every documented error (and the undocumented statuses of
// "Error answers") and checks the typed error, its outcome and its message.
func TestErrorClassification(t *testing.T) {
	type check func(t *testing.T, err error)
	auth := func(code string, hint string) check {
		return func(t *testing.T, err error) {
			var e *api.AuthError
			if !errors.As(err, &e) || e.Code != code || !strings.Contains(err.Error(), hint) {
				t.Fatalf("want AuthError %s with hint %q, got %v", code, hint, err)
			}
		}
	}
	cases := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		outcome api.Outcome
		retry   bool
		check   check
		inMsg   []string
	}{
		{name: "403 required_header_key", status: 403, body: `{"error":"No key header","code":"required_header_key"}`, outcome: api.Fatal,
			check: auth("required_header_key", "key header was missing"), inMsg: []string{"HTTP 403", "POST /invoices/create"}},
		{name: "403 bad_header_key", status: 403, body: `{"error":"Bad key header","code":"bad_header_key"}`, outcome: api.Fatal,
			check: auth("bad_header_key", "not known at this endpoint")},
		{name: "403 required_header_signature", status: 403, body: `{"error":"No signature header","code":"required_header_signature"}`, outcome: api.Fatal,
			check: auth("required_header_signature", "bug")},
		{name: "403 bad_header_signature", status: 403, body: `{"error":"Bad signature header","code":"bad_header_signature"}`, outcome: api.Fatal,
			check: auth("bad_header_signature", "signature does not match")},
		{name: "403 HTML from a firewall", status: 403, body: `<html>Forbidden</html>`, outcome: api.Fatal,
			check: auth("", "IP whitelist")},
		{name: "401", status: 401, body: `{"message":"Unauthenticated."}`, outcome: api.Fatal, check: auth("", "access was refused")},
		{name: "400 bad_content_format", status: 400, body: `{"error":"Bad content format","code":"bad_content_format"}`, outcome: api.Definite,
			check: func(t *testing.T, err error) {
				var e *api.BusinessError
				if !errors.As(err, &e) || e.Code != "bad_content_format" || e.Message != "Bad content format" {
					t.Fatalf("got %v", err)
				}
			}, inMsg: []string{"bug in invoiceform"}},
		{name: "400 duplicate foreign_id", status: 400, body: `{"errors":{"foreign_id":"The foreign id has already been taken."}}`, outcome: api.Definite,
			check: func(t *testing.T, err error) {
				var e *api.ValidationError
				if !errors.Is(err, api.ErrAlreadyTaken) || !errors.As(err, &e) || e.Fields["foreign_id"] != "The foreign id has already been taken." {
					t.Fatalf("got %v", err)
				}
			}, inMsg: []string{"already exists"}},
		{name: "400 validation, not a duplicate", status: 400, body: `{"errors":{"amount":"The amount is too small. The minimum amount is 10.00 EUR.","title":["The title field is required."]}}`, outcome: api.Definite,
			check: func(t *testing.T, err error) {
				var e *api.ValidationError
				want := map[string]string{"amount": "The amount is too small. The minimum amount is 10.00 EUR.", "title": "The title field is required."}
				if errors.Is(err, api.ErrAlreadyTaken) || !errors.As(err, &e) || !cmp.Equal(e.Fields, want) {
					t.Fatalf("got %v", err)
				}
			}, inMsg: []string{"minimum amount is 10.00 EUR", "fix the invoice"}},
		{name: "400 other message on foreign_id is not a duplicate", status: 400, body: `{"errors":{"foreign_id":"The foreign id field is required."}}`, outcome: api.Definite,
			check: func(t *testing.T, err error) {
				if errors.Is(err, api.ErrAlreadyTaken) {
					t.Fatal("matched ErrAlreadyTaken")
				}
			}},
		{name: "400 invalid_invoice_state (nested envelope)", status: 400, body: `{"errors":{"error":"Invoice cannot be failed in its current state.","code":"invalid_invoice_state"}}`, outcome: api.Definite,
			check: func(t *testing.T, err error) {
				var e *api.BusinessError
				if !errors.Is(err, api.ErrInvalidInvoiceState) || !errors.As(err, &e) || e.Message != "Invoice cannot be failed in its current state." {
					t.Fatalf("got %v", err)
				}
			}},
		{name: "400 invoice_not_found", status: 400, body: `{"errors":{"error":"Invoice not found.","code":"invoice_not_found"}}`, outcome: api.Definite,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, api.ErrInvoiceNotFound) || errors.Is(err, api.ErrInvalidInvoiceState) {
					t.Fatalf("got %v", err)
				}
			}},
		{name: "400 not JSON", status: 400, body: `Bad Request`, outcome: api.Uncertain,
			check: func(t *testing.T, err error) {
				var e *api.HTTPError
				if !errors.As(err, &e) || e.Body != "Bad Request" {
					t.Fatalf("got %v", err)
				}
			}},
		{name: "400 empty errors", status: 400, body: `{"errors":{}}`, outcome: api.Uncertain,
			check: func(t *testing.T, err error) {
				var e *api.HTTPError
				if !errors.As(err, &e) {
					t.Fatalf("got %v", err)
				}
			}},
		{name: "429 documented invalid JSON body, Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"errors": {"error code: 1015"}}`, outcome: api.Definite, retry: true,
			check: func(t *testing.T, err error) {
				var e *api.RateLimitError
				if !errors.As(err, &e) || e.RetryAfter != 7*time.Second || e.Body != `{"errors": {"error code: 1015"}}` {
					t.Fatalf("got %#v", err)
				}
			}, inMsg: []string{"retry after 7s"}},
		{name: "429 Retry-After HTTP-date", status: 429, header: map[string]string{"Retry-After": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, outcome: api.Definite, retry: true,
			check: func(t *testing.T, err error) {
				var e *api.RateLimitError
				if !errors.As(err, &e) || e.RetryAfter <= 58*time.Minute || e.RetryAfter > time.Hour {
					t.Fatalf("got %v", err)
				}
			}},
		{name: "429 without Retry-After", status: 429, outcome: api.Definite, retry: true,
			check: func(t *testing.T, err error) {
				var e *api.RateLimitError
				if !errors.As(err, &e) || e.RetryAfter != 0 {
					t.Fatalf("got %v", err)
				}
			}, inMsg: []string{"no Retry-After"}},
		{name: "429 garbage Retry-After", status: 429, header: map[string]string{"Retry-After": "soon"}, outcome: api.Definite, retry: true,
			check: func(t *testing.T, err error) {
				var e *api.RateLimitError
				if !errors.As(err, &e) || e.RetryAfter != 0 {
					t.Fatalf("got %v", err)
				}
			}},
		{name: "500 on create", status: 500, body: `{"message":"Server Error"}`, outcome: api.Uncertain, retry: true,
			check: func(t *testing.T, err error) {
				var e *api.ServerError
				if !errors.As(err, &e) || e.Status != 500 {
					t.Fatalf("got %v", err)
				}
			}, inMsg: []string{"resend the same body"}},
		{name: "502 HTML on create", status: 502, body: `<html>Bad Gateway</html>`, outcome: api.Uncertain, retry: true},
		{name: "404 unknown", status: 404, body: `<html>Not Found</html>`, outcome: api.Uncertain,
			check: func(t *testing.T, err error) {
				var e *api.HTTPError
				if !errors.As(err, &e) || e.Status != 404 {
					t.Fatalf("got %v", err)
				}
			}, inMsg: []string{"check the endpoint"}},
		{name: "422 unknown 4xx", status: 422, body: strings.Repeat("x", 5000), outcome: api.Uncertain,
			check: func(t *testing.T, err error) {
				if len(err.Error()) > 1000 {
					t.Fatalf("body not truncated: %d bytes", len(err.Error()))
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			endpoint := headerServer(t, c.status, c.header, c.body)
			_, err := newClient(t, endpoint).CreateInvoice(context.Background(), []byte(`{}`))
			if err == nil {
				t.Fatal("no error")
			}
			if got := api.OutcomeOf(err); got != c.outcome {
				t.Errorf("outcome %v, want %v (%v)", got, c.outcome, err)
			}
			if got := api.Retryable(err); got != c.retry {
				t.Errorf("retryable %t, want %t", got, c.retry)
			}
			if c.check != nil {
				c.check(t, err)
			}
			for _, s := range append(c.inMsg, "api: ", "HTTP ") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestServerErrorOnReadsIsDefinite(t *testing.T) {
	_, endpoint := newRecorder(t, func(*http.Request) (int, string) { return 503, "down" })
	_, err := newClient(t, endpoint).Accounts(context.Background())
	if api.OutcomeOf(err) != api.Definite || !api.Retryable(err) {
		t.Fatalf("accounts 503: %v (outcome %v)", err, api.OutcomeOf(err))
	}
}

func TestOutcomeOfForeignErrors(t *testing.T) {
	if api.OutcomeOf(nil) != 0 || api.OutcomeOf(errors.New("x")) != api.Uncertain {
		t.Fatal("nil must be 0, a foreign error Uncertain")
	}
	for o, s := range map[api.Outcome]string{api.Definite: "definite", api.Uncertain: "uncertain", api.Fatal: "fatal", 9: "Outcome(9)"} {
		if o.String() != s {
			t.Errorf("%d.String() = %q", int(o), o.String())
		}
	}
}

func TestDecodeListAnswers(t *testing.T) {
	_, endpoint := newRecorder(t, func(r *http.Request) (int, string) {
		if strings.HasSuffix(r.URL.Path, "accounts/list") {
			return 200, `{"data":[{"currency":"EUR","type":"fiat","balance":"5973.97568920"},{"currency":"BTC","type":"crypto","balance":0.5}]}`
		}
		return 200, `{"data":[{"id":1,"type":"crypto","currency":"BTC","minimum_amount":"0.001","deposit_fee_percent":"0.99","withdrawal_fee_percent":"0","precision":8}]}`
	})
	c := newClient(t, endpoint)
	accs, err := c.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]api.Account{{"EUR", "fiat", "5973.97568920"}, {"BTC", "crypto", "0.5"}}, accs); d != "" {
		t.Fatalf("accounts (-want +got):\n%s", d)
	}
	curs, err := c.Currencies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]api.Currency{{ID: 1, Type: "crypto", Currency: "BTC", MinimumAmount: "0.001", DepositFeePercent: "0.99", WithdrawalFeePercent: "0", Precision: 8}}, curs); d != "" {
		t.Fatalf("currencies (-want +got):\n%s", d)
	}

	_, bad := newRecorder(t, func(*http.Request) (int, string) { return 200, `{"data":{}}` })
	if _, err := newClient(t, bad).Accounts(context.Background()); api.OutcomeOf(err) != api.Definite {
		t.Fatalf("bad accounts answer: %v", err)
	}
	_, pingBad := newRecorder(t, func(*http.Request) (int, string) { return 200, "NOPE" })
	var re *api.ResponseError
	if err := newClient(t, pingBad).Ping(context.Background()); !errors.As(err, &re) {
		t.Fatalf("ping answered NOPE: %v", err)
	}
}

// headerServer answers with fixed headers, status and body.
func headerServer(t *testing.T, status int, header map[string]string, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v2"
}
