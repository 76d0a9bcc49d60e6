package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"time"
)

// Invoice statuses [D S9, S11, S20].
const (
	StatusCreated    = "created"
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusConfirmed  = "confirmed"
	StatusFailed     = "failed"
)

// releaseAfter is the timer of timer invoices: release_at = fixed_at + 900 in every example
// [D S23, "What is not documented"].
const releaseAfter = 900

// invoice is one stored invoice. Guarded by Server.mu.
type invoice struct {
	merchant         string
	id               int64
	url              string
	foreignID        string
	endUserReference string
	title            string
	currency         string
	amount           *big.Rat
	senderCurrency   string
	senderAmount     *big.Rat
	address          string
	timer            bool
	typ              string
	status           string
	failReason       string
	fixedAt          int64 // 0 = not fixed
	createdAt        time.Time
	duplicates       int
	droppedAnswer    bool
	callbacks        int
}

// Invoice is the emulator's view of one invoice, served by the /_emulator/ controls. It
// carries no personal data (no email_user, no sender_data).
type Invoice struct {
	Merchant         string    `json:"merchant"`
	ID               int64     `json:"id"`
	ForeignID        string    `json:"foreign_id"`
	URL              string    `json:"url"`
	EndUserReference string    `json:"end_user_reference"`
	Status           string    `json:"status"`
	Currency         string    `json:"currency"`
	Amount           string    `json:"amount"`
	SenderCurrency   string    `json:"sender_currency,omitempty"`
	SenderAmount     string    `json:"sender_amount,omitempty"`
	Timer            bool      `json:"timer"`
	Type             string    `json:"type"`
	CreatedAt        time.Time `json:"created_at"`
	// Creates counts successful creates of this foreign_id: 1 by construction, shown so a
	// test reads the exactly-once property instead of assuming it.
	Creates int `json:"creates"`
	// Duplicates counts creates refused because this foreign_id was already taken.
	Duplicates int `json:"duplicates"`
	// DroppedAnswer is true when the create committed but its answer was dropped by the
	// drop-after-commit fault: the client never learnt of this invoice.
	DroppedAnswer bool `json:"dropped_answer"`
	// Callbacks counts the status-change callbacks queued for this invoice (0 without a
	// CallbackURL).
	Callbacks int `json:"callbacks"`
}

func (inv *invoice) view() Invoice {
	out := Invoice{
		Merchant: inv.merchant, ID: inv.id, ForeignID: inv.foreignID, URL: inv.url,
		EndUserReference: inv.endUserReference, Status: inv.status, Currency: inv.currency,
		Amount: inv.amount.FloatString(8), SenderCurrency: inv.senderCurrency, Timer: inv.timer,
		Type: inv.typ, CreatedAt: inv.createdAt, Creates: 1, Duplicates: inv.duplicates,
		DroppedAnswer: inv.droppedAnswer, Callbacks: inv.callbacks,
	}
	if inv.senderAmount != nil {
		out.SenderAmount = inv.senderAmount.FloatString(8)
	}
	return out
}

// invoiceBody is the documented create response [D S1, S23]; pointers give the nulls.
type invoiceBody struct {
	ID               int64   `json:"id"`
	URL              string  `json:"url"`
	ForeignID        string  `json:"foreign_id"`
	EndUserReference string  `json:"end_user_reference"`
	Address          *string `json:"address"`
	Title            string  `json:"title"`
	Status           string  `json:"status"`
	Currency         string  `json:"currency"`
	Amount           string  `json:"amount"`
	SenderCurrency   *string `json:"sender_currency"`
	SenderAmount     *string `json:"sender_amount"`
	FixedAt          *int64  `json:"fixed_at"`
	ReleaseAt        *int64  `json:"release_at"`
	SecondsLeft      *int64  `json:"seconds_left"`
}

func (inv *invoice) body(now time.Time) invoiceBody {
	b := invoiceBody{
		ID: inv.id, URL: inv.url, ForeignID: inv.foreignID, EndUserReference: inv.endUserReference,
		Title: inv.title, Status: inv.status, Currency: inv.currency, Amount: inv.amount.FloatString(8),
	}
	if inv.address != "" {
		b.Address = &inv.address
	}
	if inv.senderCurrency != "" {
		sc := inv.senderCurrency
		b.SenderCurrency = &sc
	}
	if inv.senderAmount != nil {
		sa := inv.senderAmount.FloatString(8)
		b.SenderAmount = &sa
	}
	if inv.timer {
		fixed, release := inv.fixedAt, inv.fixedAt+releaseAfter
		left := max(release-now.Unix(), 0)
		b.FixedAt, b.ReleaseAt, b.SecondsLeft = &fixed, &release, &left
	}
	return b
}

// invoiceCode makes the 6-character code of the hosted page URL (like "Jyf1cQ" [D S1]):
// a bijection of the id modulo 62^6, so codes never collide below 56 billion invoices.
func invoiceCode(id int64) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	const space = 62 * 62 * 62 * 62 * 62 * 62
	n := (uint64(id) * 2654435761) % space // the multiplier is coprime with 2^6·31^6
	var code [6]byte
	for i := 5; i >= 0; i-- {
		code[i] = alphabet[n%62]
		n /= 62
	}
	return string(code[:])
}

// fakeAddress is a stable, obviously fake deposit address for fixed-currency invoices.
func fakeAddress(merchant, foreignID, cur string) string {
	h := sha256.Sum256([]byte(merchant + "\x00" + foreignID + "\x00" + cur))
	return "emu" + hex.EncodeToString(h[:20])
}

// create validates, enforces foreign_id uniqueness per merchant, and stores the invoice.
// Uniqueness is decided and the invoice inserted under one lock, so concurrent creates of one
// foreign_id yield exactly one invoice and the documented 400 for all others.
func (s *Server) create(key string, fields map[string]any) (int, []byte, bool) {
	req, errs := s.validateCreate(fields)
	now := s.now()

	s.mu.Lock()
	if req.foreignID != "" {
		if existing := s.invoices[key][req.foreignID]; existing != nil {
			existing.duplicates++
			if len(errs) == 0 {
				s.mu.Unlock()
				return http.StatusBadRequest, bodyForeignIDTaken, false
			}
			// Laravel reports every failing field at once, the unique rule among them.
			errs["foreign_id"] = "The foreign id has already been taken."
		}
	}
	if len(errs) > 0 {
		s.mu.Unlock()
		return http.StatusBadRequest, validationBody(errs), false
	}
	s.nextID++
	inv := &invoice{
		merchant: key, id: s.nextID, foreignID: req.foreignID, endUserReference: req.endUserReference,
		title: req.title, currency: req.currency, amount: req.amount, senderCurrency: req.senderCurrency,
		timer: req.timer, typ: req.typ, status: StatusCreated, createdAt: now,
	}
	inv.url = "https://invoices.emulator.invalid/invoice/" + invoiceCode(inv.id)
	if req.timer {
		inv.fixedAt = now.Unix()
	}
	if req.timer && req.senderCurrency != "" {
		// Type 3: currency fixed, address and amount to send known at once [D S23].
		inv.address = fakeAddress(key, req.foreignID, req.senderCurrency)
		inv.senderAmount = roundRat(convert(req.amount, req.currency, req.senderCurrency))
	}
	s.invoices[key][req.foreignID] = inv
	s.all = append(s.all, inv)
	body := inv.body(now)
	s.mu.Unlock()

	s.log.Info("invoice created", "key", key, "foreign_id", req.foreignID, "id", inv.id)
	out, err := json.Marshal(struct {
		Data invoiceBody `json:"data"`
	}{body})
	if err != nil {
		return http.StatusInternalServerError, []byte(`{"message":"Server Error"}`), true
	}
	status := http.StatusOK
	if s.opts.Status201 {
		status = http.StatusCreated
	}
	return status, out, true
}

// roundRat rounds to 8 decimals (half away from zero), the precision of all API amounts.
func roundRat(r *big.Rat) *big.Rat {
	v, _ := new(big.Rat).SetString(r.FloatString(8))
	return v
}

func (s *Server) markDropped(key, foreignID string) {
	s.mu.Lock()
	if inv := s.invoices[key][foreignID]; inv != nil {
		inv.droppedAnswer = true
	}
	s.mu.Unlock()
}

// cancel moves an open invoice to failed [D S9; resulting status I].
func (s *Server) cancel(key, foreignID string) (int, []byte) {
	s.mu.Lock()
	inv := s.invoices[key][foreignID]
	if inv == nil {
		s.mu.Unlock()
		return http.StatusBadRequest, bodyInvoiceNotFound
	}
	if !canMove(inv.status, StatusFailed) {
		s.mu.Unlock()
		return http.StatusBadRequest, bodyInvalidInvoiceState
	}
	cb := s.moveLocked(inv, StatusFailed, "", "Invoice cancelled by the merchant.")
	s.mu.Unlock()
	s.sendCallback(cb)
	return http.StatusOK, []byte(`[]`)
}

// canMove is the lifecycle of "Invoice statuses and callbacks": confirmed and failed are final.
func canMove(from, to string) bool {
	switch from {
	case StatusConfirmed, StatusFailed:
		return false
	case StatusCreated:
		return to != StatusCreated
	case StatusPending:
		return to == StatusProcessing || to == StatusConfirmed || to == StatusFailed
	case StatusProcessing:
		return to == StatusConfirmed || to == StatusFailed
	}
	return false
}

// SetStatus moves the invoice foreignID of merchant key to status (pending, processing,
// confirmed or failed), as a customer's payment or the timer would, and sends the
// callback. payCurrency picks the crypto the customer pays with when the invoice has no
// sender_currency ("" means BTC).
func (s *Server) SetStatus(key, foreignID, status, payCurrency string) error {
	switch status {
	case StatusPending, StatusProcessing, StatusConfirmed, StatusFailed:
	default:
		return fmt.Errorf("emulator: status %q cannot be set; use pending, processing, confirmed or failed", status)
	}
	if payCurrency != "" {
		if c, ok := currencies[payCurrency]; !ok || c.Type != "crypto" {
			return fmt.Errorf("emulator: pay currency %q is not an emulated crypto currency", payCurrency)
		}
	}
	s.mu.Lock()
	inv := s.invoices[key][foreignID]
	if inv == nil {
		s.mu.Unlock()
		return fmt.Errorf("emulator: merchant %q has no invoice %q: %w", key, foreignID, ErrNotFound)
	}
	if !canMove(inv.status, status) {
		from := inv.status
		s.mu.Unlock()
		return fmt.Errorf("emulator: invoice %q cannot go from %s to %s: %w", foreignID, from, status, ErrBadTransition)
	}
	reason := ""
	if status == StatusFailed {
		reason = "Timer expired. User not paid."
		if inv.status == StatusProcessing {
			reason = "Timer expired. Transactions were in status processing too long."
		}
	}
	cb := s.moveLocked(inv, status, payCurrency, reason)
	s.mu.Unlock()
	s.sendCallback(cb)
	return nil
}

// moveLocked changes the status and builds the callback; the caller holds s.mu and sends
// the callback after unlocking.
func (s *Server) moveLocked(inv *invoice, status, payCurrency, reason string) callback {
	if inv.senderCurrency == "" && payCurrency != "" {
		inv.senderCurrency = payCurrency
	}
	if inv.senderCurrency == "" && (status == StatusProcessing || status == StatusConfirmed) {
		inv.senderCurrency = "BTC"
	}
	if inv.senderCurrency != "" && inv.senderAmount == nil {
		inv.senderAmount = roundRat(convert(inv.amount, inv.currency, inv.senderCurrency))
		inv.address = fakeAddress(inv.merchant, inv.foreignID, inv.senderCurrency)
	}
	if inv.fixedAt == 0 && inv.senderCurrency != "" {
		inv.fixedAt = s.now().Unix()
	}
	wasPaying := inv.status == StatusProcessing
	inv.status, inv.failReason = status, reason
	if s.opts.CallbackURL != "" {
		inv.callbacks++
	}
	if status == StatusConfirmed {
		bal := s.balances[inv.merchant]
		if bal[inv.currency] == nil {
			bal[inv.currency] = new(big.Rat)
		}
		bal[inv.currency].Add(bal[inv.currency], new(big.Rat).Sub(inv.amount, fee(inv.amount)))
	}
	s.log.Info("invoice status", "key", inv.merchant, "foreign_id", inv.foreignID, "status", status)
	return s.callbackFor(inv, wasPaying)
}

// fee is the emulator's deposit fee, 0.99% (the made-up deposit_fee_percent).
func fee(amount *big.Rat) *big.Rat {
	return roundRat(new(big.Rat).Mul(amount, big.NewRat(99, 10000)))
}

// Invoices lists every invoice of every merchant in creation order.
func (s *Server) Invoices() []Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Invoice, len(s.all))
	for i, inv := range s.all {
		out[i] = inv.view()
	}
	return out
}

// Lookup returns the invoice foreignID of merchant key.
func (s *Server) Lookup(key, foreignID string) (Invoice, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.invoices[key][foreignID]
	if inv == nil {
		return Invoice{}, false
	}
	return inv.view(), true
}

// accounts answers /accounts/list: one account per emulated currency, zero unless confirmed
// invoices credited it [D S16: zero balances are listed too].
func (s *Server) accounts(key string) []byte {
	type account struct {
		Currency string `json:"currency"`
		Type     string `json:"type"`
		Balance  string `json:"balance"`
	}
	s.mu.Lock()
	list := make([]account, 0, len(currencyList))
	for _, c := range currencyList {
		bal := "0.00000000"
		if b := s.balances[key][c.Currency]; b != nil {
			bal = b.FloatString(8)
		}
		list = append(list, account{Currency: c.Currency, Type: c.Type, Balance: bal})
	}
	s.mu.Unlock()
	sort.SliceStable(list, func(i, j int) bool { return list[i].Type == "fiat" && list[j].Type != "fiat" })
	out, _ := json.Marshal(struct {
		Data []account `json:"data"`
	}{list})
	return out
}
