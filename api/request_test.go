package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/api"
)

func fullRequest() api.CreateRequest {
	return api.CreateRequest{
		Timer: true, Title: "Invoice <Title> & more", Description: "Line 1\nLine \"2\" \u2028",
		Currency: "EUR", SenderCurrency: "BTC", Amount: "106.75", ForeignID: "user_196",
		EndUserReference: "12345", URLSuccess: "https://shop.example.com/ok?a=1&b=2", URLFailed: "https://shop.example.com/failed",
		EmailUser: "buyer@example.com", Type: "fill_or_kill", SenderType: "natural",
		SenderData: &api.SenderData{FirstName: "Friedrich", LastName: "Müller", DateOfBirth: "1995-08-17"},
	}
}

func TestEncodeCanonicalForm(t *testing.T) {
	cases := []struct {
		name string
		req  api.CreateRequest
		want string
	}{
		{"every field, HTML and non-ASCII kept", fullRequest(),
			`{"timer":true,"title":"Invoice <Title> & more","description":"Line 1\nLine \"2\" \u2028","currency":"EUR","sender_currency":"BTC","amount":106.75,"foreign_id":"user_196","end_user_reference":"12345","url_success":"https://shop.example.com/ok?a=1&b=2","url_failed":"https://shop.example.com/failed","email_user":"buyer@example.com","type":"fill_or_kill","sender_type":"natural","sender_data":{"first_name":"Friedrich","last_name":"Müller","date_of_birth":"1995-08-17"}}`},
		{"optional fields left out", api.CreateRequest{Title: "T", Currency: "EUR", Amount: "10", ForeignID: "f", EndUserReference: "e", URLSuccess: "https://s.example", URLFailed: "https://f.example", EmailUser: "a@b.example", SenderData: &api.SenderData{}},
			`{"timer":false,"title":"T","currency":"EUR","amount":10,"foreign_id":"f","end_user_reference":"e","url_success":"https://s.example","url_failed":"https://f.example","email_user":"a@b.example"}`},
		{"required fields written even when empty", api.CreateRequest{Amount: "0.00000001"},
			`{"timer":false,"title":"","currency":"","amount":0.00000001,"foreign_id":"","end_user_reference":"","url_success":"","url_failed":"","email_user":""}`},
		{"legal sender data in order", api.CreateRequest{Amount: "1", SenderType: "legal", SenderData: &api.SenderData{CountryOfRegistration: "DEU", Email: "ap@acme.example", LegalName: "ACME"}},
			`{"timer":false,"title":"","currency":"","amount":1,"foreign_id":"","end_user_reference":"","url_success":"","url_failed":"","email_user":"","sender_type":"legal","sender_data":{"email":"ap@acme.example","legal_name":"ACME","country_of_registration":"DEU"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.req.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			if !json.Valid(got) {
				t.Fatal("not valid JSON")
			}
		})
	}
}

func TestEncodeAmountIsExact(t *testing.T) {
	for _, amount := range []string{"0", "0.5", "106.75", "100.00000000", "123456789012345678901234567890.12345678"} {
		r := api.CreateRequest{Amount: amount}
		b, err := r.Encode()
		if err != nil {
			t.Fatalf("%s: %v", amount, err)
		}
		if !strings.Contains(string(b), `"amount":`+amount+`,`) {
			t.Errorf("%s not written verbatim: %s", amount, b)
		}
		// A JSON decoder keeping numbers as text reads back the same digits.
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		var all map[string]any
		if err := dec.Decode(&all); err != nil {
			t.Fatal(err)
		}
		if all["amount"].(json.Number).String() != amount {
			t.Errorf("%s read back as %v", amount, all["amount"])
		}
	}
	for _, bad := range []string{"", "1e5", "-1", "+1", "1.", ".5", "1,5", "007.5", "0x10", "NaN", " 1", "1.5.2", "１"} {
		r := api.CreateRequest{Amount: bad}
		if _, err := r.Encode(); err == nil || !strings.Contains(err.Error(), "plain decimal") {
			t.Errorf("amount %q: error %v", bad, err)
		}
	}
}

func TestCreateRequestHidesPersonalData(t *testing.T) {
	r := fullRequest()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, r) + fmt.Sprintf(verb, &r) + fmt.Sprintf(verb, r.SenderData) + fmt.Sprintf(verb, *r.SenderData)
		for _, personal := range []string{"buyer@example.com", "Müller", "1995-08-17"} {
			if strings.Contains(out, personal) {
				t.Errorf("%s prints %s: %s", verb, personal, out)
			}
		}
		if !strings.Contains(out, "user_196") {
			t.Errorf("%s hides the foreign_id too: %s", verb, out)
		}
	}
}
