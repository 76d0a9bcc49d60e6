package serve_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/serve"
	"github.com/invoiceform/invoiceform/state"
)

const key, secret = "k", "s3cret"

func sign(b []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

func body(id, status, extra string) []byte {
	return []byte(`{"id":1,"foreign_id":"` + id + `","end_user_reference":"caf\u00e9\/42","type":"invoice","crypto_address":{"id":1,"currency":"BTC","address":"a","tag":null},` +
		`"currency_sent":{"currency":"BTC","amount":"0.1","remaining_amount":"0.1"},"currency_received":{"currency":"EUR","amount":"10.00000000"},` +
		`"transactions":[],"fees":[],"error":"` + extra + `","status":"` + status + `","fixed_at":1,"expires_at":2}`)
}

type busy struct{}

func (busy) RecordCallbacks(context.Context, []state.Incoming) ([]state.Outcome, error) {
	return nil, fmt.Errorf("x: %w", state.ErrLocked)
}

func post(t *testing.T, url string, b []byte, k, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/callbacks", bytes.NewReader(b))
	req.Header.Set("X-Processing-Key", k)
	req.Header.Set("X-Processing-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestCallbacks(t *testing.T) {
	m := state.NewMemory()
	b := []byte(`{"foreign_id":"a"}`)
	if err := m.Put(context.Background(), &state.Record{ForeignID: "a", Phase: state.Issued, Body: b, BodyHash: invoice.Hash(b), Status: "created"}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := serve.New(serve.Options{Key: key, Secret: secret, Recorder: m, Log: slogTo(&logs)})
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer h.Close()
	pending, proc := body("a", "pending", ""), body("a", "processing", "")
	huge := append(bytes.Repeat([]byte(" "), 1<<20), pending...)
	cases := []struct {
		name string
		b    []byte
		k    string
		sig  string
		want int
	}{
		{"forged signature", pending, key, sign(proc), 401},
		{"no signature", pending, key, "", 401},
		{"wrong key", pending, "other", sign(pending), 401},
		{"re-encoded body", bytes.ReplaceAll(pending, []byte(`\/`), []byte(`/`)), key, sign(pending), 401},
		{"oversized", huge, key, sign(huge), 413},
		{"malformed", []byte(`{"id":`), key, sign([]byte(`{"id":`)), 400},
		{"bad status", body("a", "paid", ""), key, sign(body("a", "paid", "")), 400},
		{"bad amount", bytes.Replace(pending, []byte(`"0.1"`), []byte(`"1e5"`), 1), key, sign(bytes.Replace(pending, []byte(`"0.1"`), []byte(`"1e5"`), 1)), 400},
		{"wrong type", bytes.Replace(pending, []byte(`"id":1`), []byte(`"id":"1"`), 1), key, sign(bytes.Replace(pending, []byte(`"id":1`), []byte(`"id":"1"`), 1)), 400},
		{"processing", proc, key, sign(proc), 200},
		{"out of order pending", pending, key, sign(pending), 200},
		{"replayed processing", proc, key, sign(proc), 200},
		{"unknown invoice", body("zz", "pending", ""), key, sign(body("zz", "pending", "")), 200},
	}
	for _, c := range cases {
		if got := post(t, ts.URL, c.b, c.k, c.sig); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	snap, _ := m.Snapshot(context.Background())
	if r := snap.Records["a"]; r.Status != "processing" || len(r.History) != 1 || len(snap.Unknown) != 1 {
		t.Fatalf("status %q, %d callbacks, %d unknown; want processing, 1, 1", r.Status, len(r.History), len(snap.Unknown))
	}
	if strings.Contains(logs.String(), "caf") {
		t.Fatalf("personal data in the log:\n%s", logs.String())
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{`invoiceform_callbacks_refused_total{reason="signature"} 3`, `invoiceform_callbacks_accepted_total{outcome="stale"} 1`,
		`invoiceform_callbacks_accepted_total{outcome="duplicate"} 1`, `invoiceform_callback_statuses_total{status="processing"} 1`, "invoiceform_state_write_seconds_bucket"} {
		if !strings.Contains(string(mb), w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

func TestBusy(t *testing.T) {
	h := serve.New(serve.Options{Key: key, Secret: secret, Recorder: busy{}, RetryAfter: 7 * time.Second})
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer h.Close()
	b := body("a", "pending", "")
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/callbacks", bytes.NewReader(b))
	req.Header.Set("X-Processing-Key", key)
	req.Header.Set("X-Processing-Signature", sign(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("%d Retry-After %q, want 503 and 7", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
