package crosscheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state/boltstate"
)

// TestBodyIsOneAcrossPackages is the property of the one canonical encoding: for random valid
// invoices written as HCL, the body config.Load produces is the request's encoding, reads back
// to exactly the declared values, is byte for byte what api sends over HTTP (captured on the
// wire in front of the emulator), and is what the bbolt state stores with invoice.Hash of it.
// The seed is printed; INVOICEFORM_PROPERTY_SEED replays one.
func TestBodyIsOneAcrossPackages(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("INVOICEFORM_PROPERTY_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("INVOICEFORM_PROPERTY_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (replay: INVOICEFORM_PROPERTY_SEED=%d go test -run TestBodyIsOneAcrossPackages ./internal/crosscheck)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	const n = 150
	want := make(map[string]invoice.Request, n)
	var hcl strings.Builder
	for i := range n {
		r := randomRequest(rng, i)
		want[r.ForeignID] = r
		writeBlock(&hcl, r)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Load(dir, config.LoadOptions{Today: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if diags.HasErrors() {
		t.Fatalf("the generated configuration does not load: %s", diags.Error())
	}
	if len(cfg.Invoices) != n {
		t.Fatalf("%d invoices loaded, want %d", len(cfg.Invoices), n)
	}

	// 1. config: the body is the encoding of what was declared, and reads back to it.
	for _, inv := range cfg.Invoices {
		r := want[inv.ForeignID]
		if enc := r.Encode(); !bytes.Equal(inv.Body, enc) {
			t.Fatalf("%s: config body\n%s\nis not the declared request's encoding\n%s", inv.Address, inv.Body, enc)
		}
		if inv.Hash != invoice.Hash(inv.Body) {
			t.Fatalf("%s: config hash %s is not invoice.Hash of its body", inv.Address, inv.Hash)
		}
		checkReadsBack(t, inv.Body, r)
	}

	// 2. api and 3. state: apply the plan through a recording proxy to the emulator.
	srv, err := emulator.New(emulator.Options{MaxAmount: map[string]string{"EUR": "100000000", "USD": "100000000"}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	var mu sync.Mutex
	sent := map[string][]byte{}
	target, _ := url.Parse(base)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	wire := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/invoices/create") {
			var id struct {
				ForeignID string `json:"foreign_id"`
			}
			_ = json.Unmarshal(b, &id)
			mu.Lock()
			sent[id.ForeignID] = b
			mu.Unlock()
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(wire.Close)

	client, err := api.New(api.Config{Endpoint: wire.URL + target.Path, Key: emulator.DefaultKey, Secret: emulator.DefaultSecret})
	if err != nil {
		t.Fatal(err)
	}
	store, err := boltstate.Open(filepath.Join(dir, "invoiceform.state"), boltstate.Options{Writers: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx := context.Background()
	snap, err := store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Make(cfg.Invoices, snap, plan.Options{})
	res, err := apply.Run(ctx, p, store, client, apply.Options{Parallelism: 8})
	if err != nil || !res.OK() || len(res.Issued) != n {
		t.Fatalf("apply: %v; %s", err, apply.SummaryLine(res))
	}
	snap, err = store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range cfg.Invoices {
		if got := sent[inv.ForeignID]; !bytes.Equal(got, inv.Body) {
			t.Errorf("%s: api sent\n%s\nnot config's body\n%s", inv.Address, got, inv.Body)
		}
		rec := snap.Records[inv.ForeignID]
		switch {
		case rec == nil:
			t.Errorf("%s: no record", inv.Address)
		case !bytes.Equal(rec.Body, inv.Body) || rec.BodyHash != inv.Hash || rec.BodyHash != invoice.Hash(sent[inv.ForeignID]):
			t.Errorf("%s: the state stores body %s hash %s; config's hash is %s", inv.Address, rec.Body, rec.BodyHash, inv.Hash)
		}
	}
}

// checkReadsBack decodes body with encoding/json, independently of the encoder, and compares
// every field with the declared request.
func checkReadsBack(t *testing.T, body []byte, r invoice.Request) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var got struct {
		invoice.Request
		Amount json.Number `json:"amount"`
	}
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%s: body %s: %v", r.ForeignID, body, err)
	}
	if got.Amount.String() != r.Amount.String() {
		t.Fatalf("%s: amount reads back as %s, declared %s", r.ForeignID, got.Amount, r.Amount)
	}
	got.Request.Amount = r.Amount
	if fmt.Sprintf("%#v", plainFields(got.Request)) != fmt.Sprintf("%#v", plainFields(r)) {
		t.Fatalf("%s: body reads back as\n%#v\ndeclared\n%#v", r.ForeignID, plainFields(got.Request), plainFields(r))
	}
}

// plainFields lists every field as text (Request's own Format hides the personal ones).
func plainFields(r invoice.Request) []string {
	f := []string{strconv.FormatBool(r.Timer), r.Title, r.Description, r.Currency, r.SenderCurrency, r.Amount.String(), r.ForeignID,
		r.EndUserReference, r.URLSuccess, r.URLFailed, r.EmailUser, r.Type, r.SenderType}
	if sd := r.SenderData; sd != nil {
		f = append(f, sd.FirstName, sd.LastName, sd.DateOfBirth, sd.Email, sd.LegalName, sd.CountryOfRegistration)
	}
	return f
}

// Text the generator draws from: quotes, backslashes, template markers, HTML, non-ASCII,
// U+2028 (a line separator that is not a control character) and emoji.
var titleRunes = []rune(`abcXYZ019 "\$%{}<>&'é日🙂` + "\u2028\u00a0")

// Descriptions may hold control characters (titles may not): \b is where two encoders once
// disagreed.
var descriptionRunes = append([]rune("ab \n\t\r\b\f\x01\x1f\x7f"), titleRunes...)

func randomText(rng *rand.Rand, alphabet []rune, minLen, maxLen int) string {
	n := minLen + rng.IntN(maxLen-minLen+1)
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func randomRequest(rng *rand.Rand, i int) invoice.Request {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	cur := pick("EUR", "USD", "BTC", "ETH", "USDTT")
	places := invoice.Places(cur)
	amount := strconv.Itoa(10 + rng.IntN(100000))
	if p := rng.IntN(places + 1); p > 0 {
		frac := make([]byte, p)
		for j := range frac {
			frac[j] = byte('0' + rng.IntN(10))
		}
		amount += "." + string(frac)
	}
	r := invoice.Request{
		Title:            strings.TrimSpace(randomText(rng, titleRunes, 1, 40)) + "t",
		Currency:         cur,
		Amount:           invoice.MustParseAmount(amount),
		ForeignID:        fmt.Sprintf("prop-%04d", i),
		EndUserReference: fmt.Sprintf("cust-%d", rng.IntN(1000)),
		URLSuccess:       pick("https://shop.example.com/ok", "https://shop.example.com/ok?a=1&b=%C3%A9"),
		URLFailed:        "https://shop.example.com/failed",
		EmailUser:        fmt.Sprintf("buyer%d@example.com", i),
	}
	if rng.IntN(2) == 0 {
		r.Description = randomText(rng, descriptionRunes, 0, 60)
	}
	if rng.IntN(3) == 0 {
		r.Type = pick(invoice.TypeFillOrKill, invoice.TypeGoodUntilExpired)
	}
	if rng.IntN(2) == 0 {
		r.Timer = true
		if rng.IntN(2) == 0 {
			r.SenderCurrency = pick("BTC", "ETH")
			if rng.IntN(2) == 0 {
				r.SenderType = invoice.SenderNatural
				r.SenderData = &invoice.SenderData{FirstName: "Frie\"drich", LastName: "Müller", DateOfBirth: "1995-08-17"}
			} else {
				r.SenderType = invoice.SenderLegal
				r.SenderData = &invoice.SenderData{LegalName: "ACME <GmbH> & Co", CountryOfRegistration: "DEU", Email: "ap@acme.example"}
			}
		}
	}
	return r
}

// writeBlock writes r as an invoice block; strings are HCL-quoted so that every character
// reaches the value as it is.
func writeBlock(b *strings.Builder, r invoice.Request) {
	fmt.Fprintf(b, "invoice %s {\n", hclString(r.ForeignID))
	attr := func(name, v string) {
		if v != "" {
			fmt.Fprintf(b, "  %s = %s\n", name, hclString(v))
		}
	}
	fmt.Fprintf(b, "  timer = %t\n", r.Timer)
	attr("title", r.Title)
	if r.Description != "" || rand.IntN(2) == 0 {
		fmt.Fprintf(b, "  description = %s\n", hclString(r.Description))
	}
	attr("currency", r.Currency)
	attr("sender_currency", r.SenderCurrency)
	if rand.IntN(2) == 0 {
		fmt.Fprintf(b, "  amount = %s\n", r.Amount) // an HCL number: exact through its shortest decimal text
	} else {
		attr("amount", r.Amount.String())
	}
	attr("end_user_reference", r.EndUserReference)
	attr("url_success", r.URLSuccess)
	attr("url_failed", r.URLFailed)
	attr("email_user", r.EmailUser)
	attr("type", r.Type)
	attr("sender_type", r.SenderType)
	if sd := r.SenderData; sd != nil {
		b.WriteString("  sender_data {\n")
		for _, f := range [][2]string{{"first_name", sd.FirstName}, {"last_name", sd.LastName}, {"date_of_birth", sd.DateOfBirth},
			{"email", sd.Email}, {"legal_name", sd.LegalName}, {"country_of_registration", sd.CountryOfRegistration}} {
			if f[1] != "" {
				fmt.Fprintf(b, "    %s = %s\n", f[0], hclString(f[1]))
			}
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n\n")
}

// hclString quotes s for HCL: the escapes HCL knows, every other control character as
// \uNNNN, and the template markers ${ and %{ doubled.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteRune(r)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
