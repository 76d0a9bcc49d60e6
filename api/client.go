package api

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
	"net/http/httptrace"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one request, answer included, when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxAnswer bounds the answers read; the largest documented one (currencies) is a few KB.
const maxAnswer = 4 << 20

// Config is what New needs. Secret is used only to sign; it is never printed.
type Config struct {
	Endpoint   string        // e.g. https://app.cryptoprocessing.com/api/v2; http only to loopback
	Key        string        // X-Processing-Key
	Secret     string        // HMAC key of X-Processing-Signature
	HTTPClient *http.Client  // optional; its redirects are disabled, TLS verification must be on
	Timeout    time.Duration // per request; 0 means DefaultTimeout
	UserAgent  string        // default "invoiceform/<module version>"
}

// Format prints the config without the secret, whatever the verb.
func (c Config) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "api.Config{Endpoint:%q, Key:%q, Secret:\"[redacted]\", Timeout:%s, UserAgent:%q}", redactURL(c.Endpoint), c.Key, c.Timeout, c.UserAgent)
}

// LogValue keeps the secret out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("endpoint", redactURL(c.Endpoint)), slog.String("key", c.Key))
}

// MarshalJSON keeps the secret out of JSON dumps.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Endpoint string `json:"endpoint"`
		Key      string `json:"key"`
	}{redactURL(c.Endpoint), c.Key})
}

// Client calls the API. It is safe for concurrent use by many workers.
type Client struct {
	endpoint string
	key      string
	secret   string
	hc       *http.Client
	timeout  time.Duration
	ua       string
}

// Format prints the client without the secret, whatever the verb. A value receiver, so a
// dereferenced copy is covered too.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "api.Client{Endpoint:%q, Key:%q}", c.endpoint, c.key)
}

// LogValue keeps the secret out of structured logs.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("endpoint", c.endpoint), slog.String("key", c.key))
}

// Endpoint is the base URL without a trailing slash.
func (c *Client) Endpoint() string { return c.endpoint }

// Key is the API key in use (public, unlike the secret).
func (c *Client) Key() string { return c.key }

// New checks cfg and builds a client.
func New(cfg Config) (*Client, error) {
	endpoint, err := checkEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Key == "":
		return nil, ErrNoKey
	case cfg.Secret == "":
		return nil, ErrNoSecret
	case !headerSafe(cfg.Key):
		return nil, ErrKeyUnsafe
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("api: timeout %s is negative", cfg.Timeout)
	}
	c := &Client{endpoint: endpoint, key: cfg.Key, secret: cfg.Secret, timeout: cfg.Timeout, ua: cfg.UserAgent}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.ua == "" {
		c.ua = "invoiceform/" + moduleVersion()
	}
	if cfg.HTTPClient != nil {
		if tr, ok := cfg.HTTPClient.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify {
			return nil, errors.New("api: the HTTP client skips TLS verification; invoiceform never talks to the API that way")
		}
		hc := *cfg.HTTPClient // a copy: the caller's client keeps its redirect policy
		c.hc = &hc
	} else {
		// No http.Client.Timeout: the per-request context (send) bounds the whole exchange,
		// body included, and its error unwraps to context.DeadlineExceeded.
		c.hc = &http.Client{Transport: defaultTransport()}
	}
	// A redirect would resend (307/308) or drop (301-303) a signed money request; neither is
	// wanted. The 3xx comes back as an HTTPError.
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

// defaultTransport is sized for ~64 parallel workers on one host; TLS verification stays
// on (the zero tls.Config verifies).
func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

func checkEndpoint(raw string) (string, error) {
	const hint = "use https://app.cryptoprocessing.com/api/v2 or https://app.sandbox.cryptoprocessing.com/api/v2"
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("%w: %q is not an absolute URL; %s", ErrEndpoint, redactURL(raw), hint)
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: %s; they belong in the key and the secret", ErrEndpointCredentials, u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: %s has a query or fragment; %s", ErrEndpoint, u.Redacted(), hint)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			return "", fmt.Errorf("%w: %s uses plain http to a non-loopback host; use https (plain http is only for a local emulator on 127.0.0.1, ::1 or localhost)", ErrEndpoint, u.Redacted())
		}
	default:
		return "", fmt.Errorf("%w: %s must be https; %s", ErrEndpoint, u.Redacted(), hint)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// redactURL hides userinfo in a URL that did not even parse.
func redactURL(raw string) string {
	if i := strings.Index(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return raw[:j+3] + "[redacted]" + raw[i:]
		}
		return "[redacted]" + raw[i:]
	}
	return raw
}

func headerSafe(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// redact removes the secret from text that came back from the server; a server that echoes
// request headers or a proxy error page must not carry it into an error message.
func (c *Client) redact(s string) string {
	if c.secret == "" || !strings.Contains(s, c.secret) {
		return s
	}
	return strings.ReplaceAll(s, c.secret, "[redacted]")
}

// answer is a raw HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// post signs body and sends exactly those bytes.
func (c *Client) post(ctx context.Context, path string, body []byte, mutating bool) (answer, error) {
	return c.send(ctx, http.MethodPost, path, body, true, mutating)
}

func (c *Client) send(ctx context.Context, method, path string, body []byte, signed, mutating bool) (answer, error) {
	op := method + " " + path
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// GotConn fires once a connection is in hand, before any byte of the request is
	// written: without it the request provably never left (dial or TLS failure).
	var gotConn atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) }})

	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, rd)
	if err != nil {
		return answer{}, &RequestError{Op: op, Reason: c.redact(err.Error())}
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	if signed {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Processing-Key", c.key)
		req.Header.Set("X-Processing-Signature", Sign(c.secret, body))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if msg := err.Error(); c.redact(msg) != msg {
			err = errors.New(c.redact(msg)) // loses the chain, but never the secret
		}
		return answer{}, &TransportError{Op: op, Err: err, Sent: gotConn.Load(), Mutating: mutating}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		// The status line arrived, so the request was received: as uncertain as a timeout.
		return answer{}, &TransportError{Op: op, Err: fmt.Errorf("HTTP %d, answer cut: %s", resp.StatusCode, c.redact(err.Error())), Sent: true, Mutating: mutating}
	}
	if len(b) > maxAnswer {
		return answer{}, &ResponseError{Op: op, Status: resp.StatusCode, Body: snippet(c.redact(string(b)), 200), Reason: "answer larger than 4 MiB", Mutating: mutating}
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// failure is the error of a non-2xx answer.
func (c *Client) failure(op string, a answer, mutating bool) error {
	return classify(op, a.status, a.header, a.body, mutating, c.redact)
}

func ok(status int) bool { return status >= 200 && status < 300 }
