package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/emulator"
)

// The documented error bodies, written out here independently of the emulator's source.
const (
	requiredHeaderKey       = `{"error":"No key header","code":"required_header_key"}`
	badHeaderKey            = `{"error":"Bad key header","code":"bad_header_key"}`
	requiredHeaderSignature = `{"error":"No signature header","code":"required_header_signature"}`
	badHeaderSignature      = `{"error":"Bad signature header","code":"bad_header_signature"}`
	badContentFormat        = `{"error":"Bad content format","code":"bad_content_format"}`
	foreignIDTaken          = `{"errors":{"foreign_id":"The foreign id has already been taken."}}`
	invalidInvoiceState     = `{"errors":{"error":"Invoice cannot be failed in its current state.","code":"invalid_invoice_state"}}`
	invoiceNotFound         = `{"errors":{"error":"Invoice not found.","code":"invoice_not_found"}}`
)

func TestPingNeedsNoHeaders(t *testing.T) {
	_, base := start(t, emulator.Options{})
	r := call(t, http.MethodGet, base+"/ping", nil, nil)
	if r.status != http.StatusOK || r.body != "OK" {
		t.Fatalf("GET /ping = %d %q, want 200 OK", r.status, r.body)
	}
}

// TestDocumentedSignatureVector checks the emulator against the reference's own test vector,
// not against a signature this test computed.
func TestDocumentedSignatureVector(t *testing.T) {
	_, base := start(t, emulator.Options{Merchants: []emulator.Merchant{{Key: "k", Secret: "AbCdEfG123456"}}})
	const sig = "03c25fcf7cd35e7d995e402cd5d51edd72d48e1471e865907967809a0c189ba55b90815f20e2bb10f82c7a9e9d865546fda58989c2ae9e8e2ff7bc29195fa1ec"
	r := call(t, http.MethodPost, base+"/accounts/list", map[string]string{
		"Content-Type": "application/json", "X-Processing-Key": "k", "X-Processing-Signature": sig,
	}, []byte(`{"currency":"BTC","foreign_id":"123456"}`))
	if r.status != http.StatusOK {
		t.Fatalf("documented vector refused: %d %s", r.status, r.body)
	}
	const emptyObjectSig = "89ff570683bfcd9e2c8911332e07e3ff196ca50f91faef98126fb0eb76df90d7ccddc4372a99ba67ec072fd3aac5d0b7eac44652e2b29ce36dbcf5ee50b6fa05"
	r = call(t, http.MethodPost, base+"/accounts/list", map[string]string{
		"Content-Type": "application/json", "X-Processing-Key": "k", "X-Processing-Signature": emptyObjectSig,
	}, []byte(`{}`))
	if r.status != http.StatusOK {
		t.Fatalf("vector for {} refused: %d %s", r.status, r.body)
	}
}

// TestCheckOrder sends requests that fail several checks at once; the answer names the
// first failing check in the reference's order.
func TestCheckOrder(t *testing.T) {
	_, base := start(t, emulator.Options{})
	good := []byte(`{}`)
	sig := signHex(testSecret, good)
	cases := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    []byte
		status  int
		want    string
	}{
		{"unknown path even with good auth", "POST", "/invoices/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": sig}, good, 403, requiredHeaderKey},
		{"GET on a POST endpoint", "GET", "/accounts/list", map[string]string{"X-Processing-Key": testKey, "X-Processing-Signature": sig}, nil, 403, requiredHeaderKey},
		{"cancel with a slash too many", "POST", "/invoices/x/cancel//", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": sig}, good, 403, requiredHeaderKey},
		{"no key, no signature, bad JSON", "POST", "/accounts/list", map[string]string{"Content-Type": "text/plain"}, []byte(`{`), 403, requiredHeaderKey},
		{"unknown key and no signature", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": "nobody"}, good, 403, badHeaderKey},
		{"unknown key with a valid signature", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": "nobody", "X-Processing-Signature": sig}, good, 403, badHeaderKey},
		{"known key, no signature", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey}, good, 403, requiredHeaderSignature},
		{"bad signature and bad JSON", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": signHex(testSecret, []byte("{}x"))}, []byte(`{`), 403, badHeaderSignature},
		{"signature of other bytes", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": signHex(testSecret, []byte(`{ }`))}, good, 403, badHeaderSignature},
		{"signature with the wrong secret", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": signHex("other", good)}, good, 403, badHeaderSignature},
		{"uppercase hex signature", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": strings.ToUpper(sig)}, good, 403, badHeaderSignature},
		{"good signature, wrong content type", "POST", "/accounts/list", map[string]string{"Content-Type": "text/plain", "X-Processing-Key": testKey, "X-Processing-Signature": sig}, good, 400, badContentFormat},
		{"good signature, no content type", "POST", "/accounts/list", map[string]string{"X-Processing-Key": testKey, "X-Processing-Signature": sig}, good, 400, badContentFormat},
		{"good signature over invalid JSON", "POST", "/invoices/create", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": signHex(testSecret, []byte(`{"timer":`))}, []byte(`{"timer":`), 400, badContentFormat},
		{"good signature over empty body", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": signHex(testSecret, nil)}, nil, 400, badContentFormat},
		{"JSON scalar body", "POST", "/invoices/create", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": signHex(testSecret, []byte(`"x"`))}, []byte(`"x"`), 400, badContentFormat},
		{"trailing garbage after JSON", "POST", "/accounts/list", map[string]string{"Content-Type": "application/json", "X-Processing-Key": testKey, "X-Processing-Signature": signHex(testSecret, []byte(`{}{}`))}, []byte(`{}{}`), 400, badContentFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, c.method, base+c.path, c.headers, c.body)
			if r.status != c.status || r.body != c.want {
				t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, c.status, c.want)
			}
		})
	}
}

func TestContentTypeWithCharsetIsAccepted(t *testing.T) {
	_, base := start(t, emulator.Options{})
	body := []byte(`{}`)
	r := call(t, http.MethodPost, base+"/accounts/list", map[string]string{
		"Content-Type": "application/json; charset=utf-8", "X-Processing-Key": testKey, "X-Processing-Signature": signHex(testSecret, body),
	}, body)
	if r.status != http.StatusOK {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestOversizedBodyIsBadContentFormat(t *testing.T) {
	_, base := start(t, emulator.Options{})
	body := []byte(`{"title":"` + strings.Repeat("a", 1<<20) + `"}`)
	r := signed(t, base, "/invoices/create", body)
	if r.status != 400 || r.body != badContentFormat {
		t.Fatalf("got %d %.200s", r.status, r.body)
	}
}

var invoiceURL = regexp.MustCompile(`^https://[a-z0-9.-]+/invoice/[0-9A-Za-z]{6}$`)

func TestCreateTypeOne(t *testing.T) {
	_, base := start(t, emulator.Options{})
	r := signed(t, base, "/invoices/create", encode(t, validBody("order-0344")))
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	data, ok := decode(t, r.body)["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data envelope: %s", r.body)
	}
	if _, err := data["id"].(json.Number).Int64(); err != nil {
		t.Errorf("id is not an integer: %v", data["id"])
	}
	if u, _ := data["url"].(string); !invoiceURL.MatchString(u) {
		t.Errorf("url %q is not an https invoice URL with a 6-char code", u)
	}
	delete(data, "id")
	delete(data, "url")
	want := map[string]any{
		"foreign_id": "order-0344", "end_user_reference": "12345", "address": nil, "title": "Invoice Title",
		"status": "created", "currency": "EUR", "amount": "106.75000000", "sender_currency": nil,
		"sender_amount": nil, "fixed_at": nil, "release_at": nil, "seconds_left": nil,
	}
	if d := cmp.Diff(want, data); d != "" {
		t.Fatalf("create answer (-want +got):\n%s", d)
	}
}

func TestCreateTimerInvoices(t *testing.T) {
	_, base := start(t, emulator.Options{})
	now := fixedNow.Unix()

	two := validBody("timer-no-currency")
	two["timer"] = true
	r := signed(t, base, "/invoices/create", encode(t, two))
	if r.status != 200 {
		t.Fatalf("type 2: %d %s", r.status, r.body)
	}
	d := decode(t, r.body)["data"].(map[string]any)
	for field, want := range map[string]any{
		"fixed_at": json.Number(fmt.Sprint(now)), "release_at": json.Number(fmt.Sprint(now + 900)),
		"seconds_left": json.Number("900"), "address": nil, "sender_currency": nil, "status": "created",
	} {
		if d[field] != want {
			t.Errorf("type 2 %s = %v, want %v", field, d[field], want)
		}
	}

	three := validBody("timer-btc")
	three["timer"] = true
	three["sender_currency"] = "BTC"
	three["amount"] = "120" // a numeric string is accepted too
	three["sender_type"] = "natural"
	three["sender_data"] = map[string]any{"first_name": "Friedrich", "last_name": "Müller", "date_of_birth": "1995-08-17"}
	r = signed(t, base, "/invoices/create", encode(t, three))
	if r.status != 200 {
		t.Fatalf("type 3: %d %s", r.status, r.body)
	}
	d = decode(t, r.body)["data"].(map[string]any)
	if a, _ := d["address"].(string); a == "" {
		t.Errorf("type 3 has no address: %v", d["address"])
	}
	// 120 EUR at the emulator's fixed 60000 EUR/BTC.
	if d["sender_currency"] != "BTC" || d["sender_amount"] != "0.00200000" || d["amount"] != "120.00000000" {
		t.Errorf("type 3 amounts: %v %v %v", d["sender_currency"], d["sender_amount"], d["amount"])
	}
	if d["seconds_left"] != json.Number("900") {
		t.Errorf("seconds_left = %v", d["seconds_left"])
	}
}

func TestCreateStatus201Switch(t *testing.T) {
	_, base := start(t, emulator.Options{Status201: true})
	r := signed(t, base, "/invoices/create", encode(t, validBody("a")))
	if r.status != http.StatusCreated || !strings.HasPrefix(r.body, `{"data":{`) {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestCreateValidation(t *testing.T) {
	_, base := start(t, emulator.Options{})
	type edit func(map[string]any)
	set := func(k string, v any) edit { return func(m map[string]any) { m[k] = v } }
	sender := func(st string, data map[string]any) edit {
		return func(m map[string]any) {
			m["timer"], m["sender_currency"] = true, "BTC"
			if st != "" {
				m["sender_type"] = st
			}
			if data != nil {
				m["sender_data"] = data
			}
		}
	}
	cases := []struct {
		name  string
		edits []edit
		want  map[string]string
	}{
		{"every required field missing", []edit{func(m map[string]any) { clear(m) }}, map[string]string{
			"timer": "The timer field is required.", "title": "The title field is required.",
			"currency": "The currency field is required.", "amount": "The amount field is required.",
			"foreign_id": "The foreign id field is required.", "end_user_reference": "The end user reference field is required.",
			"url_success": "The url success field is required.", "url_failed": "The url failed field is required.",
			"email_user": "The email user field is required.",
		}},
		{"timer not boolean", []edit{set("timer", "yes")}, map[string]string{"timer": "The timer field must be true or false."}},
		{"title too long", []edit{set("title", strings.Repeat("é", 51))}, map[string]string{"title": "The title must not be greater than 50 characters."}},
		{"title of 50 multibyte characters is fine, description too long", []edit{set("title", strings.Repeat("é", 50)), set("description", strings.Repeat("d", 1001))}, map[string]string{"description": "The description must not be greater than 1000 characters."}},
		{"title a number", []edit{set("title", json.Number("5"))}, map[string]string{"title": "The title must be a string."}},
		{"unknown currency", []edit{set("currency", "XYZ")}, map[string]string{"currency": "The selected currency is invalid."}},
		{"fiat sender currency", []edit{set("sender_currency", "USD")}, map[string]string{"sender_currency": "The selected sender currency is invalid."}},
		{"amount not numeric", []edit{set("amount", "ten")}, map[string]string{"amount": "The amount must be a number."}},
		{"amount boolean", []edit{set("amount", true)}, map[string]string{"amount": "The amount must be a number."}},
		{"amount with two dots (docs disagree)", []edit{set("amount", "0.106.75")}, map[string]string{"amount": "The amount must be a number."}},
		{"amount huge exponent", []edit{set("amount", json.Number("1e999999999"))}, map[string]string{"amount": "The amount must be a number."}},
		{"amount zero", []edit{set("amount", json.Number("0"))}, map[string]string{"amount": "The amount must be greater than 0."}},
		{"amount negative", []edit{set("amount", json.Number("-20"))}, map[string]string{"amount": "The amount must be greater than 0."}},
		{"amount nine decimals", []edit{set("amount", json.Number("20.123456789"))}, map[string]string{"amount": "The amount must have 0-8 decimal places."}},
		{"amount below the EUR minimum", []edit{set("amount", json.Number("9.99"))}, map[string]string{"amount": "The amount is too small. The minimum amount is 10.00 EUR."}},
		{"amount above the EUR maximum", []edit{set("amount", json.Number("10000.01"))}, map[string]string{"amount": "The amount is too large. The maximum amount is 10000.00 EUR."}},
		{"foreign_id too long", []edit{set("foreign_id", strings.Repeat("x", 256))}, map[string]string{"foreign_id": "The foreign id must not be greater than 255 characters."}},
		{"url_success plain http", []edit{set("url_success", "http://shop.example.com/ok")}, map[string]string{"url_success": "The url success must be an https URL with a domain name."}},
		{"url_failed an IP address", []edit{set("url_failed", "https://192.0.2.7/failed")}, map[string]string{"url_failed": "The url failed must be an https URL with a domain name."}},
		{"url_failed not a URL", []edit{set("url_failed", "::nope")}, map[string]string{"url_failed": "The url failed must be a valid URL."}},
		{"email not an address", []edit{set("email_user", "buyer at example")}, map[string]string{"email_user": "The email user must be a valid email address."}},
		{"email with a display name", []edit{set("email_user", "Buyer <buyer@example.com>")}, map[string]string{"email_user": "The email user must be a valid email address."}},
		{"unknown type", []edit{set("type", "partial")}, map[string]string{"type": "The selected type is invalid."}},
		{"type 3 without sender fields", []edit{sender("", nil)}, map[string]string{
			"sender_type": "The sender type field is required when timer is true and sender currency is present.",
			"sender_data": "The sender data field is required when timer is true and sender currency is present.",
		}},
		{"bad sender_type", []edit{sender("robot", map[string]any{})}, map[string]string{"sender_type": "The selected sender type is invalid."}},
		{"sender_data not an object", []edit{sender("natural", nil), set("sender_data", "Müller")}, map[string]string{"sender_data": "The sender data must be an array."}},
		{"natural person missing fields", []edit{sender("natural", map[string]any{"date_of_birth": "17.08.1995", "email": "nope"})}, map[string]string{
			"sender_data.first_name":    "The sender data.first name field is required.",
			"sender_data.last_name":     "The sender data.last name field is required.",
			"sender_data.date_of_birth": "The sender data.date of birth does not match the format Y-m-d.",
			"sender_data.email":         "The sender data.email must be a valid email address.",
		}},
		{"natural person born today", []edit{sender("natural", map[string]any{"first_name": "A", "last_name": "B", "date_of_birth": fixedNow.Format("2006-01-02")})}, map[string]string{
			"sender_data.date_of_birth": "The sender data.date of birth must be a date before today.",
		}},
		{"legal person bad country", []edit{sender("legal", map[string]any{"legal_name": "ACME GmbH", "country_of_registration": "de"})}, map[string]string{
			"sender_data.country_of_registration": "The sender data.country of registration format is invalid.",
		}},
		{"legal person missing name", []edit{sender("legal", map[string]any{"country_of_registration": "DEU"})}, map[string]string{
			"sender_data.legal_name": "The sender data.legal name field is required.",
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := validBody(fmt.Sprintf("validation-%d", i))
			for _, e := range c.edits {
				e(body)
			}
			r := signed(t, base, "/invoices/create", encode(t, body))
			if r.status != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", r.status, r.body)
			}
			var got struct {
				Errors map[string]string `json:"errors"`
			}
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatalf("not the {errors:{field:msg}} envelope: %v\n%s", err, r.body)
			}
			if d := cmp.Diff(c.want, got.Errors); d != "" {
				t.Fatalf("errors (-want +got):\n%s", d)
			}
		})
	}
	if n := len(listInvoices(t, base)); n != 0 {
		t.Fatalf("refused creates stored %d invoices", n)
	}
}

func TestCreateAcceptsValidVariants(t *testing.T) {
	_, base := start(t, emulator.Options{})
	cases := map[string]func(map[string]any){
		"crypto amount below fiat minimum": func(m map[string]any) { m["currency"], m["amount"] = "BTC", json.Number("0.00000001") },
		"eight decimals":                   func(m map[string]any) { m["amount"] = json.Number("10.12345678") },
		"exact minimum":                    func(m map[string]any) { m["amount"] = json.Number("10.00") },
		"exponent within range":            func(m map[string]any) { m["amount"] = json.Number("1.5e2") },
		"unknown fields ignored":           func(m map[string]any) { m["colour"] = "blue" },
		"partial payments":                 func(m map[string]any) { m["type"] = "good_until_expired" },
		"legal sender": func(m map[string]any) {
			m["timer"], m["sender_currency"], m["sender_type"] = true, "USDTT", "legal"
			m["sender_data"] = map[string]any{"legal_name": "ACME GmbH", "country_of_registration": "DEU", "email": "ap@acme.example"}
		},
	}
	i := 0
	for name, edit := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			body := validBody(fmt.Sprintf("variant-%d", i))
			edit(body)
			if r := signed(t, base, "/invoices/create", encode(t, body)); r.status != 200 {
				t.Fatalf("got %d %s", r.status, r.body)
			}
		})
	}
}

func TestDuplicateForeignIDPerMerchant(t *testing.T) {
	_, base := start(t, emulator.Options{Merchants: []emulator.Merchant{{Key: testKey, Secret: testSecret}, {Key: "other", Secret: "other-secret"}}})
	body := encode(t, validBody("user_196"))
	if r := signed(t, base, "/invoices/create", body); r.status != 200 {
		t.Fatalf("first create: %d %s", r.status, r.body)
	}
	r := signed(t, base, "/invoices/create", body)
	if r.status != 400 || r.body != foreignIDTaken {
		t.Fatalf("second create: %d %s, want 400 %s", r.status, r.body, foreignIDTaken)
	}
	// Another merchant may use the same foreign_id ["What is not documented": per merchant].
	if r := signedAs(t, base, "/invoices/create", "other", "other-secret", body); r.status != 200 {
		t.Fatalf("other merchant: %d %s", r.status, r.body)
	}
	// A duplicate that is also invalid elsewhere reports both, like Laravel.
	bad := validBody("user_196")
	bad["title"] = ""
	r = signed(t, base, "/invoices/create", encode(t, bad))
	want := `{"errors":{"foreign_id":"The foreign id has already been taken.","title":"The title field is required."}}`
	if r.status != 400 || r.body != want {
		t.Fatalf("invalid duplicate: %d %s", r.status, r.body)
	}
	// Still taken after the invoice was cancelled (reuse refused regardless of status).
	if r := signed(t, base, "/invoices/user_196/cancel/", []byte(`{}`)); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if r := signed(t, base, "/invoices/create", body); r.body != foreignIDTaken {
		t.Fatalf("create after cancel: %d %s", r.status, r.body)
	}
}

func TestConcurrentCreatesOfFiftyIDsCreateFifty(t *testing.T) {
	_, base := start(t, emulator.Options{})
	const creates, ids = 200, 50
	type result struct {
		status int
		body   string
		id     string
	}
	results := make([]result, creates)
	var wg sync.WaitGroup
	for i := range creates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("race-%02d", i%ids)
			body := encode(t, validBody(id))
			req, _ := http.NewRequest(http.MethodPost, base+"/invoices/create", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Processing-Key", testKey)
			req.Header.Set("X-Processing-Signature", signHex(testSecret, body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results[i] = result{status: -1, body: err.Error(), id: id}
				return
			}
			defer resp.Body.Close()
			var sb strings.Builder
			_, _ = fmt.Fprint(&sb, readAll(resp))
			results[i] = result{resp.StatusCode, sb.String(), id}
		}()
	}
	wg.Wait()
	okPerID := map[string]int{}
	refused := 0
	for _, r := range results {
		switch {
		case r.status == 200:
			okPerID[r.id]++
		case r.status == 400 && r.body == foreignIDTaken:
			refused++
		default:
			t.Fatalf("unexpected answer for %s: %d %s", r.id, r.status, r.body)
		}
	}
	if len(okPerID) != ids || refused != creates-ids {
		t.Fatalf("%d foreign_ids created, %d refused; want %d and %d", len(okPerID), refused, ids, creates-ids)
	}
	for id, n := range okPerID {
		if n != 1 {
			t.Errorf("%s created %d times", id, n)
		}
	}
	list := listInvoices(t, base)
	dups := 0
	for _, inv := range list {
		if inv.Creates != 1 {
			t.Errorf("%s: creates = %d", inv.ForeignID, inv.Creates)
		}
		dups += inv.Duplicates
	}
	if len(list) != ids || dups != creates-ids {
		t.Fatalf("control lists %d invoices and %d duplicates; want %d and %d", len(list), dups, ids, creates-ids)
	}
}

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func TestCancel(t *testing.T) {
	s, base := start(t, emulator.Options{})
	for _, id := range []string{"open", "paying", "done", "with/slash"} {
		if r := signed(t, base, "/invoices/create", encode(t, validBody(id))); r.status != 200 {
			t.Fatalf("create %s: %d %s", id, r.status, r.body)
		}
	}
	if err := s.SetStatus(testKey, "paying", emulator.StatusProcessing, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(testKey, "done", emulator.StatusConfirmed, "ETH"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path, body string
		status     int
		want       string
	}{
		{"/invoices/open/cancel/", `{}`, 200, `[]`},
		{"/invoices/open/cancel/", `{}`, 400, invalidInvoiceState}, // already failed
		{"/invoices/paying/cancel/", `{}`, 200, `[]`},
		{"/invoices/done/cancel/", `{}`, 400, invalidInvoiceState},
		{"/invoices/with%2Fslash/cancel/", `{}`, 200, `[]`},
		{"/invoices/missing/cancel/", `{}`, 400, invoiceNotFound},
		{"/invoices/done/cancel/", `{"reason":"x"}`, 400, `{"errors":{"reason":"The reason field is prohibited."}}`},
	}
	for _, c := range cases {
		r := signed(t, base, c.path, []byte(c.body))
		if r.status != c.status || r.body != c.want {
			t.Errorf("POST %s %s = %d %s; want %d %s", c.path, c.body, r.status, r.body, c.status, c.want)
		}
	}
	for id, want := range map[string]string{"open": "failed", "paying": "failed", "done": "confirmed", "with/slash": "failed"} {
		inv, ok := s.Lookup(testKey, id)
		if !ok || inv.Status != want {
			t.Errorf("%s: status %q (found %t), want %q", id, inv.Status, ok, want)
		}
	}
}

func TestAccountsAndCurrencies(t *testing.T) {
	s, base := start(t, emulator.Options{})
	r := signed(t, base, "/currencies/list", []byte(`{"visible":true}`))
	if r.status != 200 {
		t.Fatalf("currencies: %d %s", r.status, r.body)
	}
	var cur struct {
		Data []struct {
			Currency      string `json:"currency"`
			Type          string `json:"type"`
			MinimumAmount string `json:"minimum_amount"`
			Precision     int    `json:"precision"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.body), &cur); err != nil || len(cur.Data) == 0 {
		t.Fatalf("currencies body: %v %s", err, r.body)
	}
	if c := cur.Data[0]; c.Currency != "BTC" || c.Type != "crypto" || c.Precision != 8 || c.MinimumAmount == "" {
		t.Errorf("first currency %+v", c)
	}

	if r := signed(t, base, "/invoices/create", encode(t, validBody("paid"))); r.status != 200 {
		t.Fatal(r.body)
	}
	if err := s.SetStatus(testKey, "paid", emulator.StatusConfirmed, ""); err != nil {
		t.Fatal(err)
	}
	r = signed(t, base, "/accounts/list", []byte(`{}`))
	var acc struct {
		Data []struct{ Currency, Type, Balance string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.body), &acc); err != nil || r.status != 200 {
		t.Fatalf("accounts: %d %v %s", r.status, err, r.body)
	}
	balances := map[string]string{}
	for _, a := range acc.Data {
		balances[a.Currency] = a.Balance
	}
	// 106.75 EUR less the 0.99% fee (1.05682500).
	if balances["EUR"] != "105.69317500" || balances["BTC"] != "0.00000000" {
		t.Fatalf("balances EUR=%q BTC=%q", balances["EUR"], balances["BTC"])
	}
}
