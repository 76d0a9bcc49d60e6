package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
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
	CryptoAddress    *cbAddress `json:"crypto_address"`
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
	ConvertTo string  `json:"convert_to"`
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

const zero8 = "0.00000000"

// callbackFor builds the callback of the invoice's new status. The caller holds s.mu.
// wasPaying tells a failure after a seen payment from one with nothing paid.
func (s *Server) callbackFor(inv *invoice, wasPaying bool) callback {
	if s.opts.CallbackURL == "" {
		return callback{}
	}
	fixed := inv.fixedAt
	if fixed == 0 {
		fixed = s.now().Unix()
	}
	p := cbPayload{
		ID: inv.id, ForeignID: inv.foreignID, EndUserReference: inv.endUserReference, Type: "invoice",
		Transactions: []cbTx{}, Fees: []cbFee{}, Error: inv.failReason, Status: inv.status,
		FixedAt: fixed, ExpiresAt: fixed + releaseAfter,
	}
	sentCur, sent := inv.senderCurrency, zero8
	if sentCur == "" {
		sentCur = inv.currency
	}
	remaining := inv.amount.FloatString(8)
	if inv.senderAmount != nil {
		remaining = inv.senderAmount.FloatString(8)
	}
	if inv.address != "" {
		p.CryptoAddress = &cbAddress{ID: inv.id, Currency: inv.senderCurrency, ConvertTo: inv.currency, Address: inv.address}
	}
	paid := inv.status == StatusProcessing || inv.status == StatusConfirmed || (inv.status == StatusFailed && wasPaying)
	received := zero8
	if paid && inv.senderAmount != nil {
		sent, remaining = inv.senderAmount.FloatString(8), zero8
		confirmations := "0"
		if inv.status == StatusConfirmed {
			confirmations = "2"
			f := fee(inv.amount)
			received = new(big.Rat).Sub(inv.amount, f).FloatString(8)
			p.Fees = append(p.Fees, cbFee{Type: "fee_crypto_deposit", Currency: inv.currency, Amount: f.FloatString(8)})
		}
		txid := sha256.Sum256([]byte(inv.address + inv.foreignID))
		p.Transactions = append(p.Transactions, cbTx{
			ID: inv.id*10 + 1, Currency: inv.senderCurrency, TransactionType: "blockchain", Type: "deposit",
			Address: inv.address, Amount: sent, TxID: hex.EncodeToString(txid[:]), Confirmations: confirmations,
		})
	}
	p.CurrencySent = cbSent{Currency: sentCur, Amount: sent, RemainingAmount: remaining}
	p.CurrencyReceived = cbReceived{Currency: inv.currency, Amount: received}
	body, err := json.Marshal(p)
	if err != nil {
		return callback{}
	}
	return callback{key: inv.merchant, secret: s.secrets[inv.merchant], foreignID: inv.foreignID, body: body}
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
