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

// seenAfter is the deadline once a payment is seen: "We will change the timer from 15 minutes
// to 24 hours" [D S23; only for BTC and BCH in S27, C]. The emulator stretches it for every
// currency.
const seenAfter = 24 * 60 * 60

// The documented failure texts [D S20].
const (
	reasonNotPaid      = "Timer expired. User not paid."
	reasonPaidLess     = "Timer expired. User paid less than requested."
	reasonTooLong      = "Timer expired. Transactions were in status processing too long."
	reasonCancelled    = "Invoice cancelled by the merchant." // [E]: the text after a cancel is not documented
	defaultPayCurrency = "BTC"
)

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
	fixedAt          int64      // 0 = not fixed
	expiresAt        int64      // 0 = fixedAt + releaseAfter; set once a payment is seen
	payments         []*big.Rat // transactions seen, in the pay currency
	deadline         *time.Timer
	deadlineGen      int // bumped on every (re)schedule, so a stale timer does nothing
	createdAt        time.Time
	duplicates       int
	droppedAnswer    bool
	callbacks        int
}

// Invoice is the emulator's view of one invoice, served by the /_emulator/ controls. It
// carries no personal data (no email_user, no sender_data).
type Invoice struct {
	Merchant         string `json:"merchant"`
	ID               int64  `json:"id"`
	ForeignID        string `json:"foreign_id"`
	URL              string `json:"url"`
	EndUserReference string `json:"end_user_reference"`
	Status           string `json:"status"`
	Currency         string `json:"currency"`
	Amount           string `json:"amount"`
	SenderCurrency   string `json:"sender_currency,omitempty"`
	SenderAmount     string `json:"sender_amount,omitempty"`
	// Paid is the sum of the payments seen, in SenderCurrency.
	Paid      string    `json:"paid,omitempty"`
	Error     string    `json:"error,omitempty"` // why a failed invoice failed, as in its callback
	Timer     bool      `json:"timer"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
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
	if len(inv.payments) > 0 {
		out.Paid = inv.paid().FloatString(8)
	}
	out.Error = inv.failReason
	return out
}

// payCurrency is the crypto currency the customer pays in: the chosen one, else the one the
// customer would be offered first — the invoice's own currency when it is a crypto currency,
// otherwise BTC [I].
func (inv *invoice) payCurrency() string {
	switch {
	case inv.senderCurrency != "":
		return inv.senderCurrency
	case currencies[inv.currency].Type == "crypto":
		return inv.currency
	}
	return defaultPayCurrency
}

// toSend is the amount the customer is asked to send, in payCurrency.
func (inv *invoice) toSend() *big.Rat {
	if inv.senderAmount != nil {
		return inv.senderAmount
	}
	return roundRat(convert(inv.amount, inv.currency, inv.payCurrency()))
}

// paid sums the payments seen.
func (inv *invoice) paid() *big.Rat {
	sum := new(big.Rat)
	for _, p := range inv.payments {
		sum.Add(sum, p)
	}
	return sum
}

// remaining is what the customer still has to send (never negative).
func (inv *invoice) remaining() *big.Rat {
	r := new(big.Rat).Sub(inv.toSend(), inv.paid())
	if r.Sign() < 0 {
		r.SetInt64(0)
	}
	return r
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
func (s *Server) create(key string, held map[string]bool, fields map[string]any) (int, []byte, bool) {
	req, errs := s.validateCreate(held, fields)
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
	if req.timer {
		// 15 minutes to pay from creation [D S1, S23].
		s.scheduleLocked(inv, releaseAfter*time.Second)
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
	cb := s.moveLocked(inv, StatusFailed, reasonCancelled)
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
// callback:
//
//   - pending: the customer chose the pay currency; the rate is fixed, a deposit address issued.
//   - processing: the rest of the amount is paid in one transaction, seen in the mempool; the
//     deadline is stretched to 24 h.
//   - confirmed: as processing, and the transactions are final; the account is credited.
//   - failed: the deadline passes now, with the documented error of the invoice's state
//     ("User not paid.", "User paid less than requested." or "Transactions were in status
//     processing too long.").
//
// payCurrency picks the crypto the customer pays with when the invoice has no currency yet
// ("" means the invoice's own currency if it is a crypto currency, else BTC); it is ignored
// once a currency is fixed.
func (s *Server) SetStatus(key, foreignID, status, payCurrency string) error {
	switch status {
	case StatusPending, StatusProcessing, StatusConfirmed, StatusFailed:
	default:
		return fmt.Errorf("emulator: status %q cannot be set; use pending, processing, confirmed or failed", status)
	}
	if err := checkPayCurrency(payCurrency); err != nil {
		return err
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
	switch status {
	case StatusPending:
		s.chooseLocked(inv, payCurrency)
	case StatusProcessing, StatusConfirmed:
		s.chooseLocked(inv, payCurrency)
		if rest := inv.remaining(); rest.Sign() > 0 {
			inv.payments = append(inv.payments, rest)
		}
		s.seenLocked(inv, status == StatusProcessing)
	case StatusFailed:
		reason = expiryReason(inv)
	}
	cb := s.moveLocked(inv, status, reason)
	s.mu.Unlock()
	s.sendCallback(cb)
	return nil
}

// Pay records a payment of amount (a decimal in the pay currency; "" pays the rest) to the
// invoice foreignID of merchant key, as a customer's transaction seen in the mempool, and
// sends the callback. A payment that covers the amount to send moves the invoice to
// processing. A short one leaves a good_until_expired invoice pending (more parts may follow
// until the deadline, which then fails it with "Timer expired. User paid less than
// requested.") and fails a fill_or_kill invoice at once with that error [I]. Only created and
// pending invoices take payments. payCurrency is as for SetStatus.
func (s *Server) Pay(key, foreignID, amount, payCurrency string) error {
	if err := checkPayCurrency(payCurrency); err != nil {
		return err
	}
	var pay *big.Rat
	if amount != "" {
		r, ok := parseDecimal(amount)
		if !ok || r.Sign() <= 0 {
			return fmt.Errorf("emulator: payment amount %q is not a positive decimal like \"0.001\"", amount)
		}
		if pay = roundRat(r); pay.Sign() == 0 {
			return fmt.Errorf("emulator: payment amount %q rounds to zero at 8 decimals", amount)
		}
	}
	s.mu.Lock()
	inv := s.invoices[key][foreignID]
	if inv == nil {
		s.mu.Unlock()
		return fmt.Errorf("emulator: merchant %q has no invoice %q: %w", key, foreignID, ErrNotFound)
	}
	if inv.status != StatusCreated && inv.status != StatusPending {
		from := inv.status
		s.mu.Unlock()
		return fmt.Errorf("emulator: invoice %q is %s and takes no more payments: %w", foreignID, from, ErrBadTransition)
	}
	s.chooseLocked(inv, payCurrency)
	if pay == nil {
		pay = inv.remaining()
	}
	inv.payments = append(inv.payments, pay)
	status, reason := StatusProcessing, ""
	switch {
	case inv.remaining().Sign() == 0:
		s.seenLocked(inv, true)
	case inv.typ == "good_until_expired":
		status = StatusPending
	default:
		status, reason = StatusFailed, reasonPaidLess
	}
	cb := s.moveLocked(inv, status, reason)
	s.mu.Unlock()
	s.sendCallback(cb)
	return nil
}

func checkPayCurrency(code string) error {
	if code == "" {
		return nil
	}
	if c, ok := currencies[code]; !ok || c.Type != "crypto" {
		return fmt.Errorf("emulator: pay currency %q is not an emulated crypto currency", code)
	}
	return nil
}

// expiryReason is the documented error of an invoice whose deadline passes now [D S20].
func expiryReason(inv *invoice) string {
	switch {
	case inv.status == StatusProcessing:
		return reasonTooLong
	case len(inv.payments) > 0:
		return reasonPaidLess
	}
	return reasonNotPaid
}

// chooseLocked fixes the pay currency (if none yet), its amount, the deposit address and the
// rate's fixed_at, as the customer's choice on the invoice page does. The caller holds s.mu.
func (s *Server) chooseLocked(inv *invoice, payCurrency string) {
	if inv.senderCurrency == "" {
		if payCurrency == "" {
			payCurrency = inv.payCurrency()
		}
		inv.senderCurrency = payCurrency
	}
	if inv.senderAmount == nil {
		inv.senderAmount = roundRat(convert(inv.amount, inv.currency, inv.senderCurrency))
	}
	if inv.address == "" {
		inv.address = fakeAddress(inv.merchant, inv.foreignID, inv.senderCurrency)
	}
	if inv.fixedAt == 0 {
		inv.fixedAt = s.now().Unix()
	}
}

// seenLocked stretches the deadline to about 24 h from now, once a payment is seen [D S23];
// with schedule, a timer fails the invoice if it is still processing then. The caller holds
// s.mu.
func (s *Server) seenLocked(inv *invoice, schedule bool) {
	if inv.expiresAt == 0 {
		inv.expiresAt = s.now().Unix() + seenAfter
	}
	if schedule {
		s.scheduleLocked(inv, seenAfter*time.Second)
	}
}

// scheduleLocked (re)arms the invoice's deadline after d of emulated time, that is d times
// CallbackScale of real time. The caller holds s.mu.
func (s *Server) scheduleLocked(inv *invoice, d time.Duration) {
	inv.deadlineGen++
	if inv.deadline != nil {
		inv.deadline.Stop()
		inv.deadline = nil
	}
	if s.timersStopped {
		return
	}
	gen := inv.deadlineGen
	inv.deadline = time.AfterFunc(s.scaled(d), func() { s.expire(inv, gen) })
}

// expire fails an invoice whose deadline passed: unpaid or short-paid (created, pending) or
// stuck in processing. A stale timer (the deadline was moved or the invoice is final) does
// nothing.
func (s *Server) expire(inv *invoice, gen int) {
	s.mu.Lock()
	if gen != inv.deadlineGen || s.timersStopped || !canMove(inv.status, StatusFailed) {
		s.mu.Unlock()
		return
	}
	inv.deadline = nil
	cb := s.moveLocked(inv, StatusFailed, expiryReason(inv))
	s.mu.Unlock()
	s.sendCallback(cb)
}

// scaled turns emulated time into real time with CallbackScale (0 means 1).
func (s *Server) scaled(d time.Duration) time.Duration {
	if s.opts.CallbackScale == 0 {
		return d
	}
	return time.Duration(float64(d) * s.opts.CallbackScale)
}

// stopTimers disarms every deadline; Close calls it.
func (s *Server) stopTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timersStopped = true
	for _, inv := range s.all {
		if inv.deadline != nil {
			inv.deadline.Stop()
			inv.deadline = nil
		}
	}
}

// moveLocked changes the status, credits the account on confirmation, disarms the deadline of
// a final invoice, and builds the callback; the caller holds s.mu and sends the callback after
// unlocking.
func (s *Server) moveLocked(inv *invoice, status, reason string) callback {
	inv.status, inv.failReason = status, reason
	if status == StatusConfirmed || status == StatusFailed {
		inv.deadlineGen++
		if inv.deadline != nil {
			inv.deadline.Stop()
			inv.deadline = nil
		}
	}
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
	return s.callbackFor(inv)
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
		if !s.held[key][c.Currency] {
			continue
		}
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
