package api_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/api"
)

// A recognisable secret: any test output containing it is a leak.
const leakySecret = "SeCrEt-4242-must-not-leak"

func TestSignatureVectors(t *testing.T) {
	// The reference's three vectors ("Authentication"): the first from the docs, two computed there.
	cases := []struct{ body, want string }{
		{`{"currency":"BTC","foreign_id":"123456"}`, "03c25fcf7cd35e7d995e402cd5d51edd72d48e1471e865907967809a0c189ba55b90815f20e2bb10f82c7a9e9d865546fda58989c2ae9e8e2ff7bc29195fa1ec"},
		{`{}`, "89ff570683bfcd9e2c8911332e07e3ff196ca50f91faef98126fb0eb76df90d7ccddc4372a99ba67ec072fd3aac5d0b7eac44652e2b29ce36dbcf5ee50b6fa05"},
		{``, "0104da715ed5bb364eba7167a71316e194f5ca21629884dca6c368cfd411d2b8404d0cccf928a76ef5b8d170eae711d9a9ef4d9c74cd23693869c96fd64c335f"},
	}
	for _, c := range cases {
		if got := api.Sign("AbCdEfG123456", []byte(c.body)); got != c.want {
			t.Errorf("Sign(%q) = %s, want %s", c.body, got, c.want)
		}
		if !api.VerifySignature("AbCdEfG123456", []byte(c.body), c.want) {
			t.Errorf("VerifySignature refuses the vector for %q", c.body)
		}
		if api.VerifySignature("AbCdEfG123456", []byte(c.body+" "), c.want) || api.VerifySignature("AbCdEfG123456", []byte(c.body), strings.ToUpper(c.want)) {
			t.Errorf("VerifySignature accepts a changed body or uppercase hex for %q", c.body)
		}
	}
}

// recorder is an httptest server that recomputes the signature over the bytes it received.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
	// answer gives the status and body for each request.
	answer func(r *http.Request) (int, string)
}

type seen struct {
	method, path, escapedPath string
	header                    http.Header
	body                      []byte
	sigValid                  bool
}

func newRecorder(t *testing.T, answer func(r *http.Request) (int, string)) (*recorder, string) {
	rec := &recorder{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.Path, r.URL.EscapedPath(), r.Header.Clone(), body,
			r.Header.Get("X-Processing-Signature") == api.Sign(leakySecret, body)})
		rec.mu.Unlock()
		status, out := rec.answer(r)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, out)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL + "/api/v2"
}

func (r *recorder) last(t *testing.T) seen {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request reached the server")
	}
	return r.reqs[len(r.reqs)-1]
}

func newClient(t *testing.T, endpoint string, mod ...func(*api.Config)) *api.Client {
	t.Helper()
	cfg := api.Config{Endpoint: endpoint, Key: "key-1", Secret: leakySecret}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := api.New(cfg)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	return c
}

const okInvoice = `{"data":{"id":826900,"url":"https://invoices.sandbox.cryptoprocessing.com/invoice/Jyf1cQ","foreign_id":"order-0344","end_user_reference":"12345","address":null,"title":"Invoice Title","status":"created","currency":"EUR","amount":"100.00000000","sender_currency":null,"sender_amount":null,"fixed_at":null,"release_at":null,"seconds_left":null}}`

func TestRequestsAreSignedOverTheBytesSent(t *testing.T) {
	rec, endpoint := newRecorder(t, func(r *http.Request) (int, string) {
		switch r.URL.Path {
		case "/api/v2/invoices/create":
			return 200, okInvoice
		case "/api/v2/accounts/list":
			return 200, `{"data":[]}`
		case "/api/v2/currencies/list":
			return 200, `{"data":[]}`
		case "/api/v2/ping":
			return 200, "OK"
		}
		return 200, `[]`
	})
	c := newClient(t, endpoint+"/", func(c *api.Config) { c.UserAgent = "invoiceform/test" })
	ctx := context.Background()

	// A body with characters a re-encoding would change: HTML, non-ASCII, escaped slash.
	body := []byte(`{"timer":false,"title":"<Müller & Söhne>","currency":"EUR","amount":106.75,"foreign_id":"a\/b","end_user_reference":"1","url_success":"https://x.example/s","url_failed":"https://x.example/f","email_user":"a@x.example"}`)
	if _, err := c.CreateInvoice(ctx, body); err != nil {
		t.Fatal(err)
	}
	got := rec.last(t)
	if !bytes.Equal(got.body, body) || !got.sigValid || got.method != "POST" || got.path != "/api/v2/invoices/create" {
		t.Fatalf("create sent %s %s %q (signature valid: %t)", got.method, got.path, got.body, got.sigValid)
	}
	for h, want := range map[string]string{"Content-Type": "application/json", "X-Processing-Key": "key-1", "User-Agent": "invoiceform/test"} {
		if got.header.Get(h) != want {
			t.Errorf("%s = %q, want %q", h, got.header.Get(h), want)
		}
	}
	if sig := got.header.Get("X-Processing-Signature"); len(sig) != 128 || strings.ToLower(sig) != sig {
		t.Errorf("signature %q is not 128 lowercase hex characters", sig)
	}

	if err := c.CancelInvoice(ctx, "user/196 ü"); err != nil {
		t.Fatal(err)
	}
	got = rec.last(t)
	if got.escapedPath != "/api/v2/invoices/user%2F196%20%C3%BC/cancel/" || string(got.body) != "{}" || !got.sigValid {
		t.Fatalf("cancel sent %s %q valid=%t", got.escapedPath, got.body, got.sigValid)
	}

	for name, call := range map[string]func() error{
		"/api/v2/accounts/list":   func() error { _, err := c.Accounts(ctx); return err },
		"/api/v2/currencies/list": func() error { _, err := c.Currencies(ctx); return err },
	} {
		if err := call(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got = rec.last(t)
		if got.path != name || string(got.body) != "{}" || !got.sigValid || got.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s sent %s %q valid=%t", name, got.path, got.body, got.sigValid)
		}
	}

	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	got = rec.last(t)
	if got.method != "GET" || got.path != "/api/v2/ping" || got.header.Get("X-Processing-Key") != "" || got.header.Get("X-Processing-Signature") != "" {
		t.Fatalf("ping sent %s %s with auth headers %v", got.method, got.path, got.header)
	}
}

func TestDefaultUserAgent(t *testing.T) {
	rec, endpoint := newRecorder(t, func(*http.Request) (int, string) { return 200, "OK" })
	if err := newClient(t, endpoint).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ua := rec.last(t).header.Get("User-Agent"); !strings.HasPrefix(ua, "invoiceform/") {
		t.Fatalf("User-Agent %q", ua)
	}
}

func TestNewChecksTheConfig(t *testing.T) {
	good := api.Config{Endpoint: "https://app.cryptoprocessing.com/api/v2", Key: "k", Secret: leakySecret}
	for _, ep := range []string{"https://app.cryptoprocessing.com/api/v2", "http://127.0.0.1:8787/api/v2", "http://localhost:1/api/v2", "http://[::1]:8787/api/v2", "http://127.3.2.1/api/v2/"} {
		cfg := good
		cfg.Endpoint = ep
		c, err := api.New(cfg)
		if err != nil {
			t.Errorf("%s refused: %v", ep, err)
			continue
		}
		if strings.HasSuffix(c.Endpoint(), "/") {
			t.Errorf("endpoint %q keeps a trailing slash", c.Endpoint())
		}
	}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	bad := []struct {
		name string
		edit func(*api.Config)
		want string
	}{
		{"plain http elsewhere", func(c *api.Config) { c.Endpoint = "http://app.cryptoprocessing.com/api/v2" }, "plain http"},
		{"plain http to a LAN address", func(c *api.Config) { c.Endpoint = "http://192.168.1.5/api/v2" }, "plain http"},
		{"no scheme", func(c *api.Config) { c.Endpoint = "app.cryptoprocessing.com/api/v2" }, "not an absolute URL"},
		{"ftp", func(c *api.Config) { c.Endpoint = "ftp://app.cryptoprocessing.com/api/v2" }, "must be https"},
		{"credentials in the URL", func(c *api.Config) { c.Endpoint = "https://k:" + leakySecret + "@app.cryptoprocessing.com/api/v2" }, "carries credentials"},
		{"unparsable URL with credentials", func(c *api.Config) { c.Endpoint = "https://k:" + leakySecret + "@app.crypto processing.com/%zz" }, "not an absolute URL"},
		{"query", func(c *api.Config) { c.Endpoint = "https://app.cryptoprocessing.com/api/v2?x=1" }, "query"},
		{"no key", func(c *api.Config) { c.Key = "" }, "no API key"},
		{"key with a newline", func(c *api.Config) { c.Key = "k\n" }, "stray newline"},
		{"no secret", func(c *api.Config) { c.Secret = "" }, "no API secret"},
		{"negative timeout", func(c *api.Config) { c.Timeout = -time.Second }, "negative"},
		{"insecure TLS", func(c *api.Config) { c.HTTPClient = insecure }, "TLS verification"},
	}
	for _, b := range bad {
		cfg := good
		b.edit(&cfg)
		_, err := api.New(cfg)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want one mentioning %q", b.name, err, b.want)
		}
		if err != nil && strings.Contains(err.Error(), leakySecret) {
			t.Errorf("%s: error leaks the secret: %v", b.name, err)
		}
	}
}

func TestTLSIsVerified(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, okInvoice) }))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL+"/api/v2")
	_, err := c.CreateInvoice(context.Background(), []byte(`{}`))
	var te *api.TransportError
	if !errors.As(err, &te) || te.Sent || api.OutcomeOf(err) != api.Definite {
		t.Fatalf("self-signed server: %v (outcome %v); want a definite TransportError", err, api.OutcomeOf(err))
	}
	// The same server through a client that trusts its certificate works: the failure above
	// was the verification, nothing else.
	c = newClient(t, srv.URL+"/api/v2", func(cfg *api.Config) { cfg.HTTPClient = srv.Client() })
	if _, err := c.CreateInvoice(context.Background(), []byte(`{}`)); err != nil {
		t.Fatalf("trusted TLS: %v", err)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var hits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		if r.URL.Path == "/api/v2/invoices/create" {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		_, _ = io.WriteString(w, okInvoice)
	}))
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL+"/api/v2").CreateInvoice(context.Background(), []byte(`{}`))
	var he *api.HTTPError
	if !errors.As(err, &he) || he.Status != 307 || api.OutcomeOf(err) != api.Uncertain {
		t.Fatalf("redirect: %v", err)
	}
	if _, followed := hits.Load("/elsewhere"); followed {
		t.Fatal("the client followed a redirect of a signed create")
	}
}

func TestTransportClassification(t *testing.T) {
	ctx := context.Background()

	t.Run("connection refused is definite", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		_, err = newClient(t, "http://"+addr+"/api/v2").CreateInvoice(ctx, []byte(`{}`))
		var te *api.TransportError
		if !errors.As(err, &te) || te.Sent || api.OutcomeOf(err) != api.Definite || api.Retryable(err) != true {
			t.Fatalf("refused dial: %v", err)
		}
	})

	t.Run("connection closed after the request is uncertain", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}))
		t.Cleanup(srv.Close)
		c := newClient(t, srv.URL+"/api/v2")
		_, err := c.CreateInvoice(ctx, []byte(`{}`))
		var te *api.TransportError
		if !errors.As(err, &te) || !te.Sent || api.OutcomeOf(err) != api.Uncertain {
			t.Fatalf("create cut after sending: %v (outcome %v)", err, api.OutcomeOf(err))
		}
		// The same cut on a read-only call changed nothing.
		if _, err := c.Accounts(ctx); api.OutcomeOf(err) != api.Definite {
			t.Fatalf("accounts cut: %v (outcome %v)", err, api.OutcomeOf(err))
		}
	})

	t.Run("timeout is uncertain and unwraps", func(t *testing.T) {
		release := make(chan struct{})
		arrived := make(chan struct{}, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(func() { close(release); srv.Close() })
		// Long enough for a loaded machine to connect; the server then never answers.
		c := newClient(t, srv.URL+"/api/v2", func(cfg *api.Config) { cfg.Timeout = 500 * time.Millisecond })
		err := c.CancelInvoice(ctx, "x")
		select {
		case <-arrived:
		default:
			t.Fatalf("the request never reached the server within the timeout: %v", err)
		}
		if api.OutcomeOf(err) != api.Uncertain || !errors.Is(err, context.DeadlineExceeded) || !api.Retryable(err) {
			t.Fatalf("timeout: %v (outcome %v)", err, api.OutcomeOf(err))
		}
		if !strings.Contains(err.Error(), "resend the same body") {
			t.Errorf("no hint in %q", err)
		}
	})

	t.Run("cancelled before sending is definite", func(t *testing.T) {
		rec, endpoint := newRecorder(t, func(*http.Request) (int, string) { return 200, okInvoice })
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := newClient(t, endpoint).CreateInvoice(cctx, []byte(`{}`))
		if api.OutcomeOf(err) != api.Definite || api.Retryable(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v (outcome %v)", err, api.OutcomeOf(err))
		}
		if len(rec.reqs) != 0 {
			t.Fatal("a cancelled request reached the server")
		}
	})

	t.Run("not a JSON object is refused before sending", func(t *testing.T) {
		rec, endpoint := newRecorder(t, func(*http.Request) (int, string) { return 200, okInvoice })
		for _, body := range []string{``, `[]`, `{"a":`, `"x"`} {
			_, err := newClient(t, endpoint).CreateInvoice(ctx, []byte(body))
			var re *api.RequestError
			if !errors.As(err, &re) || api.OutcomeOf(err) != api.Definite {
				t.Errorf("body %q: %v", body, err)
			}
		}
		if _, err := newClient(t, endpoint).CreateInvoice(ctx, nil); err == nil {
			t.Error("nil body accepted")
		}
		for _, id := range []string{"", ".", ".."} {
			if err := newClient(t, endpoint).CancelInvoice(ctx, id); api.OutcomeOf(err) != api.Definite {
				t.Errorf("foreign_id %q: %v", id, err)
			}
		}
		if len(rec.reqs) != 0 {
			t.Fatalf("%d refused requests reached the server", len(rec.reqs))
		}
	})
}

func TestSecretNeverLeaks(t *testing.T) {
	// A hostile or broken server echoes the secret in every kind of answer.
	echo := "proxy says: secret=" + leakySecret
	statuses := []int{200, 201, 400, 401, 403, 404, 429, 500, 502}
	bodies := []string{
		echo,
		`{"errors":{"` + leakySecret + `":"` + echo + `"}}`,
		`{"errors":{"error":"` + echo + `","code":"` + leakySecret + `"}}`,
		`{"error":"` + echo + `","code":"` + leakySecret + `"}`,
		`{"data":{"id":"` + leakySecret + `"}}`,
		`{"data":{"id":1,"url":{"x":"` + leakySecret + `"}}}`,
	}
	var (
		mu   sync.Mutex
		next int
	)
	_, endpoint := newRecorder(t, func(*http.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		i := next
		next++
		return statuses[i%len(statuses)], bodies[(i/len(statuses))%len(bodies)]
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg := api.Config{Endpoint: endpoint, Key: "key-1", Secret: leakySecret}
	c, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for range len(statuses) * len(bodies) {
		_, err := c.CreateInvoice(context.Background(), []byte(`{}`))
		if err == nil {
			continue
		}
		outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		logger.Error("create failed", "err", err)
	}
	if len(outputs) < 3*40 {
		t.Fatalf("only %d error outputs checked", len(outputs))
	}
	inURL := api.Config{Endpoint: "https://user:" + leakySecret + "@app.example.com/api/v2", Key: "k", Secret: "other"}
	for _, v := range []any{cfg, &cfg, c, *c, inURL} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
		j, _ := json.Marshal(v)
		outputs = append(outputs, string(j))
		logger.Info("value", "v", v)
	}
	slog.New(slog.NewTextHandler(&logs, nil)).Info("text", "cfg", cfg, "client", c)
	outputs = append(outputs, logs.String())
	hexSecret, prefix := fmt.Sprintf("%x", leakySecret), leakySecret[:10]
	for _, o := range outputs {
		if strings.Contains(o, prefix) || strings.Contains(strings.ToLower(o), hexSecret) {
			t.Fatalf("leak: %s", o)
		}
	}
}
