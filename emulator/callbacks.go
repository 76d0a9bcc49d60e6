package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// callback is one signed delivery to the merchant's callback URL.
type callback struct {
	key, secret string
	foreignID   string
	body        []byte
}

// cbState tracks deliveries so Close can stop them and wait for them.
type cbState struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	client *http.Client
}

func (c *cbState) init() {
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.client = &http.Client{Timeout: 10 * time.Second}
}

func (c *cbState) stop() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// The invoice callback payload [D S11, S20]. All amounts are decimal strings; confirmations
// is a string too.
type cbPayload struct {
	ID               int64      `json:"id"` // the invoice id [I, "What is not documented"]
	ForeignID        string     `json:"foreign_id"`
	EndUserReference string     `json:"end_user_reference"`
	Type             string     `json:"type"`
	CryptoAddress    cbAddress  `json:"crypto_address"` // always an object [D S11, S20]
	CurrencySent     cbSent     `json:"currency_sent"`
	CurrencyReceived cbReceived `json:"currency_received"`
	Transactions     []cbTx     `json:"transactions"`
	Fees             []cbFee    `json:"fees"`
	Error            string     `json:"error"`
	Status           string     `json:"status"`
	FixedAt          int64      `json:"fixed_at"`
	ExpiresAt        int64      `json:"expires_at"`
}

type cbAddress struct {
	ID        int64   `json:"id"`
	Currency  string  `json:"currency"`
	ConvertTo string  `json:"convert_to,omitempty"` // only when the payment is converted [D S20]
	Address   string  `json:"address"`
	Tag       *string `json:"tag"`
}

type cbSent struct {
	Currency        string `json:"currency"`
	Amount          string `json:"amount"`
	RemainingAmount string `json:"remaining_amount"`
}

type cbReceived struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

type cbTx struct {
	ID              int64   `json:"id"`
	Currency        string  `json:"currency"`
	TransactionType string  `json:"transaction_type"`
	Type            string  `json:"type"`
	Address         string  `json:"address"`
	Tag             *string `json:"tag"`
	Amount          string  `json:"amount"`
	TxID            string  `json:"txid"`
	Confirmations   string  `json:"confirmations"`
}

type cbFee struct {
	Type     string `json:"type"`
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

// callbackFor builds the callback of the invoice's current state, the way the documented
// examples read [D S11, S20; "Evidence from independent clients"]:
//
//   - crypto_address is always an object: the pay currency and the deposit address. Before the
//     customer has chosen a currency (a cancel or a timer expiry straight from created) it names
//     the currency the customer would be offered first (payCurrency) with id 0 and address "":
//     no address was issued [I].
//   - currency_sent is in that crypto currency: amount is what the customer is asked to send,
//     remaining_amount what is still missing, so an unpaid invoice has both equal.
//   - currency_received is the invoice's currency and gross amount in every status; the fee
//     appears in fees once the invoice is confirmed.
//   - expires_at is fixed_at + 900 until a payment is seen, then about 24 h after it
//     (inv.expiresAt).
//
// The caller holds s.mu.
func (s *Server) callbackFor(inv *invoice) callback {
	if s.opts.CallbackURL == "" {
		return callback{}
	}
	fixed := inv.fixedAt
	if fixed == 0 {
		fixed = s.now().Unix()
	}
	expires := inv.expiresAt
	if expires == 0 {
		expires = fixed + releaseAfter
	}
	payCur := inv.payCurrency()
	toSend, remaining := inv.toSend(), inv.remaining()
	p := cbPayload{
		ID: inv.id, ForeignID: inv.foreignID, EndUserReference: inv.endUserReference, Type: "invoice",
		CryptoAddress: cbAddress{Currency: payCur, Address: inv.address},
		CurrencySent:  cbSent{Currency: payCur, Amount: toSend.FloatString(8), RemainingAmount: remaining.FloatString(8)},
		// The gross invoice amount, whatever the status; the fee is listed in fees.
		CurrencyReceived: cbReceived{Currency: inv.currency, Amount: inv.amount.FloatString(8)},
		Transactions:     []cbTx{}, Fees: []cbFee{}, Error: inv.failReason, Status: inv.status,
		FixedAt: fixed, ExpiresAt: expires,
	}
	if inv.address != "" {
		p.CryptoAddress.ID = inv.id
	}
	if payCur != inv.currency {
		p.CryptoAddress.ConvertTo = inv.currency
	}
	// Confirmations: "0" while the payment is in the mempool, more once it is final — also
	// for the short payment of a failed invoice, whose transaction is confirmed [D S23].
	confirmations := "0"
	if inv.status == StatusConfirmed || inv.failReason == reasonPaidLess {
		confirmations = "2"
	}
	for i, amount := range inv.payments {
		txid := sha256.Sum256([]byte(inv.address + "\x00" + inv.foreignID + "\x00" + strconv.Itoa(i)))
		p.Transactions = append(p.Transactions, cbTx{
			ID: inv.id*1000 + int64(i) + 1, Currency: payCur, TransactionType: "blockchain", Type: "deposit",
			Address: inv.address, Amount: amount.FloatString(8), TxID: hex.EncodeToString(txid[:]), Confirmations: confirmations,
		})
	}
	if inv.status == StatusConfirmed {
		p.Fees = append(p.Fees, cbFee{Type: "fee_crypto_deposit", Currency: inv.currency, Amount: fee(inv.amount).FloatString(8)})
	}
	body, err := phpJSON(p)
	if err != nil {
		return callback{}
	}
	return callback{key: inv.merchant, secret: s.secrets[inv.merchant], foreignID: inv.foreignID, body: body}
}

// phpJSON encodes v as the API's PHP backend does with json_encode's default flags: "/" is
// written as "\/" and every non-ASCII character as a \uXXXX escape (UTF-16, lowercase hex,
// surrogate pairs beyond the BMP); <, > and & stay as they are [I, "Evidence from independent
// clients": the vendor's plugins re-encode callbacks with json_encode]. A receiver that verifies
// the signature over a re-encoding of the parsed body, instead of over the bytes received,
// then fails against the emulator as it would in production.
func phpJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	raw := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	// Outside strings, JSON has neither "/" nor non-ASCII bytes, so a byte-level pass only
	// touches string contents. Go never writes "\/", and a "/" after an escaped backslash
	// ("\\/") correctly becomes "\\\/".
	out := make([]byte, 0, len(raw)+len(raw)/8)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '/':
			out = append(out, '\\', '/')
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			i += size
			if r >= 0x10000 {
				r -= 0x10000
				out = appendU(appendU(out, 0xD800+(r>>10)), 0xDC00+(r&0x3FF))
			} else {
				out = appendU(out, r)
			}
		}
	}
	return out, nil
}

// appendU writes \uXXXX with lowercase hex digits, as PHP does.
func appendU(b []byte, r rune) []byte {
	h := strconv.FormatInt(int64(r), 16)
	b = append(b, '\\', 'u')
	for range 4 - len(h) {
		b = append(b, '0')
	}
	return append(b, h...)
}

// sendCallback delivers in the background, retrying per the (scaled) schedule until a 200,
// the end of the schedule, or Close.
func (s *Server) sendCallback(cb callback) {
	if cb.body == nil {
		return
	}
	s.cb.mu.Lock()
	if s.cb.closed {
		s.cb.mu.Unlock()
		return
	}
	s.cb.wg.Add(1)
	s.cb.mu.Unlock()
	go s.deliver(cb)
}

func (s *Server) deliver(cb callback) {
	defer s.cb.wg.Done()
	schedule := s.opts.CallbackSchedule
	if schedule == nil {
		schedule = DefaultCallbackSchedule
	}
	scale := s.opts.CallbackScale
	if scale == 0 {
		scale = 1
	}
	for attempt := 0; ; attempt++ {
		s.counters.callbacksSent.Add(1)
		status, err := s.postCallback(cb)
		if err == nil && status == http.StatusOK {
			s.counters.callbacksDelivered.Add(1)
			s.log.Info("callback delivered", "foreign_id", cb.foreignID, "attempt", attempt+1)
			return
		}
		s.log.Info("callback not accepted", "foreign_id", cb.foreignID, "attempt", attempt+1, "status", status, "error", err)
		if attempt >= len(schedule) {
			s.counters.callbacksFailed.Add(1)
			return
		}
		t := time.NewTimer(time.Duration(float64(schedule[attempt]) * scale))
		select {
		case <-t.C:
		case <-s.cb.ctx.Done():
			t.Stop()
			s.counters.callbacksFailed.Add(1)
			return
		}
	}
}

// postCallback signs the body like a request [D S12, S21] and posts it.
func (s *Server) postCallback(cb callback) (int, error) {
	req, err := http.NewRequestWithContext(s.cb.ctx, http.MethodPost, s.opts.CallbackURL, bytes.NewReader(cb.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Processing-Key", cb.key)
	req.Header.Set("X-Processing-Signature", sign(cb.secret, cb.body))
	resp, err := s.cb.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
