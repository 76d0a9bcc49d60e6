package invoice_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/invoice"
)

func TestRedactBody(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"title":"T","email_user":"a@b.example","sender_data":{"first_name":"F"},"amount":10.50}`,
			`{"title":"T","email_user":"(sensitive)","sender_data":"(sensitive)","amount":10.50}`},
		{`{"title":"no personal data"}`, `{"title":"no personal data"}`},
		{`{}`, `{}`},
		{``, ``},
		// What cannot be parsed cannot be known to be harmless: replaced whole.
		{`not json buyer@example.com`, `"(sensitive)"`},
		{`["buyer@example.com"]`, `"(sensitive)"`},
		{`{"email_user":"buyer@example.com"`, `"(sensitive)"`},
	}
	for _, c := range cases {
		if got := string(invoice.RedactBody([]byte(c.in))); got != c.want {
			t.Errorf("RedactBody(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestMoney(t *testing.T) {
	cases := []struct {
		body, cur, amount string
		ok                bool
	}{
		{string(ptr(fullRequest()).Encode()), "EUR", "106.75", true},
		{`{"currency":"BTC","amount":0.00000001}`, "BTC", "0.00000001", true},
		{`{"currency":"EUR","amount":100.00}`, "EUR", "100", true},
		{`{"currency":"EUR","amount":1e3}`, "", "0", false},
		{`{"currency":"EUR","amount":"10"}`, "EUR", "10", true}, // json.Number reads a quoted number too
		{`{"amount":10}`, "", "0", false},
		{`{"currency":"EUR"}`, "", "0", false},
		{`not json`, "", "0", false},
		{``, "", "0", false},
	}
	for _, c := range cases {
		cur, a, ok := invoice.Money([]byte(c.body))
		if cur != c.cur || a.String() != c.amount || ok != c.ok {
			t.Errorf("Money(%s) = %q %s %t, want %q %s %t", c.body, cur, a, ok, c.cur, c.amount, c.ok)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct{ cur, amount, want string }{
		{"EUR", "1234.5", "1,234.50"},
		{"EUR", "0.1", "0.10"},
		{"BTC", "0.5", "0.50000000"},
		{"USDTT", "1000000", "1,000,000.00000000"},
		{"EUR", "1.005", "1.005"}, // never rounded
		{"XYZ", "12.5", "12.5"},   // unknown: as it is
		{"JPY", "1500", "1,500"},
		{"JPY", "1500.5", "1,500.5"}, // too precise for yen, but never rounded
		{"BHD", "12.5", "12.500"},
		{"KWD", "1000", "1,000.000"},
		{"CLF", "2.5", "2.5000"},
		{"GBP", "7", "7.00"},
	} {
		if got := invoice.FormatMoney(c.cur, invoice.MustParseAmount(c.amount)); got != c.want {
			t.Errorf("FormatMoney(%s, %s) = %s, want %s", c.cur, c.amount, got, c.want)
		}
	}
}

// TestEncodeRedacted: the fast redaction from typed fields writes what RedactBody writes from
// the encoded body, for random requests with and without personal data.
func TestEncodeRedacted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		r := randomRequest(rng, i)
		want := invoice.RedactBody(r.Encode())
		if got := r.EncodeRedacted(); string(got) != string(want) {
			t.Fatalf("request %d:\nEncodeRedacted %s\nRedactBody     %s", i, got, want)
		}
		if !json.Valid(want) || strings.Contains(string(want), "@example") {
			t.Fatalf("request %d: redacted body %s", i, want)
		}
	}
}

func randomRequest(rng *rand.Rand, i int) invoice.Request {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	r := invoice.Request{
		Timer: rng.IntN(2) == 0, Title: pick("T", "quote \" and \\", "tab\t", "ünï", "\u2028"), Description: pick("", "d"),
		Currency: pick("EUR", "BTC", "USD"), Amount: invoice.MustParseAmount(pick("1", "10.5", "0.00000001", "99999.99")),
		ForeignID: "id-" + strings.Repeat("x", i%7), EndUserReference: "e", URLSuccess: "https://s.example", URLFailed: "https://f.example",
		EmailUser: pick("a@example.com", ""), Type: pick("", invoice.TypeFillOrKill), SenderType: pick("", invoice.SenderNatural, invoice.SenderLegal),
	}
	switch rng.IntN(3) {
	case 1:
		r.SenderData = &invoice.SenderData{FirstName: "F", LastName: "L", DateOfBirth: "1990-01-01", Email: pick("", "p@example.com")}
	case 2:
		r.SenderData = &invoice.SenderData{}
	}
	return r
}
func ptr[T any](v T) *T { return &v }
