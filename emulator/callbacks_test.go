package emulator_test

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/emulator"
)

// receiver is the merchant's callback endpoint as a careful receiver writes it: it checks
// X-Processing-Key and the HMAC-SHA512 of the raw body before anything else, keeps the raw
// bytes, and answers 200 only to a genuine callback.
type receiver struct {
	mu     sync.Mutex
	got    []rawCallback
	forged int
	notify chan struct{}
}

type rawCallback struct {
	body []byte
	cb   cbBody
}

// cbBody is the documented invoice callback [D S11, S20]; CryptoAddress is a pointer so that
// a null is seen.
type cbBody struct {
	ID               int64  `json:"id"`
	ForeignID        string `json:"foreign_id"`
	EndUserReference string `json:"end_user_reference"`
	Type             string `json:"type"`
	CryptoAddress    *struct {
		ID        int64   `json:"id"`
		Currency  string  `json:"currency"`
		ConvertTo *string `json:"convert_to"`
		Address   string  `json:"address"`
		Tag       *string `json:"tag"`
	} `json:"crypto_address"`
	CurrencySent struct {
		Currency  string `json:"currency"`
		Amount    string `json:"amount"`
		Remaining string `json:"remaining_amount"`
	} `json:"currency_sent"`
	CurrencyReceived struct{ Currency, Amount string } `json:"currency_received"`
	Transactions     []struct {
		ID              int64  `json:"id"`
		Currency        string `json:"currency"`
		TransactionType string `json:"transaction_type"`
		Type            string `json:"type"`
		Address         string `json:"address"`
		Amount          string `json:"amount"`
		TxID            string `json:"txid"`
		Confirmations   string `json:"confirmations"`
	} `json:"transactions"`
	Fees      []struct{ Type, Currency, Amount string } `json:"fees"`
	Error     string                                    `json:"error"`
	Status    string                                    `json:"status"`
	FixedAt   int64                                     `json:"fixed_at"`
	ExpiresAt int64                                     `json:"expires_at"`
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := readBody(r)
	want := signHex(testSecret, body)
	if r.Header.Get("X-Processing-Key") != testKey || !hmac.Equal([]byte(r.Header.Get("X-Processing-Signature")), []byte(want)) {
		rc.mu.Lock()
		rc.forged++
		rc.mu.Unlock()
		w.WriteHeader(http.StatusForbidden)
		return
	}
	var cb cbBody
	if err := json.Unmarshal(body, &cb); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, rawCallback{body, cb})
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	select {
	case rc.notify <- struct{}{}:
	default:
	}
}

func readBody(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	return b.Bytes(), err
}

// newReceiver starts a receiver on loopback and an emulator posting to it with scale.
func newReceiver(t *testing.T, scale float64) (*receiver, *emulator.Server, string) {
	t.Helper()
	rc := &receiver{notify: make(chan struct{}, 1)}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	s, base := start(t, emulator.Options{CallbackURL: hook.URL + "/callbacks", CallbackScale: scale})
	t.Cleanup(func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.forged > 0 {
			t.Errorf("%d callbacks failed the key or signature check over the raw body", rc.forged)
		}
	})
	return rc, s, base
}

// await returns the n-th (1-based) callback of foreignID with status, waiting for it.
// Deliveries run concurrently, so callbacks of one invoice may arrive out of order.
func (rc *receiver) await(t *testing.T, foreignID, status string, n int) rawCallback {
	t.Helper()
	deadline := time.After(20 * time.Second) // a hang guard, not a timing assertion
	for {
		rc.mu.Lock()
		seen := 0
		for _, c := range rc.got {
			if c.cb.ForeignID == foreignID && c.cb.Status == status {
				if seen++; seen == n {
					rc.mu.Unlock()
					return c
				}
			}
		}
		rc.mu.Unlock()
		select {
		case <-rc.notify:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no callback #%d of %s with status %s arrived", n, foreignID, status)
		}
	}
}

func (rc *receiver) count(foreignID string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, c := range rc.got {
		if c.cb.ForeignID == foreignID {
			n++
		}
	}
	return n
}

func mustControl(t *testing.T, base, path, body string) {
	t.Helper()
	if r := control(t, base, http.MethodPost, path, []byte(body)); r.status != http.StatusOK {
		t.Fatalf("POST %s %s: %d %s", path, body, r.status, r.body)
	}
}

// TestCallbacksFollowTheDocumentedExamples drives one EUR invoice through its life with the
// controls and checks each callback against the docs' examples.
func TestCallbacksFollowTheDocumentedExamples(t *testing.T) {
	rc, s, base := newReceiver(t, 0)
	if r := signed(t, base, "/invoices/create", encode(t, validBody("life"))); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	inv, _ := s.Lookup(testKey, "life")
	now := fixedNow.Unix()
	const btc = "0.00177917" // 106.75 EUR at the emulator's 60000 EUR/BTC
	steps := []struct {
		status, remaining, confirmations string
		txs, fees                        int
		expires                          int64
	}{
		{"pending", btc, "", 0, 0, now + 900},
		{"processing", "0.00000000", "0", 1, 0, now + 86400},
		{"confirmed", "0.00000000", "2", 1, 1, now + 86400},
	}
	var txid string
	for _, st := range steps {
		mustControl(t, base, "/invoices/life/status", `{"status":"`+st.status+`"}`)
		c := rc.await(t, "life", st.status, 1).cb
		if c.ID != inv.ID || c.Type != "invoice" || c.EndUserReference != "12345" || c.Error != "" {
			t.Errorf("%s: head %+v", st.status, c)
		}
		// The gross invoice amount in every status; the fee is in fees [D S20].
		if c.CurrencyReceived.Currency != "EUR" || c.CurrencyReceived.Amount != "106.75000000" {
			t.Errorf("%s: currency_received %+v", st.status, c.CurrencyReceived)
		}
		// In the crypto currency: what to send, and what is still missing [D S20].
		if c.CurrencySent.Currency != "BTC" || c.CurrencySent.Amount != btc || c.CurrencySent.Remaining != st.remaining {
			t.Errorf("%s: currency_sent %+v", st.status, c.CurrencySent)
		}
		a := c.CryptoAddress
		if a == nil || a.ID != inv.ID || a.Currency != "BTC" || a.ConvertTo == nil || *a.ConvertTo != "EUR" || a.Address == "" || a.Tag != nil {
			t.Errorf("%s: crypto_address %+v", st.status, a)
		}
		if len(c.Transactions) != st.txs || len(c.Fees) != st.fees {
			t.Fatalf("%s: %d transactions, %d fees", st.status, len(c.Transactions), len(c.Fees))
		}
		if st.txs == 1 {
			tx := c.Transactions[0]
			if tx.Currency != "BTC" || tx.Amount != btc || tx.Confirmations != st.confirmations || tx.Address != a.Address ||
				tx.TransactionType != "blockchain" || tx.Type != "deposit" || len(tx.TxID) != 64 {
				t.Errorf("%s: transaction %+v", st.status, tx)
			}
			if txid != "" && tx.TxID != txid {
				t.Errorf("%s: the transaction changed its txid", st.status)
			}
			txid = tx.TxID
		}
		if st.fees == 1 && (c.Fees[0].Type != "fee_crypto_deposit" || c.Fees[0].Currency != "EUR" || c.Fees[0].Amount != "1.05682500") {
			t.Errorf("%s: fees %+v", st.status, c.Fees)
		}
		if c.FixedAt != now || c.ExpiresAt != st.expires {
			t.Errorf("%s: fixed_at %d expires_at %d, want %d %d", st.status, c.FixedAt, c.ExpiresAt, now, st.expires)
		}
	}
}

// TestCryptoAddressIsAnObjectBeforeACurrencyIsChosen: a cancel straight from created, when the
// customer never chose a currency, still sends the documented object, with no address issued.
func TestCryptoAddressIsAnObjectBeforeACurrencyIsChosen(t *testing.T) {
	rc, _, base := newReceiver(t, 0)
	eth := validBody("eth-invoice")
	eth["currency"], eth["amount"] = "ETH", json.Number("0.5")
	for _, b := range []map[string]any{validBody("eur-invoice"), eth} {
		if r := signed(t, base, "/invoices/create", encode(t, b)); r.status != 200 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if r := signed(t, base, "/invoices/"+b["foreign_id"].(string)+"/cancel/", []byte(`{}`)); r.status != 200 {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
	}
	got := rc.await(t, "eur-invoice", "failed", 1)
	if !bytes.Contains(got.body, []byte(`"crypto_address":{"id":0,"currency":"BTC","convert_to":"EUR","address":"","tag":null}`)) {
		t.Errorf("EUR invoice: crypto_address not the documented object: %s", got.body)
	}
	if c := got.cb.CurrencySent; c.Currency != "BTC" || c.Amount != "0.00177917" || c.Remaining != c.Amount {
		t.Errorf("EUR invoice: currency_sent %+v", c)
	}
	if got.cb.CurrencyReceived.Amount != "106.75000000" || len(got.cb.Transactions) != 0 || got.cb.Error == "" {
		t.Errorf("EUR invoice: %s", got.body)
	}
	// A crypto invoice is offered in its own currency, unconverted: no convert_to.
	got = rc.await(t, "eth-invoice", "failed", 1)
	if !bytes.Contains(got.body, []byte(`"crypto_address":{"id":0,"currency":"ETH","address":"","tag":null}`)) ||
		!bytes.Contains(got.body, []byte(`"currency_sent":{"currency":"ETH","amount":"0.50000000","remaining_amount":"0.50000000"}`)) {
		t.Errorf("ETH invoice: %s", got.body)
	}
}

// timerBody is a timer invoice; with sender it is the fixed-currency kind (type 3).
func timerBody(foreignID, typ, sender string) map[string]any {
	b := validBody(foreignID)
	b["timer"], b["type"] = true, typ
	if sender != "" {
		b["sender_currency"], b["amount"] = sender, json.Number("300")
		b["sender_type"], b["sender_data"] = "legal", map[string]any{"legal_name": "ACME GmbH", "country_of_registration": "DEU"}
	}
	return b
}

func TestTimerExpiry(t *testing.T) {
	// 1/900: the 15-minute timer runs 1 s; 24 h would take 96 s.
	rc, s, base := newReceiver(t, 1.0/900)
	for _, id := range []string{"unpaid", "paid-in-time", "chosen"} {
		if r := signed(t, base, "/invoices/create", encode(t, timerBody(id, "fill_or_kill", ""))); r.status != 200 {
			t.Fatalf("create %s: %d %s", id, r.status, r.body)
		}
	}
	if r := signed(t, base, "/invoices/create", encode(t, validBody("no-timer"))); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	mustControl(t, base, "/invoices/paid-in-time/status", `{"status":"processing"}`)
	mustControl(t, base, "/invoices/chosen/status", `{"status":"pending","pay_currency":"LTC"}`)

	c := rc.await(t, "unpaid", "failed", 1)
	if c.cb.Error != "Timer expired. User not paid." || len(c.cb.Transactions) != 0 ||
		c.cb.CurrencySent.Remaining != c.cb.CurrencySent.Amount || c.cb.ExpiresAt != c.cb.FixedAt+900 {
		t.Errorf("expired unpaid invoice: %s", c.body)
	}
	c = rc.await(t, "chosen", "failed", 1)
	if c.cb.Error != "Timer expired. User not paid." || c.cb.CryptoAddress.Currency != "LTC" || c.cb.CryptoAddress.Address == "" ||
		c.cb.CurrencySent.Currency != "LTC" || c.cb.CurrencySent.Amount != "1.33437500" || c.cb.CurrencySent.Remaining != "1.33437500" {
		t.Errorf("expired invoice with a chosen currency: %s", c.body)
	}
	time.Sleep(100 * time.Millisecond) // the other timers were due at the same time
	for id, want := range map[string]string{"unpaid": "failed", "chosen": "failed", "paid-in-time": "processing", "no-timer": "created"} {
		if inv, _ := s.Lookup(testKey, id); inv.Status != want {
			t.Errorf("%s: %s, want %s", id, inv.Status, want)
		}
	}
	if inv, _ := s.Lookup(testKey, "unpaid"); inv.Error != "Timer expired. User not paid." || inv.Callbacks != 1 {
		t.Errorf("control view of the expired invoice: %+v", inv)
	}
	if n := rc.count("paid-in-time"); n != 1 {
		t.Errorf("the invoice paid in time got %d callbacks, want only its processing one", n)
	}
}

func TestProcessingTooLong(t *testing.T) {
	// 1/864000: the 24 hours after a payment is seen run 100 ms.
	rc, _, base := newReceiver(t, 1.0/864000)
	if r := signed(t, base, "/invoices/create", encode(t, validBody("stuck"))); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	mustControl(t, base, "/invoices/stuck/status", `{"status":"processing"}`)
	c := rc.await(t, "stuck", "failed", 1)
	if c.cb.Error != "Timer expired. Transactions were in status processing too long." || len(c.cb.Transactions) != 1 ||
		c.cb.Transactions[0].Confirmations != "0" || c.cb.ExpiresAt != fixedNow.Unix()+86400 {
		t.Errorf("stuck invoice: %s", c.body)
	}
}

func TestShortPayment(t *testing.T) {
	rc, s, base := newReceiver(t, 1.0/900) // the 15-minute timer runs 1 s
	if r := signed(t, base, "/invoices/create", encode(t, timerBody("parts", "good_until_expired", "ETH"))); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	// 300 EUR at 3000 EUR/ETH: 0.1 ETH to send. Two parts, 0.05 in all.
	mustControl(t, base, "/invoices/parts/pay", `{"amount":"0.04"}`)
	c := rc.await(t, "parts", "pending", 1)
	if c.cb.CurrencySent != (struct {
		Currency  string `json:"currency"`
		Amount    string `json:"amount"`
		Remaining string `json:"remaining_amount"`
	}{"ETH", "0.10000000", "0.06000000"}) || len(c.cb.Transactions) != 1 || c.cb.Transactions[0].Amount != "0.04000000" ||
		c.cb.Error != "" || c.cb.ExpiresAt != c.cb.FixedAt+900 || c.cb.CurrencyReceived.Amount != "300.00000000" {
		t.Errorf("first part: %s", c.body)
	}
	mustControl(t, base, "/invoices/parts/pay", `{"amount":"0.01"}`)
	c = rc.await(t, "parts", "pending", 2)
	if c.cb.CurrencySent.Remaining != "0.05000000" || len(c.cb.Transactions) != 2 || c.cb.Transactions[0].TxID == c.cb.Transactions[1].TxID {
		t.Errorf("second part: %s", c.body)
	}
	c = rc.await(t, "parts", "failed", 1)
	if c.cb.Error != "Timer expired. User paid less than requested." || c.cb.CurrencySent.Remaining != "0.05000000" ||
		len(c.cb.Transactions) != 2 || c.cb.Transactions[1].Confirmations != "2" || len(c.cb.Fees) != 0 ||
		c.cb.CurrencyReceived.Amount != "300.00000000" {
		t.Errorf("expired short payment: %s", c.body)
	}
	if inv, _ := s.Lookup(testKey, "parts"); inv.Paid != "0.05000000" || inv.Status != "failed" {
		t.Errorf("control view: %+v", inv)
	}

	// fill_or_kill: a payment that does not fill the invoice kills it at once.
	signed(t, base, "/invoices/create", encode(t, timerBody("fok", "fill_or_kill", "ETH")))
	mustControl(t, base, "/invoices/fok/pay", `{"amount":"0.09"}`)
	if c := rc.await(t, "fok", "failed", 1); c.cb.Error != "Timer expired. User paid less than requested." || c.cb.CurrencySent.Remaining != "0.01000000" {
		t.Errorf("short fill_or_kill: %s", c.body)
	}

	// Paying the rest in parts completes a good_until_expired invoice: processing, 24 h.
	signed(t, base, "/invoices/create", encode(t, timerBody("complete", "good_until_expired", "ETH")))
	mustControl(t, base, "/invoices/complete/pay", `{"amount":"0.03"}`)
	mustControl(t, base, "/invoices/complete/pay", `{}`)
	c = rc.await(t, "complete", "processing", 1)
	if c.cb.CurrencySent.Remaining != "0.00000000" || len(c.cb.Transactions) != 2 || c.cb.Transactions[1].Amount != "0.07000000" ||
		c.cb.ExpiresAt != fixedNow.Unix()+86400 {
		t.Errorf("completed in parts: %s", c.body)
	}

	// Refusals, with the controls' restrictions kept.
	for _, c := range []struct {
		path, ctype, host, body string
		status                  int
	}{
		{"/invoices/parts/pay", "application/json", "", `{"amount":"0.01"}`, http.StatusConflict}, // failed is final
		{"/invoices/complete/pay", "application/json", "", `{"amount":"0.01"}`, http.StatusConflict},
		{"/invoices/nope/pay", "application/json", "", `{}`, http.StatusNotFound},
		{"/invoices/fok/pay", "application/json", "", `{"amount":"-1"}`, http.StatusBadRequest},
		{"/invoices/fok/pay", "application/json", "", `{"amount":0.1}`, http.StatusBadRequest},
		{"/invoices/fok/pay", "text/plain", "", `{}`, http.StatusUnsupportedMediaType},
		{"/invoices/fok/pay", "application/json", "attacker.example:80", `{}`, http.StatusForbidden},
	} {
		root := strings.TrimSuffix(base, "/api/v2")
		r := call(t, http.MethodPost, root+"/_emulator"+c.path, map[string]string{"Content-Type": c.ctype, "Host": c.host}, []byte(c.body))
		if r.status != c.status {
			t.Errorf("POST %s %s (%s, Host %q): %d %s; want %d", c.path, c.body, c.ctype, c.host, r.status, r.body, c.status)
		}
	}
}

// TestCallbacksArePHPEncoded: "/" as "\/", non-ASCII as \uXXXX; the signature covers exactly
// those bytes, and a receiver that re-encodes the parsed body gets other bytes.
func TestCallbacksArePHPEncoded(t *testing.T) {
	rc, _, base := newReceiver(t, 0)
	b := validBody("2026/05-ü")
	b["end_user_reference"] = "café/42 <&> 😀"
	if r := signed(t, base, "/invoices/create", encode(t, b)); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	mustControl(t, base, "/invoices/2026%2F05-%C3%BC/status", `{"status":"confirmed"}`)
	c := rc.await(t, "2026/05-ü", "confirmed", 1)
	for _, want := range []string{`"foreign_id":"2026\/05-\u00fc"`, `"end_user_reference":"caf\u00e9\/42 <&> \ud83d\ude00"`} {
		if !bytes.Contains(c.body, []byte(want)) {
			t.Errorf("body lacks %s: %s", want, c.body)
		}
	}
	for i, ch := range c.body {
		if ch >= 0x80 || (ch == '/' && (i == 0 || c.body[i-1] != '\\')) {
			t.Fatalf("byte %d of the body is %q, which json_encode escapes: %s", i, ch, c.body)
		}
	}
	if c.cb.EndUserReference != "café/42 <&> 😀" {
		t.Errorf("decoded end_user_reference %q", c.cb.EndUserReference)
	}
	// The trap: Go's re-encoding of the same object is other bytes, with another HMAC.
	var v any
	_ = json.Unmarshal(c.body, &v)
	again, _ := json.Marshal(v)
	if bytes.Equal(again, c.body) || signHex(testSecret, again) == signHex(testSecret, c.body) {
		t.Errorf("a re-encoded body would verify; the test would not catch a receiver that re-encodes")
	}
}
