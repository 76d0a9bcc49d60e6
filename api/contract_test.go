package api_test

// Contract tests: the client against the real emulator over loopback HTTP. They assert only
// documented behaviour (or docs/api.md "What is not documented" safest assumptions), so they must pass against
// any server that behaves as documented. TestContractSuccesses and TestContractRefusals run
// against another server (the sandbox, say) when INVOICEFORM_CONTRACT_ENDPOINT,
// INVOICEFORM_CONTRACT_KEY and INVOICEFORM_CONTRACT_SECRET are set: then each run uses fresh
// foreign_ids and the emulator-only checks ([E] in the README, and its controls) are left out.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/invoice"
)

const contractKey = "contract-key"

func startEmulator(t *testing.T, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	if opts.Merchants == nil {
		opts.Merchants = []emulator.Merchant{{Key: contractKey, Secret: leakySecret}}
	}
	s, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	return s, base
}

// target is the server a contract test talks to: the emulator (s != nil), or an external
// server named by the environment.
type target struct {
	s           *emulator.Server
	base        string
	key, secret string
	run         string // suffix that makes foreign_ids unique on an external server
}

func contractTarget(t *testing.T, opts emulator.Options) target {
	t.Helper()
	if ep := os.Getenv("INVOICEFORM_CONTRACT_ENDPOINT"); ep != "" {
		key, secret := os.Getenv("INVOICEFORM_CONTRACT_KEY"), os.Getenv("INVOICEFORM_CONTRACT_SECRET")
		if key == "" || secret == "" {
			t.Fatal("INVOICEFORM_CONTRACT_ENDPOINT is set without INVOICEFORM_CONTRACT_KEY and INVOICEFORM_CONTRACT_SECRET")
		}
		return target{base: ep, key: key, secret: secret, run: "-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	}
	s, base := startEmulator(t, opts)
	return target{s: s, base: base, key: contractKey, secret: leakySecret}
}

func (tg target) client(t *testing.T, mod ...func(*api.Config)) *api.Client {
	return newClient(t, tg.base, append([]func(*api.Config){func(c *api.Config) { c.Key, c.Secret = tg.key, tg.secret }}, mod...)...)
}

func (tg target) id(s string) string { return s + tg.run }

func contractClient(t *testing.T, endpoint string, mod ...func(*api.Config)) *api.Client {
	return newClient(t, endpoint, append([]func(*api.Config){func(c *api.Config) { c.Key = contractKey }}, mod...)...)
}

func requestFor(foreignID string) invoice.Request {
	return invoice.Request{
		Title: "Invoice Title", Currency: "EUR", Amount: invoice.MustParseAmount("106.75"), ForeignID: foreignID, EndUserReference: "12345",
		URLSuccess: "https://shop.example.com/success", URLFailed: "https://shop.example.com/failed", EmailUser: "buyer@example.com",
	}
}

func body(t *testing.T, r invoice.Request) []byte {
	t.Helper()
	return r.Encode()
}

var pageURL = regexp.MustCompile(`^https://[^/]+/invoice/[0-9A-Za-z]{6}$`)

func TestContractSuccesses(t *testing.T) {
	for _, status201 := range []bool{false, true} {
		t.Run(fmt.Sprintf("status201=%t", status201), func(t *testing.T) {
			tg := contractTarget(t, emulator.Options{Status201: status201})
			if tg.s == nil && status201 {
				t.Skip("the 201 variant is an emulator switch; the external server answers as it does")
			}
			c := tg.client(t)
			ctx := context.Background()
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("ping: %v", err)
			}
			accs, err := c.Accounts(ctx)
			if err != nil || len(accs) == 0 {
				t.Fatalf("accounts: %v %v", accs, err)
			}
			curs, err := c.Currencies(ctx)
			if err != nil || len(curs) == 0 {
				t.Fatalf("currencies: %v", err)
			}

			// Type 1.
			inv, err := c.CreateInvoice(ctx, body(t, requestFor(tg.id("type-1"))))
			if err != nil {
				t.Fatalf("type 1: %v", err)
			}
			if inv.ID <= 0 || !pageURL.MatchString(inv.URL) || inv.ForeignID != tg.id("type-1") || inv.EndUserReference != "12345" ||
				inv.Title != "Invoice Title" || inv.Status != "created" || inv.Currency != "EUR" || inv.Amount != "106.75000000" ||
				inv.Address != "" || inv.SenderCurrency != "" || inv.SenderAmount != "" || inv.FixedAt != nil || inv.ReleaseAt != nil || inv.SecondsLeft != nil {
				t.Fatalf("type 1 answer %+v", *inv)
			}

			// Type 2: a timer, the customer picks the currency.
			r := requestFor(tg.id("type-2"))
			r.Timer = true
			inv, err = c.CreateInvoice(ctx, body(t, r))
			if err != nil {
				t.Fatalf("type 2: %v", err)
			}
			if inv.FixedAt == nil || inv.ReleaseAt == nil || inv.SecondsLeft == nil || *inv.ReleaseAt-*inv.FixedAt != 900 || *inv.SecondsLeft <= 0 || *inv.SecondsLeft > 900 || inv.Address != "" {
				t.Fatalf("type 2 answer %+v", *inv)
			}

			// Type 3: a timer and a fixed currency, sender data required.
			r = requestFor(tg.id("type-3"))
			r.Timer, r.SenderCurrency, r.SenderType = true, "BTC", "natural"
			r.SenderData = &invoice.SenderData{FirstName: "Friedrich", LastName: "Müller", DateOfBirth: "1995-08-17"}
			inv, err = c.CreateInvoice(ctx, body(t, r))
			if err != nil {
				t.Fatalf("type 3: %v", err)
			}
			if inv.Address == "" || inv.SenderCurrency != "BTC" || inv.SenderAmount == "" || inv.FixedAt == nil {
				t.Fatalf("type 3 answer %+v", *inv)
			}

			if err := c.CancelInvoice(ctx, tg.id("type-1")); err != nil {
				t.Fatalf("cancel: %v", err)
			}
		})
	}
}

func TestContractRefusals(t *testing.T) {
	tg := contractTarget(t, emulator.Options{})
	s, base := tg.s, tg.base
	c := tg.client(t)
	ctx := context.Background()
	if _, err := c.CreateInvoice(ctx, body(t, requestFor(tg.id("dup")))); err != nil {
		t.Fatal(err)
	}

	_, err := c.CreateInvoice(ctx, body(t, requestFor(tg.id("dup"))))
	if !errors.Is(err, api.ErrAlreadyTaken) || api.OutcomeOf(err) != api.Definite {
		t.Fatalf("duplicate: %v", err)
	}

	small := requestFor(tg.id("small"))
	small.Amount = invoice.MustParseAmount("9.99")
	_, err = c.CreateInvoice(ctx, body(t, small))
	var ve *api.ValidationError
	if !errors.As(err, &ve) || ve.Fields["amount"] != "The amount is too small. The minimum amount is 10.00 EUR." || errors.Is(err, api.ErrAlreadyTaken) {
		t.Fatalf("too small: %v", err)
	}

	missing := requestFor("")
	missing.Title = ""
	_, err = c.CreateInvoice(ctx, body(t, missing))
	if !errors.As(err, &ve) || ve.Fields["title"] != "The title field is required." || ve.Fields["foreign_id"] != "The foreign id field is required." {
		t.Fatalf("missing fields: %v", err)
	}

	if err := c.CancelInvoice(ctx, tg.id("dup")); err != nil {
		t.Fatal(err)
	}
	if err := c.CancelInvoice(ctx, tg.id("dup")); !errors.Is(err, api.ErrInvalidInvoiceState) || api.OutcomeOf(err) != api.Definite {
		t.Fatalf("second cancel: %v", err)
	}
	if s != nil {
		// Emulator-only [E]: the answer to cancelling an unknown foreign_id is undocumented.
		if err := c.CancelInvoice(ctx, "never/created"); !errors.Is(err, api.ErrInvoiceNotFound) {
			t.Fatalf("cancel unknown: %v", err)
		}
	}
	if _, err := c.CreateInvoice(ctx, body(t, requestFor(tg.id("a/b c")))); err != nil {
		t.Fatal(err)
	}
	if err := c.CancelInvoice(ctx, tg.id("a/b c")); err != nil {
		t.Fatalf("cancel of a foreign_id with a slash and a space: %v", err)
	}
	if s != nil {
		if inv, _ := s.Lookup(contractKey, "a/b c"); inv.Status != emulator.StatusFailed {
			t.Fatalf("status after cancel: %q", inv.Status)
		}
	}

	wrongKey := tg.client(t, func(c *api.Config) { c.Key = "nobody" + tg.run })
	_, err = wrongKey.Accounts(ctx)
	var ae *api.AuthError
	if !errors.As(err, &ae) || ae.Code != "bad_header_key" || api.OutcomeOf(err) != api.Fatal {
		t.Fatalf("unknown key: %v", err)
	}
	wrongSecret := tg.client(t, func(c *api.Config) { c.Secret = "not-the-secret" })
	_, err = wrongSecret.CreateInvoice(ctx, body(t, requestFor(tg.id("never"))))
	if !errors.As(err, &ae) || ae.Code != "bad_header_signature" || !strings.Contains(err.Error(), "signature does not match") {
		t.Fatalf("wrong secret: %v", err)
	}
	wrongPath := newClient(t, strings.TrimSuffix(base, "/api/v2")+"/api/v1", func(c *api.Config) { c.Key, c.Secret = tg.key, tg.secret })
	if _, err := wrongPath.Accounts(ctx); !errors.As(err, &ae) || ae.Code != "required_header_key" {
		t.Fatalf("wrong endpoint path: %v", err)
	}
	if s != nil {
		if n := len(s.Invoices()); n != 2 {
			t.Fatalf("%d invoices stored, want 2", n)
		}
	}
}

// TestContractFaults drives the documented failure modes and the exactly-once recovery the
// apply engine relies on: after an uncertain create, resending the same body either creates
// the invoice or says it was already taken, never a second invoice.
func TestContractFaults(t *testing.T) {
	ctx := context.Background()

	t.Run("500 is uncertain, nothing created", func(t *testing.T) {
		s, base := startEmulator(t, emulator.Options{Fail500: 1})
		_, err := contractClient(t, base).CreateInvoice(ctx, body(t, requestFor("x")))
		var se *api.ServerError
		if !errors.As(err, &se) || api.OutcomeOf(err) != api.Uncertain || !api.Retryable(err) || len(s.Invoices()) != 0 {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("429 carries Retry-After", func(t *testing.T) {
		_, base := startEmulator(t, emulator.Options{RateLimit429: 1, RetryAfter: 3 * time.Second})
		_, err := contractClient(t, base).CreateInvoice(ctx, body(t, requestFor("x")))
		var rl *api.RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second || api.OutcomeOf(err) != api.Definite {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("dropped answer, then resend says already taken", func(t *testing.T) {
		s, base := startEmulator(t, emulator.Options{DropAfterCommit: 1})
		c := contractClient(t, base)
		b := body(t, requestFor("dropped"))
		_, err := c.CreateInvoice(ctx, b)
		var te *api.TransportError
		if !errors.As(err, &te) || !te.Sent || api.OutcomeOf(err) != api.Uncertain {
			t.Fatalf("dropped create: %v (outcome %v)", err, api.OutcomeOf(err))
		}
		_, err = c.CreateInvoice(ctx, b)
		if !errors.Is(err, api.ErrAlreadyTaken) {
			t.Fatalf("resend: %v", err)
		}
		if list := s.Invoices(); len(list) != 1 || list[0].Creates != 1 || list[0].Duplicates != 1 || !list[0].DroppedAnswer {
			t.Fatalf("emulator state %+v", list)
		}
	})

	t.Run("answer slower than the client waits", func(t *testing.T) {
		s, base := startEmulator(t, emulator.Options{SlowPastTimeout: 1, SlowDelay: time.Hour})
		// Give up once the invoice is committed; a fixed timeout could fire before the
		// request arrived on a loaded machine. (Timeouts proper: TestTransportClassification.)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			for {
				if _, ok := s.Lookup(contractKey, "slow"); ok {
					cancel()
					return
				}
				select {
				case <-cctx.Done():
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		_, err := contractClient(t, base).CreateInvoice(cctx, body(t, requestFor("slow")))
		var te *api.TransportError
		if !errors.As(err, &te) || !te.Sent || api.OutcomeOf(err) != api.Uncertain || !errors.Is(err, context.Canceled) {
			t.Fatalf("slow create: %v (outcome %v)", err, api.OutcomeOf(err))
		}
	})

	t.Run("mixed faults never create twice", func(t *testing.T) {
		s, base := startEmulator(t, emulator.Options{Seed: 11, Fail500: 0.15, RateLimit429: 0.15, DropAfterCommit: 0.15})
		c := contractClient(t, base)
		const n = 60
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := body(t, requestFor(fmt.Sprintf("mixed-%d", i)))
				// The engine's rule: retry the same body until a definite answer.
				for attempt := 0; attempt < 50; attempt++ {
					_, err := c.CreateInvoice(ctx, b)
					if err == nil || errors.Is(err, api.ErrAlreadyTaken) {
						return
					}
					if !api.Retryable(err) {
						t.Errorf("mixed-%d: %v", i, err)
						return
					}
				}
				t.Errorf("mixed-%d: no definite answer in 50 attempts", i)
			}()
		}
		wg.Wait()
		list := s.Invoices()
		if len(list) != n {
			t.Fatalf("%d invoices for %d foreign_ids", len(list), n)
		}
		for _, inv := range list {
			if inv.Creates != 1 {
				t.Errorf("%s created %d times", inv.ForeignID, inv.Creates)
			}
		}
		if f := s.Faults(); f.Fail500 == 0 || f.RateLimit429 == 0 || f.DropAfterCommit == 0 {
			t.Fatalf("seed 11 should inject every fault kind: %+v", f)
		}
	})
}
