package emulator

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"strings"
	"time"
)

// DefaultKey and DefaultSecret are the documented throwaway credentials the emulator accepts
// when no -key/-secret pair is given. They are public on purpose: they only ever open a local
// emulator, and printing them lets a newcomer run the whole job without an account.
const (
	DefaultKey    = "emulator-key"
	DefaultSecret = "emulator-secret"
)

// DefaultListen is the address `invoiceform emulator` listens on without -listen.
const DefaultListen = "127.0.0.1:8787"

// DefaultCallbackSchedule is the current upstream retry schedule for callbacks that were not
// answered with 200 (S12): each delay is relative to the previous attempt.
var DefaultCallbackSchedule = []time.Duration{
	1 * time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, 60 * time.Minute,
	90 * time.Minute, 120 * time.Minute, 180 * time.Minute, 240 * time.Minute,
	240 * time.Minute, 240 * time.Minute, 240 * time.Minute,
}

// Merchant is one API key and its secret. A server holds several, each with its own
// invoices (foreign_id uniqueness is per merchant).
type Merchant struct {
	Key    string
	Secret string
	// Currencies are the codes the merchant's account holds: /currencies/list and
	// /accounts/list list them, and creates in any other currency are refused. Empty means
	// the documented codes (defaultCurrencies); any code of the emulator's table may be given.
	Currencies []string
}

// Format prints the merchant without its secret, whatever the verb, so that a stray
// fmt.Printf("%+v") of options or merchants can never leak it.
func (m Merchant) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "emulator.Merchant{Key:%q, Secret:\"[redacted]\"}", m.Key)
		return
	}
	fmt.Fprintf(f, "{Key:%s Secret:[redacted]}", m.Key)
}

// LogValue keeps the secret out of structured logs.
func (m Merchant) LogValue() slog.Value { return slog.GroupValue(slog.String("key", m.Key)) }

// MarshalJSON keeps the secret out of any JSON dump of the options.
func (m Merchant) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Key string `json:"key"`
	}{m.Key})
}

// Latency is the added delay before each API answer: fixed when Min == Max, otherwise drawn
// uniformly in [Min, Max] from the seeded generator. As a flag it reads "20ms" or "10ms-50ms".
type Latency struct {
	Min, Max time.Duration
}

// String renders the latency in the flag syntax.
func (l *Latency) String() string {
	if l == nil || (l.Min == 0 && l.Max == 0) {
		return "0s"
	}
	if l.Min == l.Max {
		return l.Min.String()
	}
	return l.Min.String() + "-" + l.Max.String()
}

// Set parses "DUR" or "DUR-DUR".
func (l *Latency) Set(s string) error {
	s = strings.TrimSpace(s)
	lo, hi, isRange := strings.Cut(s, "-")
	min, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return fmt.Errorf("latency %q: want a duration like 20ms or a range like 10ms-50ms", s)
	}
	max := min
	if isRange {
		if max, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return fmt.Errorf("latency %q: want a duration like 20ms or a range like 10ms-50ms", s)
		}
	}
	l.Min, l.Max = min, max
	return nil
}

// Options configure a Server. The zero value is a fault-free emulator with the default
// credentials.
type Options struct {
	// Listen is the address for `invoiceform emulator` (Bind sets it; Start takes its own).
	Listen string

	// Merchants are the accepted key/secret pairs. Empty means one merchant with
	// DefaultKey/DefaultSecret.
	Merchants []Merchant

	// Latency is added before every answer of the signed endpoints (not /ping, not unknown
	// paths).
	Latency Latency

	// Seed drives every random choice (faults, latency draws): the same seed and the same
	// sequence of requests give the same faults.
	Seed int64

	// Fault shares, each in 0..1, their sum at most 1. Exactly one uniform draw is taken per
	// request to a signed endpoint and compared against the cumulative shares in this order.
	Fail500         float64       // answer 500 without processing: nothing is created
	RateLimit429    float64       // answer 429 with the documented (invalid JSON) body, unprocessed
	RetryAfter      time.Duration // Retry-After of the 429s, rounded up to whole seconds
	DropAfterCommit float64       // creates only: commit the invoice, then close the connection unanswered
	SlowPastTimeout float64       // process the request, then hold the answer for SlowDelay
	SlowDelay       time.Duration

	// Status201 answers successful creates with 201 instead of 200 (the docs conflict, "Where the docs disagree").
	Status201 bool

	// CallbackURL receives a signed invoice callback on every status change. Empty: none.
	CallbackURL string
	// CallbackSchedule is the retry schedule after a non-200 answer; nil means
	// DefaultCallbackSchedule. CallbackScale multiplies each delay (0 means 1), so tests can
	// compress hours into milliseconds without changing the shape of the schedule. It scales
	// the invoice timers too: 15 minutes to pay a timer invoice, 24 hours once a payment is
	// seen (the times written in callbacks stay unscaled, from Now).
	CallbackSchedule []time.Duration
	CallbackScale    float64

	// MinAmount and MaxAmount map a currency to a decimal bound on invoice amounts. Nil maps
	// mean the defaults: EUR and USD between 10.00 and 10000.00 (the reference's example
	// minimum and default maximum); no bounds for crypto currencies.
	MinAmount map[string]string
	MaxAmount map[string]string

	// Logger receives one line per request and per state change; nil discards. Secrets and
	// request bodies are never logged.
	Logger *slog.Logger

	// Now is the clock for fixed_at/release_at/seconds_left/expires_at; nil means time.Now.
	// The invoice timers run on real time (scaled by CallbackScale), not on this clock.
	Now func() time.Time

	flagKeys, flagSecrets, flagCurrencies []string
}

// Format prints the options without secrets, whatever the verb.
func (o Options) Format(f fmt.State, verb rune) {
	keys := make([]string, 0, len(o.Merchants)+len(o.flagKeys))
	for _, m := range o.Merchants {
		keys = append(keys, m.Key)
	}
	keys = append(keys, o.flagKeys...)
	fmt.Fprintf(f, "emulator.Options{Listen:%q Keys:%q Latency:%s Seed:%d Fail500:%g RateLimit429:%g RetryAfter:%s DropAfterCommit:%g SlowPastTimeout:%g SlowDelay:%s Status201:%t CallbackURL:%q}",
		o.Listen, keys, o.Latency.String(), o.Seed, o.Fail500, o.RateLimit429, o.RetryAfter,
		o.DropAfterCommit, o.SlowPastTimeout, o.SlowDelay, o.Status201, redactedURL(o.CallbackURL))
}

// Bind registers the flags of `invoiceform emulator` on fs. -key and -secret repeat and are
// paired in order (the first -key with the first -secret); Validate does the pairing.
func (o *Options) Bind(fs *flag.FlagSet) {
	fs.StringVar(&o.Listen, "listen", DefaultListen, "listen on `ADDR` (host:port; plain http, keep it on loopback)")
	fs.Func("key", "a merchant's API `KEY`; repeat with -secret for several merchants (default "+DefaultKey+")", func(s string) error {
		o.flagKeys = append(o.flagKeys, s)
		return nil
	})
	fs.Func("secret", "the API `SECRET` of the -key in the same position (default "+DefaultSecret+"); visible in the process list: prefer "+SecretEnv, func(s string) error {
		o.flagSecrets = append(o.flagSecrets, s)
		return nil
	})
	fs.Var(&o.Latency, "latency", "add a `DURATION` before each answer: 20ms, or a range 10ms-50ms drawn per request")
	fs.Int64Var(&o.Seed, "seed", 1, "the seed `N` of the fault and latency draws (same seed + same requests = same faults)")
	fs.Float64Var(&o.Fail500, "fail-rate", 0, "the `SHARE` (0..1) of requests answered 500 unprocessed")
	fs.Float64Var(&o.RateLimit429, "rate-limit-rate", 0, "the `SHARE` (0..1) of requests answered 429 unprocessed")
	fs.DurationVar(&o.RetryAfter, "retry-after", time.Second, "the Retry-After `DURATION` of the injected 429s")
	fs.Float64Var(&o.DropAfterCommit, "drop-rate", 0, "the `SHARE` (0..1) of creates committed and then dropped unanswered")
	fs.Float64Var(&o.SlowPastTimeout, "slow-rate", 0, "the `SHARE` (0..1) of requests processed and answered only after -slow-delay")
	fs.DurationVar(&o.SlowDelay, "slow-delay", 35*time.Second, "the `DURATION` of the slow answers (longer than the client timeout)")
	fs.BoolVar(&o.Status201, "status-201", false, "answer successful creates with 201 instead of 200")
	fs.StringVar(&o.CallbackURL, "callback-url", "", "the `URL` that receives signed invoice callbacks on status changes")
	fs.Func("currencies", "the currency `[KEY:]CODE,CODE,...` the merchants' accounts hold (default: the documented codes, "+strings.Join(defaultCurrencies, ",")+"); with KEY: only that merchant's; repeatable", func(s string) error {
		o.flagCurrencies = append(o.flagCurrencies, s)
		return nil
	})
	fs.Float64Var(&o.CallbackScale, "callback-scale", 1, "the `FACTOR` applied to the callback retry schedule and the invoice timers (0.001 turns 1m into 60ms, the 15m timer into 0.9s)")
}

// SecretEnv is the environment variable that gives the secret of a single -key without a
// -secret flag, so that the secret stays out of the process list (`ps` shows every argument).
const SecretEnv = "INVOICEFORM_EMULATOR_SECRET"

// SecretFromEnv pairs a single -key given without -secret with secret, the value of SecretEnv
// (read by the command, not by this package). It does nothing when secret is empty or -secret
// flags were given, and refuses a secret together with several -key flags.
func (o *Options) SecretFromEnv(secret string) error {
	switch {
	case secret == "" || len(o.flagSecrets) > 0:
		return nil
	case len(o.flagKeys) == 0:
		return fmt.Errorf("emulator: %s is set but no -key is given; give the key it belongs to with -key", SecretEnv)
	case len(o.flagKeys) > 1:
		return fmt.Errorf("emulator: %s gives one secret, but %d -key flags were given; give several merchants -key/-secret pairs", SecretEnv, len(o.flagKeys))
	}
	o.flagSecrets = []string{secret}
	return nil
}

// Validate checks the options, pairs the -key/-secret flags into Merchants, and fills the
// default credentials when none are given. Call it after parsing flags; New calls it too.
func (o *Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("emulator: "+format, args...)) }

	if len(o.flagKeys) != len(o.flagSecrets) {
		bad("got %d -key and %d -secret flags; give them in pairs, one -secret after each -key", len(o.flagKeys), len(o.flagSecrets))
	} else {
		for i := range o.flagKeys {
			o.Merchants = append(o.Merchants, Merchant{Key: o.flagKeys[i], Secret: o.flagSecrets[i]})
		}
		o.flagKeys, o.flagSecrets = nil, nil
	}
	seen := map[string]bool{}
	for i, m := range o.Merchants {
		switch {
		case m.Key == "":
			bad("merchant %d has an empty key; give -key a value", i+1)
		case m.Secret == "":
			bad("merchant %q has an empty secret; give -secret a value", m.Key)
		case seen[m.Key]:
			bad("key %q is given twice; each merchant needs its own key", m.Key)
		}
		seen[m.Key] = true
	}
	if len(o.Merchants) == 0 && len(errs) == 0 {
		o.Merchants = []Merchant{{Key: DefaultKey, Secret: DefaultSecret}}
	}
	errs = append(errs, o.applyCurrencyFlags()...)
	for _, m := range o.Merchants {
		for _, c := range m.Currencies {
			if _, ok := currencies[c]; !ok {
				bad("merchant %q: currency %q is not one the emulator knows; it knows %s", m.Key, c, knownCodes())
			}
		}
	}

	rates := []struct {
		name string
		v    float64
	}{{"-fail-rate", o.Fail500}, {"-rate-limit-rate", o.RateLimit429}, {"-drop-rate", o.DropAfterCommit}, {"-slow-rate", o.SlowPastTimeout}}
	sum := 0.0
	for _, r := range rates {
		if !(r.v >= 0 && r.v <= 1) { // also catches NaN
			bad("%s=%v is not a share; use a number from 0 to 1 (0.05 = 5%%)", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1+1e-9 {
		bad("the fault shares add up to %v; their sum must be at most 1", sum)
	}
	if o.Latency.Min < 0 || o.Latency.Max < 0 || o.Latency.Max < o.Latency.Min {
		bad("-latency=%s is not a valid range; use 20ms or 10ms-50ms with the smaller value first", o.Latency.String())
	}
	if o.RetryAfter < 0 {
		bad("-retry-after=%s is negative", o.RetryAfter)
	}
	if o.SlowDelay < 0 || (o.SlowPastTimeout > 0 && o.SlowDelay == 0) {
		bad("-slow-delay=%s: give a positive delay longer than the client's timeout", o.SlowDelay)
	}
	if o.CallbackScale < 0 || o.CallbackScale != o.CallbackScale {
		bad("-callback-scale=%v must be positive", o.CallbackScale)
	}
	for _, d := range o.CallbackSchedule {
		if d < 0 {
			bad("callback schedule has a negative delay %s", d)
			break
		}
	}
	if o.CallbackURL != "" {
		u, err := url.Parse(o.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("-callback-url=%q is not an absolute http(s) URL", o.CallbackURL)
		}
	}
	for name, m := range map[string]map[string]string{"minimum": o.MinAmount, "maximum": o.MaxAmount} {
		for cur, v := range m {
			if r, ok := parseDecimal(v); !ok || r.Sign() < 0 {
				bad("%s amount %q for %s is not a non-negative decimal", name, v, cur)
			}
		}
	}
	return errors.Join(errs...)
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler) // disabled at every level: no formatting cost
}

// redactedURL hides a password a callback URL may carry.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if raw == "" {
			return ""
		}
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// parseDecimal reads a plain decimal ("10", "10.50") exactly.
func parseDecimal(s string) (*big.Rat, bool) {
	if !plainDecimal.MatchString(s) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// applyCurrencyFlags gives the merchants the currencies of the -currencies flags: a value
// "KEY:CODES" to that merchant, a value "CODES" to every merchant without one of its own.
func (o *Options) applyCurrencyFlags() []error {
	var errs []error
	var all []string
	own := map[string]bool{}
	for _, f := range o.flagCurrencies {
		list := f
		key := ""
		if i := strings.LastIndex(f, ":"); i >= 0 {
			key, list = f[:i], f[i+1:]
		}
		var codes []string
		for _, c := range strings.Split(list, ",") {
			if c = strings.TrimSpace(c); c != "" {
				codes = append(codes, c)
			}
		}
		if len(codes) == 0 {
			errs = append(errs, fmt.Errorf("emulator: -currencies=%q names no currency; write e.g. -currencies=EUR,USD,BTC", f))
			continue
		}
		if key == "" {
			all = codes
			continue
		}
		found := false
		for i := range o.Merchants {
			if o.Merchants[i].Key == key {
				o.Merchants[i].Currencies, own[key], found = codes, true, true
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("emulator: -currencies=%q is for the key %q, which no -key gives", f, key))
		}
	}
	if all != nil {
		for i := range o.Merchants {
			if !own[o.Merchants[i].Key] {
				o.Merchants[i].Currencies = all
			}
		}
	}
	o.flagCurrencies = nil
	return errs
}

func knownCodes() string { return strings.Join(KnownCurrencies(), ", ") }
