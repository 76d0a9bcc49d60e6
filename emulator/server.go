package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBody bounds request bodies; a create body is a few hundred bytes.
const maxBody = 1 << 20

// Server is one emulated CryptoProcessing API with its in-memory invoices. It is safe for
// concurrent use. Serve it with Start, or mount Handler in an httptest.Server.
type Server struct {
	opts    Options
	secrets map[string]string
	now     func() time.Time
	log     *slog.Logger
	min     map[string]*big.Rat
	max     map[string]*big.Rat
	// held maps a merchant key to the currencies its account holds, heldBody to its
	// /currencies/list answer.
	held     map[string]map[string]bool
	heldBody map[string][]byte

	mu       sync.Mutex
	invoices map[string]map[string]*invoice // merchant key → foreign_id → invoice
	all      []*invoice                     // in creation order
	balances map[string]map[string]*big.Rat // merchant key → currency → balance
	nextID   int64
	// timersStopped is set by Close: no invoice deadline fires or is armed after it.
	timersStopped bool

	rngMu sync.Mutex
	rng   *rand.Rand

	counters counters

	cb cbState

	closing   chan struct{}
	closeOnce sync.Once
	srvMu     sync.Mutex
	srv       *http.Server
	fresh     map[net.Conn]bool // connections that have not sent a request yet
}

// counters are the emulator's own statistics, served at /_emulator/faults.
type counters struct {
	requests, fail500, rateLimit429, dropAfterCommit, slow atomic.Int64
	callbacksSent, callbacksDelivered, callbacksFailed     atomic.Int64
}

// Faults is a snapshot of the injected faults and callback deliveries.
type Faults struct {
	Requests           int64 `json:"requests"`            // /api/v2 requests that drew a fault decision
	Fail500            int64 `json:"fail_500"`            // answered 500
	RateLimit429       int64 `json:"rate_limit_429"`      // answered 429
	DropAfterCommit    int64 `json:"drop_after_commit"`   // creates committed, then dropped unanswered
	Slow               int64 `json:"slow"`                // answers held for SlowDelay
	CallbackAttempts   int64 `json:"callback_attempts"`   // callback POSTs tried
	CallbacksDelivered int64 `json:"callbacks_delivered"` // answered 200
	CallbacksAbandoned int64 `json:"callbacks_abandoned"` // schedule exhausted or server closed
}

// New builds a server from opts (validated, see Options.Validate). It serves nothing until
// Start is called or Handler is mounted.
func New(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		secrets:  make(map[string]string, len(opts.Merchants)),
		held:     make(map[string]map[string]bool, len(opts.Merchants)),
		heldBody: make(map[string][]byte, len(opts.Merchants)),
		now:      opts.Now,
		log:      opts.logger(),
		invoices: map[string]map[string]*invoice{},
		balances: map[string]map[string]*big.Rat{},
		nextID:   826900,
		rng:      rand.New(rand.NewPCG(uint64(opts.Seed), 0x696e766f696365)),
		closing:  make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, m := range opts.Merchants {
		s.secrets[m.Key] = m.Secret
		s.held[m.Key] = heldSet(m.Currencies)
		s.heldBody[m.Key] = currenciesBody(s.held[m.Key])
		s.invoices[m.Key] = map[string]*invoice{}
		s.balances[m.Key] = map[string]*big.Rat{}
	}
	s.min = bounds(opts.MinAmount, map[string]string{"EUR": "10.00", "USD": "10.00"})
	s.max = bounds(opts.MaxAmount, map[string]string{"EUR": "10000.00", "USD": "10000.00"})
	s.cb.init()
	return s, nil
}

func bounds(given, def map[string]string) map[string]*big.Rat {
	if given == nil {
		given = def
	}
	out := make(map[string]*big.Rat, len(given))
	for cur, v := range given {
		r, _ := parseDecimal(v) // checked by Validate
		out[strings.ToUpper(cur)] = r
	}
	return out
}

// Keys returns the accepted API keys (never the secrets), in the order given.
func (s *Server) Keys() []string {
	keys := make([]string, len(s.opts.Merchants))
	for i, m := range s.opts.Merchants {
		keys[i] = m.Key
	}
	return keys
}

// UsesDefaultCredentials reports whether the server runs with DefaultKey/DefaultSecret
// because no merchant was configured; the command then prints that documented pair.
func (s *Server) UsesDefaultCredentials() bool {
	return len(s.opts.Merchants) == 1 && s.opts.Merchants[0].Key == DefaultKey && s.opts.Merchants[0].Secret == DefaultSecret
}

// Describe is the banner `invoiceform emulator` prints after Start: the API URL, the keys,
// the controls URL, and — only when the documented default pair is in use — its secret,
// which is public. Configured secrets are never printed.
func (s *Server) Describe(baseURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CryptoProcessing API v2 emulator at %s\n", baseURL)
	if s.UsesDefaultCredentials() {
		fmt.Fprintf(&b, "default credentials (public, emulator only):\n  INVOICEFORM_API_KEY=%s\n  INVOICEFORM_API_SECRET=%s\n", DefaultKey, DefaultSecret)
	} else {
		fmt.Fprintf(&b, "keys: %s (secrets as given)\n", strings.Join(s.Keys(), ", "))
	}
	fmt.Fprintf(&b, "  INVOICEFORM_ENDPOINT=%s\n", baseURL)
	fmt.Fprintf(&b, "controls (not part of the real API): %s/_emulator/invoices\n", strings.TrimSuffix(baseURL, "/api/v2"))
	return b.String()
}

// Handler serves the emulated API under /api/v2 and the controls under /_emulator/.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background. It returns the
// base URL of the API, like http://127.0.0.1:8787/api/v2.
func (s *Server) Start(addr string) (string, error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("emulator: Start called twice; build a new Server for a second listener")
	}
	select {
	case <-s.closing:
		return "", errors.New("emulator: Start after Close")
	default:
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("emulator: listen on %s: %w (is another emulator running? try -listen=127.0.0.1:0)", addr, err)
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState:         s.trackConn,
	}
	go func(srv *http.Server) { _ = srv.Serve(ln) }(s.srv)
	base := "http://" + ln.Addr().String() + "/api/v2"
	s.log.Info("emulator listening", "url", base, "keys", s.Keys())
	return base, nil
}

// Close stops the listener (letting answers in flight finish, but cutting slow and
// latency waits short), and stops callback deliveries. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		s.srvMu.Lock()
		srv := s.srv
		// Shutdown counts a connection that never sent a request as busy for 5 s; HTTP
		// clients open such spare connections under load. Nothing is in flight on them.
		for c := range s.fresh {
			_ = c.Close()
		}
		s.srvMu.Unlock()
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err = srv.Shutdown(ctx); err != nil {
				err = errors.Join(fmt.Errorf("emulator: graceful shutdown: %w", err), srv.Close())
			}
		}
		s.stopTimers()
		s.cb.stop()
	})
	return err
}

func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.fresh == nil {
		s.fresh = map[net.Conn]bool{}
	}
	if state == http.StateNew {
		s.fresh[c] = true
	} else {
		delete(s.fresh, c)
	}
}

// Faults returns the fault and callback counters.
func (s *Server) Faults() Faults {
	c := &s.counters
	return Faults{
		Requests: c.requests.Load(), Fail500: c.fail500.Load(), RateLimit429: c.rateLimit429.Load(),
		DropAfterCommit: c.dropAfterCommit.Load(), Slow: c.slow.Load(),
		CallbackAttempts: c.callbacksSent.Load(), CallbacksDelivered: c.callbacksDelivered.Load(),
		CallbacksAbandoned: c.callbacksFailed.Load(),
	}
}

// fault is the outcome of the one draw each API request takes.
type fault int

const (
	noFault fault = iota
	fault500
	fault429
	faultDrop
	faultSlow
)

// draw takes exactly one uniform number (and, for a latency range, one more) from the
// seeded generator under a mutex, so the n-th request to arrive always gets the n-th
// decision: with sequential requests the faults are fully reproducible from the seed; with
// concurrent ones the multiset of decisions is, but which request gets which depends on the
// arrival order.
func (s *Server) draw() (fault, time.Duration) {
	s.rngMu.Lock()
	u := s.rng.Float64()
	lat := s.opts.Latency.Min
	if span := s.opts.Latency.Max - s.opts.Latency.Min; span > 0 {
		lat += time.Duration(s.rng.Int64N(int64(span) + 1))
	}
	s.rngMu.Unlock()
	s.counters.requests.Add(1)
	o := &s.opts
	switch {
	case u < o.Fail500:
		return fault500, lat
	case u < o.Fail500+o.RateLimit429:
		return fault429, lat
	case u < o.Fail500+o.RateLimit429+o.DropAfterCommit:
		return faultDrop, lat
	case u < o.Fail500+o.RateLimit429+o.DropAfterCommit+o.SlowPastTimeout:
		return faultSlow, lat
	}
	return noFault, lat
}

// sleep waits d, or less if the client went away or the server is closing.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closing:
	}
	return false
}

// route names the API endpoint a request is for; "" means unknown.
type route struct {
	name      string // ping, accounts, currencies, create, cancel
	foreignID string // for cancel
}

func parseRoute(r *http.Request) route {
	p := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(p, "/api/v2/")
	if !ok {
		return route{}
	}
	switch {
	case rest == "ping":
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return route{name: "ping"}
		}
		return route{}
	case r.Method != http.MethodPost:
		return route{}
	case rest == "accounts/list":
		return route{name: "accounts"}
	case rest == "currencies/list":
		return route{name: "currencies"}
	case rest == "invoices/create" || rest == "invoices/create/":
		// The other slash is routed too: Laravel's router ignores a trailing slash [I].
		return route{name: "create"}
	}
	// invoices/{foreign_id}/cancel/ — with the trailing slash the docs show [D S9], or
	// without it, as Laravel routes both [I]. The id is one escaped path segment; "/" inside
	// a foreign_id must arrive as %2F.
	if seg, ok := strings.CutPrefix(rest, "invoices/"); ok {
		seg = strings.TrimSuffix(seg, "/")
		if seg, ok = strings.CutSuffix(seg, "/cancel"); ok && seg != "" && !strings.Contains(seg, "/") {
			if id, err := url.PathUnescape(seg); err == nil && id != "" {
				return route{name: "cancel", foreignID: id}
			}
		}
	}
	return route{}
}

// statusWriter records the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	path := r.URL.EscapedPath()
	var key string
	defer func() {
		// Only method, path, status and key: never the secret, a signature or a body (bodies
		// carry personal data such as email_user and sender_data).
		s.log.Debug("request", "method", r.Method, "path", path, "status", w.status, "key", key, "took", time.Since(start))
	}()
	if path == "/_emulator" || strings.HasPrefix(path, "/_emulator/") {
		s.serveControl(w, r)
		return
	}
	rt := parseRoute(r)
	switch rt.name {
	case "":
		// Unknown URLs get the same answer as a missing key header [D S8].
		writeRaw(w, http.StatusForbidden, bodyRequiredHeaderKey)
		return
	case "ping":
		// No headers needed and no faults: ping is the health check [D S7].
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("OK"))
		return
	}

	f, lat := s.draw()
	if !s.sleep(r.Context(), lat) {
		// Returning without a write would send an empty 200; cut the connection instead.
		dropConnection(w)
		return
	}
	switch f {
	case fault500:
		s.counters.fail500.Add(1)
		s.log.Info("fault: 500", "path", path)
		// Laravel's default JSON body for an unhandled exception [I]; nothing was processed.
		writeRaw(w, http.StatusInternalServerError, []byte(`{"message":"Server Error"}`))
		return
	case fault429:
		s.counters.rateLimit429.Add(1)
		s.log.Info("fault: 429", "path", path)
		secs := int64(math.Ceil(s.opts.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		// The documented 429 body, which is not valid JSON [D S19, "Rate limits"].
		writeRaw(w, http.StatusTooManyRequests, []byte(`{"errors": {"error code: 1015"}}`))
		return
	}

	if f == faultSlow {
		// Counted before processing, so that a client that gives up as soon as the invoice is
		// committed always finds the fault counted.
		s.counters.slow.Add(1)
	}
	status, body, committed, key2 := s.handleAPI(r, rt)
	key = key2

	switch {
	case f == faultDrop && rt.name == "create" && committed != "":
		s.counters.dropAfterCommit.Add(1)
		s.markDropped(key, committed)
		s.log.Info("fault: create committed, answer dropped", "path", path, "key", key)
		dropConnection(w)
		return
	case f == faultSlow:
		s.log.Info("fault: slow answer", "path", path, "delay", s.opts.SlowDelay)
		if !s.sleep(r.Context(), s.opts.SlowDelay) {
			dropConnection(w) // the client gave up or the server is closing: no answer
			return
		}
	}
	writeRaw(w, status, body)
}

// dropConnection closes the connection without writing a response, as a network cut or a
// crashed proxy would after the server had committed the invoice.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): net/http aborts the stream for this sentinel panic
		// without logging it; it is the documented way to abandon a response.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
