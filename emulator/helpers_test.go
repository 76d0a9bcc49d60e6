package emulator_test

// These tests speak raw HTTP and compute signatures themselves: they must not import
// package api, so that a misreading of the docs shared by client and emulator cannot hide.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/emulator"
)

const (
	testKey    = "merchant-key-1"
	testSecret = "s3cr3t-SHOULD-NEVER-LEAK-9f8e7d"
)

// fixedNow is the emulator clock in tests: fixed_at and seconds_left are then exact.
var fixedNow = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// start runs an emulator on a real loopback listener and closes it when the test ends.
func start(t *testing.T, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	if opts.Merchants == nil {
		opts.Merchants = []emulator.Merchant{{Key: testKey, Secret: testSecret}}
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	s, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, base
}

func signHex(secret string, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// reply is a raw answer.
type reply struct {
	status int
	body   string
	header http.Header
}

// call sends one request with explicit headers; empty header values are left out.
func call(t *testing.T, method, url string, headers map[string]string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		switch {
		case v == "":
		case k == "Host":
			req.Host = v
		default:
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return reply{resp.StatusCode, string(b), resp.Header}
}

// signed posts body to base+path signed with the test merchant.
func signed(t *testing.T, base, path string, body []byte) reply {
	t.Helper()
	return signedAs(t, base, path, testKey, testSecret, body)
}

func signedAs(t *testing.T, base, path, key, secret string, body []byte) reply {
	t.Helper()
	return call(t, http.MethodPost, base+path, map[string]string{
		"Content-Type":           "application/json",
		"X-Processing-Key":       key,
		"X-Processing-Signature": signHex(secret, body),
	}, body)
}

// validBody is a complete type-1 create body with the given foreign_id.
func validBody(foreignID string) map[string]any {
	return map[string]any{
		"timer":              false,
		"title":              "Invoice Title",
		"currency":           "EUR",
		"amount":             json.Number("106.75"),
		"foreign_id":         foreignID,
		"end_user_reference": "12345",
		"url_success":        "https://shop.example.com/success",
		"url_failed":         "https://shop.example.com/failed",
		"email_user":         "buyer@example.com",
	}
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, s)
	}
	return m
}

// control talks to the /_emulator/ endpoints; base is the /api/v2 URL.
func control(t *testing.T, base, method, path string, body []byte) reply {
	t.Helper()
	root := strings.TrimSuffix(base, "/api/v2")
	return call(t, method, root+"/_emulator"+path, map[string]string{"Content-Type": "application/json"}, body)
}

type invoiceView struct {
	Merchant      string `json:"merchant"`
	ID            int64  `json:"id"`
	ForeignID     string `json:"foreign_id"`
	Status        string `json:"status"`
	Amount        string `json:"amount"`
	Creates       int    `json:"creates"`
	Duplicates    int    `json:"duplicates"`
	DroppedAnswer bool   `json:"dropped_answer"`
	Callbacks     int    `json:"callbacks"`
}

func listInvoices(t *testing.T, base string) []invoiceView {
	t.Helper()
	r := control(t, base, http.MethodGet, "/invoices", nil)
	if r.status != http.StatusOK {
		t.Fatalf("list invoices: %d %s", r.status, r.body)
	}
	var out struct {
		Invoices []invoiceView `json:"invoices"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("list invoices: %v\n%s", err, r.body)
	}
	return out.Invoices
}
