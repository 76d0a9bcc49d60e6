package invoice_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/invoice"
)

func fullRequest() invoice.Request {
	return invoice.Request{
		Timer: true, Title: "Invoice <Title> & more", Description: "Line 1\nLine \"2\" \u2028",
		Currency: "EUR", SenderCurrency: "BTC", Amount: invoice.MustParseAmount("106.75"), ForeignID: "user_196",
		EndUserReference: "12345", URLSuccess: "https://shop.example.com/ok?a=1&b=2", URLFailed: "https://shop.example.com/failed",
		EmailUser: "buyer@example.com", Type: "fill_or_kill", SenderType: "natural",
		SenderData: &invoice.SenderData{FirstName: "Friedrich", LastName: "Müller", DateOfBirth: "1995-08-17"},
	}
}

func TestEncodeCanonicalForm(t *testing.T) {
	one := invoice.MustParseAmount("1")
	cases := []struct {
		name string
		req  invoice.Request
		want string
	}{
		{"every field, HTML and non-ASCII kept", fullRequest(),
			`{"timer":true,"title":"Invoice <Title> & more","description":"Line 1\nLine \"2\" \u2028","currency":"EUR","sender_currency":"BTC","amount":106.75,"foreign_id":"user_196","end_user_reference":"12345","url_success":"https://shop.example.com/ok?a=1&b=2","url_failed":"https://shop.example.com/failed","email_user":"buyer@example.com","type":"fill_or_kill","sender_type":"natural","sender_data":{"first_name":"Friedrich","last_name":"Müller","date_of_birth":"1995-08-17"}}`},
		{"optional fields and an empty sender_data left out", invoice.Request{Title: "T", Currency: "EUR", Amount: invoice.MustParseAmount("10.00"), ForeignID: "f", EndUserReference: "e", URLSuccess: "https://s.example", URLFailed: "https://f.example", EmailUser: "a@b.example", SenderData: &invoice.SenderData{}},
			`{"timer":false,"title":"T","currency":"EUR","amount":10,"foreign_id":"f","end_user_reference":"e","url_success":"https://s.example","url_failed":"https://f.example","email_user":"a@b.example"}`},
		{"required fields written even when empty", invoice.Request{Amount: invoice.MustParseAmount("0.00000001")},
			`{"timer":false,"title":"","currency":"","amount":0.00000001,"foreign_id":"","end_user_reference":"","url_success":"","url_failed":"","email_user":""}`},
		{"legal sender data in order", invoice.Request{Amount: one, SenderType: "legal", SenderData: &invoice.SenderData{CountryOfRegistration: "DEU", Email: "ap@acme.example", LegalName: "ACME"}},
			`{"timer":false,"title":"","currency":"","amount":1,"foreign_id":"","end_user_reference":"","url_success":"","url_failed":"","email_user":"","sender_type":"legal","sender_data":{"email":"ap@acme.example","legal_name":"ACME","country_of_registration":"DEU"}}`},
		{"control characters as \\u00XX, U+2028/9 escaped, invalid UTF-8 replaced", invoice.Request{Amount: one, Title: "a\bb\fc\x00d\x1fe\u2029f\xffg\\h"},
			`{"timer":false,"title":"a\u0008b\u000cc\u0000d\u001fe\u2029f\ufffdg\\h","currency":"","amount":1,"foreign_id":"","end_user_reference":"","url_success":"","url_failed":"","email_user":""}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.req.Encode()
			if string(got) != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if !json.Valid(got) {
				t.Fatal("not valid JSON")
			}
		})
	}
}

// TestEncodeReadsBackExactly: every string and the amount survive a round trip through an
// independent JSON decoder, for requests with awkward text.
func TestEncodeReadsBackExactly(t *testing.T) {
	for _, s := range []string{"plain", "quote \" back \\ slash", "tab\tnew\nline\rcr", "ctl \b\f\x01\x7f", "é ü 日本 🙂", "\u2028\u2029", "<b>&amp;</b>"} {
		for _, amount := range []string{"0.5", "106.75", "100", "123456789012345678901234.12345678", "0.00000001"} {
			r := fullRequest()
			r.Title, r.Description, r.Amount = s, s+"!", invoice.MustParseAmount(amount)
			dec := json.NewDecoder(strings.NewReader(string(r.Encode())))
			dec.UseNumber()
			var got struct {
				Title, Description string
				Amount             json.Number
			}
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			if got.Title != s || got.Description != s+"!" || got.Amount.String() != r.Amount.String() {
				t.Errorf("%q %s read back as %q %q %s", s, amount, got.Title, got.Description, got.Amount)
			}
		}
	}
}

func TestHash(t *testing.T) {
	body := ptr(fullRequest()).Encode()
	h := invoice.Hash(body)
	if len(h) != 64 || strings.ToLower(h) != h {
		t.Fatalf("Hash = %q, want 64 lowercase hex digits", h)
	}
	if !invoice.HashMatches(body, h) || invoice.HashMatches(append(body, ' '), h) || invoice.HashMatches(body, strings.ToUpper(h)) {
		t.Error("HashMatches disagrees with Hash")
	}
	// The SHA-256 of the empty string: the hash of a record adopted without a body.
	if got := invoice.Hash(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("Hash(nil) = %s", got)
	}
}

func TestRequestHidesPersonalData(t *testing.T) {
	r := fullRequest()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, r) + fmt.Sprintf(verb, &r) + fmt.Sprintf(verb, r.SenderData) + fmt.Sprintf(verb, *r.SenderData)
		for _, personal := range []string{"buyer@example.com", "Müller", "1995-08-17"} {
			if strings.Contains(out, personal) {
				t.Errorf("%s prints %s: %s", verb, personal, out)
			}
		}
		if !strings.Contains(out, "user_196") || !strings.Contains(out, "106.75") {
			t.Errorf("%s hides the foreign_id or amount too: %s", verb, out)
		}
	}
}
