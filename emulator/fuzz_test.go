package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/invoiceform/invoiceform/emulator"
)

// FuzzSignedRequests sends arbitrary, correctly signed bodies to every endpoint. The
// emulator must answer each with 200 or a refusal and a JSON body (a refusal with a message),
// never panic or fail with 500.
func FuzzSignedRequests(f *testing.F) {
	valid, _ := json.Marshal(validBody("fuzz"))
	for _, seed := range []string{string(valid), `{}`, `[]`, `{"amount":"1e99"}`, `{"sender_data":[1]}`, `{"timer":true,"sender_currency":"BTC","sender_type":"natural","sender_data":{"date_of_birth":"9999-99-99"}}`, `null`, `{"amount":-0}`} {
		for _, path := range []string{"/api/v2/invoices/create", "/api/v2/invoices/fuzz/cancel/", "/api/v2/accounts/list", "/api/v2/currencies/list"} {
			f.Add(path, seed)
		}
	}
	s, err := emulator.New(emulator.Options{Merchants: []emulator.Merchant{{Key: testKey, Secret: testSecret}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	h := s.Handler()
	f.Fuzz(func(t *testing.T, path, body string) {
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1"+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return // not a URL a client could send
		}
		req.RemoteAddr = "127.0.0.1:1"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Processing-Key", testKey)
		req.Header.Set("X-Processing-Signature", signHex(testSecret, []byte(body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 403, 404, 405, 409:
		default:
			t.Fatalf("%s %q: HTTP %d %s", path, body, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %q: answer is not JSON: %s", path, body, rec.Body)
		}
		if rec.Code != 200 {
			// A refusal says why, as the API does: {"error": ...} or {"errors": {...}}.
			var refusal struct {
				Error  json.RawMessage `json:"error"`
				Errors json.RawMessage `json:"errors"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &refusal)
			if len(refusal.Error) <= 2 && len(refusal.Errors) <= 2 {
				t.Fatalf("%s %q: HTTP %d without a message: %s", path, body, rec.Code, rec.Body)
			}
		}
	})
}
