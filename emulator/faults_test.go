package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/emulator"
)

// outcome of one raw create: the status, or "dropped" when the connection closed unanswered.
func createOutcome(t *testing.T, client *http.Client, base, foreignID string) string {
	t.Helper()
	body := encode(t, validBody(foreignID))
	req, _ := http.NewRequest(http.MethodPost, base+"/invoices/create", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Processing-Key", testKey)
	req.Header.Set("X-Processing-Signature", signHex(testSecret, body))
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "EOF") {
			return "dropped"
		}
		var timeout interface{ Timeout() bool }
		if errors.As(err, &timeout) && timeout.Timeout() {
			return "timeout"
		}
		t.Fatalf("create %s: %v", foreignID, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 429 {
		return fmt.Sprintf("429 retry-after=%s %s", resp.Header.Get("Retry-After"), b)
	}
	return fmt.Sprint(resp.StatusCode)
}

func faultRun(t *testing.T, seed int64) ([]string, emulator.Faults, []invoiceView) {
	s, base := start(t, emulator.Options{Seed: seed, Fail500: 0.2, RateLimit429: 0.2, DropAfterCommit: 0.2, RetryAfter: 1500 * time.Millisecond})
	var got []string
	for i := range 40 {
		got = append(got, createOutcome(t, http.DefaultClient, base, fmt.Sprintf("f-%d", i)))
	}
	return got, s.Faults(), listInvoices(t, base)
}

func TestFaultsAreDeterministicForASeed(t *testing.T) {
	first, faults, invoices := faultRun(t, 42)
	again, _, _ := faultRun(t, 42)
	if strings.Join(first, ",") != strings.Join(again, ",") {
		t.Fatalf("same seed, different faults:\n%v\n%v", first, again)
	}
	other, _, _ := faultRun(t, 7)
	if strings.Join(first, ",") == strings.Join(other, ",") {
		t.Fatalf("seeds 42 and 7 gave the same 40 decisions: the seed is not used")
	}

	count := map[string]int{}
	for _, o := range first {
		count[o]++
	}
	const rl = `429 retry-after=2 {"errors": {"error code: 1015"}}`
	if count["500"] == 0 || count[rl] == 0 || count["dropped"] == 0 || count["200"] == 0 {
		t.Fatalf("seed 42 should produce every kind of outcome in 40 creates: %v", count)
	}
	if len(count) != 4 {
		t.Fatalf("unexpected outcomes: %v", count)
	}
	if faults.Requests != 40 || int(faults.Fail500) != count["500"] || int(faults.RateLimit429) != count[rl] || int(faults.DropAfterCommit) != count["dropped"] {
		t.Fatalf("counters %+v do not match outcomes %v", faults, count)
	}
	// 500 and 429 create nothing; dropped answers did create, and say so.
	if len(invoices) != count["200"]+count["dropped"] {
		t.Fatalf("%d invoices stored for %d answered + %d dropped creates", len(invoices), count["200"], count["dropped"])
	}
	dropped := 0
	for i, o := range first {
		if o != "dropped" {
			continue
		}
		dropped++
		found := false
		for _, inv := range invoices {
			if inv.ForeignID == fmt.Sprintf("f-%d", i) {
				found = inv.DroppedAnswer
			}
		}
		if !found {
			t.Errorf("f-%d: answer dropped but the invoice is not recorded as such", i)
		}
	}
	if dropped == 0 {
		t.Fatal("no drop checked")
	}
}

func TestDroppedCreateIsTakenOnRetry(t *testing.T) {
	_, base := start(t, emulator.Options{DropAfterCommit: 1})
	if o := createOutcome(t, http.DefaultClient, base, "lost-answer"); o != "dropped" {
		t.Fatalf("first create: %s, want dropped", o)
	}
	// Only creates are dropped; everything else is answered.
	r := signed(t, base, "/invoices/create", encode(t, validBody("lost-answer")))
	if r.status != 400 || r.body != foreignIDTaken {
		t.Fatalf("resend: %d %s; want the duplicate refusal", r.status, r.body)
	}
}

func TestSlowAnswerCommitsBeforeTheClientGivesUp(t *testing.T) {
	s, base := start(t, emulator.Options{SlowPastTimeout: 1, SlowDelay: time.Hour})
	// The client gives up once the invoice is committed (not after a fixed time, which a
	// loaded machine could exceed before the request even arrives).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			if _, ok := s.Lookup(testKey, "slow-1"); ok {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	body := encode(t, validBody("slow-1"))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/invoices/create", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Processing-Key", testKey)
	req.Header.Set("X-Processing-Signature", signHex(testSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d) instead of waiting an hour", resp.StatusCode)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if f := s.Faults(); f.Slow != 1 {
		t.Fatalf("slow counter %d", f.Slow)
	}
	// Close must not wait out the hour: the cleanup would hang the test otherwise.
}

func TestLatencyRangeStillAnswers(t *testing.T) {
	_, base := start(t, emulator.Options{Latency: emulator.Latency{Min: time.Millisecond, Max: 3 * time.Millisecond}})
	for i := range 5 {
		if o := createOutcome(t, http.DefaultClient, base, fmt.Sprintf("lat-%d", i)); o != "200" {
			t.Fatalf("create with latency: %s", o)
		}
	}
}

func TestControlEndpoints(t *testing.T) {
	_, base := start(t, emulator.Options{Merchants: []emulator.Merchant{{Key: testKey, Secret: testSecret}, {Key: "m2", Secret: "m2-secret"}}})
	signed(t, base, "/invoices/create", encode(t, validBody("c-1")))
	signed(t, base, "/invoices/create", encode(t, validBody("c-1"))) // a refused duplicate
	signedAs(t, base, "/invoices/create", "m2", "m2-secret", encode(t, validBody("c-1")))
	signedAs(t, base, "/invoices/create", "m2", "m2-secret", encode(t, validBody("only-m2")))

	if l := listInvoices(t, base); len(l) != 3 || l[0].ForeignID != "c-1" || l[0].Duplicates != 1 || l[0].Merchant != testKey {
		t.Fatalf("list: %+v", l)
	}
	if r := control(t, base, "GET", "/invoices?key=m2", nil); strings.Count(r.body, `"foreign_id"`) != 2 {
		t.Fatalf("list for m2: %s", r.body)
	}
	if r := control(t, base, "GET", "/invoices/c-1", nil); r.status != http.StatusConflict {
		t.Fatalf("ambiguous foreign_id: %d %s", r.status, r.body)
	}
	r := control(t, base, "GET", "/invoices/only-m2", nil)
	var inv invoiceView
	if err := json.Unmarshal([]byte(r.body), &inv); err != nil || r.status != 200 || inv.Merchant != "m2" || inv.Status != "created" || inv.Amount != "106.75000000" {
		t.Fatalf("get one: %d %s", r.status, r.body)
	}
	steps := []struct {
		status string
		code   int
		want   string
	}{
		{"processing", 200, "processing"},
		{"created", 400, "processing"},
		{"confirmed", 200, "confirmed"},
		{"failed", 409, "confirmed"},
	}
	for _, st := range steps {
		r := control(t, base, "POST", "/invoices/c-1/status?key="+testKey, []byte(`{"status":"`+st.status+`"}`))
		if r.status != st.code {
			t.Fatalf("move to %s: %d %s", st.status, r.status, r.body)
		}
		r = control(t, base, "GET", "/invoices/c-1?key="+testKey, nil)
		if err := json.Unmarshal([]byte(r.body), &inv); err != nil || inv.Status != st.want {
			t.Fatalf("after move to %s: %s", st.status, r.body)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/invoices/nope", ""},
		{"GET", "/invoices/c-1?key=nobody", ""},
		{"GET", "/nothing", ""},
	} {
		if r := control(t, base, c.method, c.path, []byte(c.body)); r.status != 404 || !strings.Contains(r.body, `"error"`) {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	if r := control(t, base, "POST", "/invoices/only-m2/status", []byte(`not json`)); r.status != 400 {
		t.Errorf("bad control body: %d %s", r.status, r.body)
	}
	if r := control(t, base, "POST", "/invoices/only-m2/status", []byte(`{"status":"paid"}`)); r.status != 400 || !strings.Contains(r.body, "pending, processing, confirmed or failed") {
		t.Errorf("unknown status: %d %s", r.status, r.body)
	}
	if r := control(t, base, "GET", "/faults", nil); r.status != 200 || !strings.Contains(r.body, `"requests": 4`) {
		t.Errorf("faults: %d %s", r.status, r.body)
	}
}

func TestControlRefusesNonLoopbackClients(t *testing.T) {
	s, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	req := httptest.NewRequest("GET", "/_emulator/invoices", nil)
	req.RemoteAddr = "192.0.2.10:4711"
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("non-loopback control request: %d %s", rec.Code, rec.Body)
	}
}

// callbackSink records callbacks and refuses the first `refuse` deliveries with 500.
type callbackSink struct {
	mu     sync.Mutex
	refuse int
	got    []receivedCallback
	notify chan struct{}
}

type receivedCallback struct {
	key, sig, contentType string
	body                  []byte
	answered              int
}

func (c *callbackSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	code := 200
	if c.refuse > 0 {
		c.refuse--
		code = 500
	}
	c.got = append(c.got, receivedCallback{r.Header.Get("X-Processing-Key"), r.Header.Get("X-Processing-Signature"), r.Header.Get("Content-Type"), body, code})
	c.mu.Unlock()
	w.WriteHeader(code)
	c.notify <- struct{}{}
}

func (c *callbackSink) wait(t *testing.T, n int) []receivedCallback {
	t.Helper()
	for {
		c.mu.Lock()
		if len(c.got) >= n {
			out := append([]receivedCallback(nil), c.got...)
			c.mu.Unlock()
			return out
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
			t.Fatalf("only %d of %d callbacks arrived", len(c.got), n)
		}
	}
}

func TestCallbacksAreSignedAndRetried(t *testing.T) {
	sink := &callbackSink{refuse: 2, notify: make(chan struct{}, 100)}
	hook := httptest.NewServer(sink)
	t.Cleanup(hook.Close)
	s, base := start(t, emulator.Options{
		CallbackURL: hook.URL + "/hook",
		// The scale also runs the invoice timers: 1/60 gives the 15-minute timer of this
		// timer invoice 15 s, far more than the test needs, while the retries, scheduled
		// after 60 ms and 300 ms of emulated time, come after 1 ms and 5 ms.
		CallbackSchedule: []time.Duration{60 * time.Millisecond, 300 * time.Millisecond},
		CallbackScale:    1.0 / 60,
	})
	three := validBody("cb-1")
	three["timer"], three["sender_currency"], three["amount"] = true, "ETH", json.Number("300")
	three["sender_type"], three["sender_data"] = "legal", map[string]any{"legal_name": "ACME GmbH", "country_of_registration": "DEU"}
	if r := signed(t, base, "/invoices/create", encode(t, three)); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := control(t, base, "POST", "/invoices/cb-1/status", []byte(`{"status":"confirmed"}`)); r.status != 200 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	got := sink.wait(t, 3) // refused twice, accepted on the second retry
	for i, cb := range got {
		if cb.key != testKey || cb.contentType != "application/json" || cb.sig != signHex(testSecret, cb.body) {
			t.Fatalf("callback %d not signed like a request: key=%q sig ok=%t", i, cb.key, cb.sig == signHex(testSecret, cb.body))
		}
		if !bytes.Equal(cb.body, got[0].body) {
			t.Fatalf("a retry changed the body")
		}
	}
	var p struct {
		ID               int64  `json:"id"`
		ForeignID        string `json:"foreign_id"`
		EndUserReference string `json:"end_user_reference"`
		Type             string `json:"type"`
		Status           string `json:"status"`
		Error            string `json:"error"`
		CryptoAddress    struct {
			Currency, ConvertTo, Address string
		} `json:"crypto_address"`
		CurrencySent struct {
			Currency, Amount string
			Remaining        string `json:"remaining_amount"`
		} `json:"currency_sent"`
		CurrencyReceived struct{ Currency, Amount string } `json:"currency_received"`
		Transactions     []struct {
			Currency, Amount, Txid, Confirmations string
			TransactionType                       string `json:"transaction_type"`
		} `json:"transactions"`
		Fees      []struct{ Type, Currency, Amount string } `json:"fees"`
		FixedAt   int64                                     `json:"fixed_at"`
		ExpiresAt int64                                     `json:"expires_at"`
	}
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatalf("callback body: %v\n%s", err, got[0].body)
	}
	inv, _ := s.Lookup(testKey, "cb-1")
	if p.ID != inv.ID || p.ForeignID != "cb-1" || p.EndUserReference != "12345" || p.Type != "invoice" || p.Status != "confirmed" || p.Error != "" {
		t.Errorf("callback head: %s", got[0].body)
	}
	if p.CurrencySent.Currency != "ETH" || p.CurrencySent.Amount != "0.10000000" || p.CurrencySent.Remaining != "0.00000000" ||
		p.CurrencyReceived.Currency != "EUR" || p.CurrencyReceived.Amount != "300.00000000" { // gross, the fee is in fees
		t.Errorf("callback amounts: %s", got[0].body)
	}
	if len(p.Transactions) != 1 || p.Transactions[0].Confirmations == "" || p.Transactions[0].TransactionType != "blockchain" ||
		len(p.Fees) != 1 || p.Fees[0].Amount != "2.97000000" || p.CryptoAddress.Address == "" {
		t.Errorf("callback details: %s", got[0].body)
	}
	// Paid: the deadline is stretched to 24 h from the payment [D S23].
	if p.FixedAt != fixedNow.Unix() || p.ExpiresAt != fixedNow.Unix()+86400 {
		t.Errorf("fixed_at %d expires_at %d", p.FixedAt, p.ExpiresAt)
	}

	// Cancelling sends a failed callback.
	signed(t, base, "/invoices/create", encode(t, validBody("cb-2")))
	if r := signed(t, base, "/invoices/cb-2/cancel/", []byte(`{}`)); r.status != 200 {
		t.Fatal(r.body)
	}
	got = sink.wait(t, 4)
	if !strings.Contains(string(got[3].body), `"status":"failed"`) || !strings.Contains(string(got[3].body), `"foreign_id":"cb-2"`) {
		t.Errorf("cancel callback: %s", got[3].body)
	}
	// The sink answers before the emulator reads the answer: wait for the counter.
	waitFor(t, func() bool { return s.Faults().CallbacksDelivered == 2 })
	if f := s.Faults(); f.CallbackAttempts != 4 || f.CallbacksDelivered != 2 || f.CallbacksAbandoned != 0 {
		t.Errorf("callback counters %+v", f)
	}
}

// waitFor polls cond; the deadline only guards against a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCallbacksGiveUpAfterTheSchedule(t *testing.T) {
	sink := &callbackSink{refuse: 1000, notify: make(chan struct{}, 100)}
	hook := httptest.NewServer(sink)
	t.Cleanup(hook.Close)
	s, base := start(t, emulator.Options{CallbackURL: hook.URL, CallbackSchedule: []time.Duration{time.Millisecond, time.Millisecond}})
	signed(t, base, "/invoices/create", encode(t, validBody("never-accepted")))
	if err := s.SetStatus(testKey, "never-accepted", emulator.StatusProcessing, ""); err != nil {
		t.Fatal(err)
	}
	sink.wait(t, 3)
	// Close waits for the delivery goroutine, so the counters are final afterwards.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if f := s.Faults(); f.CallbackAttempts != 3 || f.CallbacksAbandoned != 1 || f.CallbacksDelivered != 0 {
		t.Fatalf("counters %+v", f)
	}
}

func TestCloseStopsPendingCallbackRetries(t *testing.T) {
	sink := &callbackSink{refuse: 1000, notify: make(chan struct{}, 100)}
	hook := httptest.NewServer(sink)
	t.Cleanup(hook.Close)
	s, base := start(t, emulator.Options{CallbackURL: hook.URL}) // the real schedule: next try in 1 minute
	signed(t, base, "/invoices/create", encode(t, validBody("x")))
	if err := s.SetStatus(testKey, "x", emulator.StatusFailed, ""); err != nil {
		t.Fatal(err)
	}
	sink.wait(t, 1)
	if err := s.Close(); err != nil { // returns instead of waiting a minute for the retry
		t.Fatal(err)
	}
	if f := s.Faults(); f.CallbacksAbandoned != 1 {
		t.Fatalf("counters %+v", f)
	}
}

func TestBindAndValidate(t *testing.T) {
	parse := func(args ...string) (emulator.Options, error) {
		var o emulator.Options
		fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o.Bind(fs)
		if err := fs.Parse(args); err != nil {
			return o, err
		}
		return o, o.Validate()
	}
	o, err := parse("-listen=127.0.0.1:0", "-key=a", "-secret=sa", "-key", "b", "-secret=sb", "-latency=10ms-50ms",
		"-seed=9", "-fail-rate=0.1", "-rate-limit-rate=0.2", "-retry-after=3s", "-drop-rate=0.05", "-slow-rate=0.05",
		"-slow-delay=40s", "-status-201", "-callback-url=https://shop.example.com/cb", "-callback-scale=0.001")
	if err != nil {
		t.Fatalf("valid flags refused: %v", err)
	}
	if len(o.Merchants) != 2 || o.Merchants[1].Key != "b" || o.Merchants[1].Secret != "sb" ||
		o.Latency != (emulator.Latency{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}) || o.Seed != 9 ||
		o.Fail500 != 0.1 || o.RateLimit429 != 0.2 || o.RetryAfter != 3*time.Second || o.DropAfterCommit != 0.05 ||
		o.SlowPastTimeout != 0.05 || o.SlowDelay != 40*time.Second || !o.Status201 || o.Listen != "127.0.0.1:0" ||
		o.CallbackScale != 0.001 {
		t.Fatalf("parsed %+v", o)
	}

	o, err = parse()
	if err != nil || o.Listen != emulator.DefaultListen || len(o.Merchants) != 1 || o.Merchants[0].Key != emulator.DefaultKey || o.Merchants[0].Secret != emulator.DefaultSecret {
		t.Fatalf("defaults: %v %+v", err, o)
	}

	bad := map[string][]string{
		"in pairs":                 {"-key=a", "-key=b", "-secret=s"},
		"from 0 to 1":              {"-fail-rate=1.5"},
		"-drop-rate=-0.1":          {"-drop-rate=-0.1"},
		"add up to":                {"-fail-rate=0.6", "-slow-rate=0.6"},
		"smaller value first":      {"-latency=50ms-10ms"},
		"want a duration":          {"-latency=soon"},
		"not an absolute http(s)":  {"-callback-url=shop.example.com"},
		"given twice":              {"-key=a", "-secret=s", "-key=a", "-secret=t"},
		"empty secret":             {"-key=a", "-secret="},
		"longer than the client's": {"-slow-rate=0.1", "-slow-delay=0s"},
	}
	for want, args := range bad {
		if _, err := parse(args...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want one mentioning %q", args, err, want)
		}
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	// A handler whose answer was dropped may log after Close returns (Shutdown does not
	// track hijacked connections), so the buffer is locked.
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := emulator.Options{Merchants: []emulator.Merchant{{Key: testKey, Secret: testSecret}}, Logger: logger, DropAfterCommit: 0.3, Seed: 3}
	var flagged emulator.Options
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	flagged.Bind(fs)
	if err := fs.Parse([]string{"-key=k", "-secret=" + testSecret}); err != nil {
		t.Fatal(err)
	}
	var dumps []string
	for _, v := range []any{opts, &opts, opts.Merchants[0], opts.Merchants, flagged, &flagged} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			dumps = append(dumps, fmt.Sprintf(verb, v))
		}
		j, _ := json.Marshal(v)
		dumps = append(dumps, string(j))
		logger.Info("dump", "value", v)
	}
	s, base := start(t, opts)
	dumps = append(dumps, s.Describe(base))
	if !strings.Contains(s.Describe(base), testKey) {
		t.Fatalf("banner lacks the key: %s", s.Describe(base))
	}
	for i := range 10 {
		createOutcome(t, http.DefaultClient, base, fmt.Sprintf("l-%d", i))
	}
	call(t, "POST", base+"/accounts/list", map[string]string{"X-Processing-Key": testKey, "X-Processing-Signature": "bad"}, []byte(`{}`))
	s.Close()
	dumps = append(dumps, logs.String())
	for i, d := range dumps {
		if strings.Contains(d, testSecret) || strings.Contains(d, fmt.Sprintf("%x", testSecret)) {
			t.Errorf("dump %d leaks the secret: %s", i, d)
		}
	}
	if !strings.Contains(logs.String(), testKey) || !strings.Contains(logs.String(), "invoice created") {
		t.Fatalf("the log check saw no request lines:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "buyer@example.com") {
		t.Errorf("logs contain personal data from request bodies")
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestStartAndCloseLifecycle(t *testing.T) {
	s, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/api/v2") {
		t.Fatalf("base URL %q", base)
	}
	if !s.UsesDefaultCredentials() || s.Keys()[0] != emulator.DefaultKey {
		t.Fatalf("default credentials not used: %v", s.Keys())
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Fatal("second Start accepted")
	}
	if d := s.Describe(base); !strings.Contains(d, base) || !strings.Contains(d, "INVOICEFORM_API_SECRET="+emulator.DefaultSecret) {
		t.Fatalf("banner with default credentials:\n%s", d)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/ping", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("still serving after Close")
	}
}

// TestCloseCutsSlowAnswers: a slow answer interrupted by Close must reach the client as no
// answer at all, never as an empty 200 (which a client would read as success).
func TestCloseCutsSlowAnswers(t *testing.T) {
	s, base := start(t, emulator.Options{SlowPastTimeout: 1, SlowDelay: time.Hour})
	got := make(chan string, 1)
	go func() { got <- createOutcome(t, http.DefaultClient, base, "cut") }()
	waitFor(t, func() bool { _, ok := s.Lookup(testKey, "cut"); return ok && s.Faults().Slow == 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if o := <-got; o != "dropped" {
		t.Fatalf("client saw %q, want no answer", o)
	}
}

// TestControlsRefuseBrowsers: a page in the operator's browser cannot drive the controls:
// not through DNS rebinding (its requests carry another Host), not with a simple cross-origin
// POST (text/plain or a form, which needs no preflight).
func TestControlsRefuseBrowsers(t *testing.T) {
	_, base := start(t, emulator.Options{})
	root := strings.TrimSuffix(base, "/api/v2") + "/_emulator"
	status := []byte(`{"status":"confirmed"}`)
	for _, c := range []struct {
		name, method, host, ctype string
		body                      []byte
		want                      int
	}{
		{"rebound host name", http.MethodGet, "attacker.example", "", nil, http.StatusForbidden},
		{"rebound host with port", http.MethodGet, "attacker.example:8787", "", nil, http.StatusForbidden},
		{"private address as host", http.MethodGet, "192.168.1.5:8787", "", nil, http.StatusForbidden},
		{"text/plain POST", http.MethodPost, "", "text/plain", status, http.StatusUnsupportedMediaType},
		{"form POST", http.MethodPost, "", "application/x-www-form-urlencoded", status, http.StatusUnsupportedMediaType},
		{"POST without a type", http.MethodPost, "", "", status, http.StatusUnsupportedMediaType},
		{"rebound JSON POST", http.MethodPost, "attacker.example", "application/json", status, http.StatusForbidden},
		{"localhost", http.MethodGet, "localhost:8787", "", nil, http.StatusOK},
		{"ipv6 loopback", http.MethodGet, "[::1]:8787", "", nil, http.StatusOK},
		{"127.0.0.1", http.MethodGet, "", "", nil, http.StatusOK},
		{"JSON POST with charset", http.MethodPost, "", "application/json; charset=utf-8", status, http.StatusNotFound}, // passes the checks; no such invoice
	} {
		path := "/invoices"
		if c.method == http.MethodPost {
			path = "/invoices/none/status"
		}
		r := call(t, c.method, root+path, map[string]string{"Host": c.host, "Content-Type": c.ctype}, c.body)
		if r.status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, r.status, r.body, c.want)
		}
	}
}
