package callback

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/state"
)

// MaxBody is the largest body accepted: a callback is a few kilobytes.
const MaxBody = 1 << 20

// Reason is why a callback was refused; it labels the refusal metric and the log line.
type Reason string

// The reasons of Error.
const (
	ReasonMethod    Reason = "method"
	ReasonKey       Reason = "key"
	ReasonSignature Reason = "signature"
	ReasonTooLarge  Reason = "too_large"
	ReasonMalformed Reason = "malformed"
	ReasonShape     Reason = "shape"
)

// Error is a refused callback. Its message holds no part of the body.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string { return fmt.Sprintf("callback refused (%s): %s", e.Reason, e.Detail) }

func refuse(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// ReasonOf is the reason of a refusal, or "" for other errors.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// Verify checks the headers of a callback against the merchant's key and secret: the key
// equal (constant time), the signature the hex HMAC-SHA512 of exactly these bytes.
func Verify(key, secret, gotKey, gotSig string, body []byte) error {
	if gotKey == "" || subtle.ConstantTimeCompare([]byte(gotKey), []byte(key)) != 1 {
		return refuse(ReasonKey, "X-Processing-Key is missing or not this merchant's key")
	}
	if gotSig == "" || !api.VerifySignature(secret, body, gotSig) {
		return refuse(ReasonSignature, "X-Processing-Signature is missing or is not the HMAC-SHA512 of the body")
	}
	return nil
}

// payload is the part of the documented shape that is checked and kept. Pointers tell a
// missing field from a zero one.
type payload struct {
	ID               *int64    `json:"id"`
	ForeignID        *string   `json:"foreign_id"`
	Type             *string   `json:"type"`
	Status           *string   `json:"status"`
	Error            *string   `json:"error"` // null in older examples
	CurrencySent     *sent     `json:"currency_sent"`
	CurrencyReceived *received `json:"currency_received"`
	Transactions     *[]tx     `json:"transactions"`
}

type sent struct {
	Currency        *string `json:"currency"`
	Amount          *string `json:"amount"`
	RemainingAmount *string `json:"remaining_amount"`
}

type received struct {
	Currency *string `json:"currency"`
	Amount   *string `json:"amount"`
}

type tx struct {
	TxID *string `json:"txid"`
}

var (
	decimal  = regexp.MustCompile(`^[0-9]{1,30}(\.[0-9]{1,30})?$`)
	currency = regexp.MustCompile(`^[A-Z0-9-]{1,16}$`)
)

// Decode parses a verified body into the callback to record, received at the given time.
// It refuses a body that is not one JSON object of the documented shape: id an integer;
// foreign_id a non-empty string; type "invoice"; status one of the five; error a string or
// null; currency_sent and currency_received objects whose currencies are codes and amounts
// decimal strings; transactions an array.
func Decode(body []byte, at time.Time) (state.Incoming, error) {
	var p payload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return state.Incoming{}, refuse(ReasonShape, "field %s has the wrong type", te.Field)
		}
		return state.Incoming{}, refuse(ReasonMalformed, "the body is not a JSON object")
	}
	if dec.More() {
		return state.Incoming{}, refuse(ReasonMalformed, "data after the JSON object")
	}
	switch {
	case p.ID == nil:
		return state.Incoming{}, refuse(ReasonShape, "no id")
	case p.ForeignID == nil || *p.ForeignID == "" || len(*p.ForeignID) > 255 || strings.IndexByte(*p.ForeignID, 0) >= 0:
		return state.Incoming{}, refuse(ReasonShape, "no foreign_id, or one longer than 255 bytes or with a NUL")
	case p.Type != nil && *p.Type != "invoice":
		return state.Incoming{}, refuse(ReasonShape, "type is not invoice")
	case p.Status == nil || !state.KnownStatus(*p.Status):
		return state.Incoming{}, refuse(ReasonShape, "status is not one of created, pending, processing, confirmed, failed")
	case p.CurrencySent == nil || p.CurrencyReceived == nil || p.Transactions == nil:
		return state.Incoming{}, refuse(ReasonShape, "currency_sent, currency_received or transactions is missing")
	}
	for name, v := range map[string]*string{"currency_sent.currency": p.CurrencySent.Currency, "currency_received.currency": p.CurrencyReceived.Currency} {
		if v == nil || !currency.MatchString(*v) {
			return state.Incoming{}, refuse(ReasonShape, "%s is not a currency code", name)
		}
	}
	for name, v := range map[string]*string{"currency_sent.amount": p.CurrencySent.Amount, "currency_sent.remaining_amount": p.CurrencySent.RemainingAmount,
		"currency_received.amount": p.CurrencyReceived.Amount} {
		if v == nil || !decimal.MatchString(*v) {
			return state.Incoming{}, refuse(ReasonShape, "%s is not a decimal string", name)
		}
	}
	sum := sha256.Sum256(body)
	cb := state.Callback{
		ReceivedAt: at.UTC(), Status: *p.Status,
		SentCurrency: *p.CurrencySent.Currency, SentAmount: *p.CurrencySent.Amount, SentRemaining: *p.CurrencySent.RemainingAmount,
		ReceivedCurrency: *p.CurrencyReceived.Currency, ReceivedAmount: *p.CurrencyReceived.Amount,
		BodyHash: hex.EncodeToString(sum[:]),
	}
	if p.Error != nil {
		cb.Error = *p.Error
	}
	for _, t := range *p.Transactions {
		if t.TxID != nil && *t.TxID != "" {
			cb.TxIDs = append(cb.TxIDs, *t.TxID)
		}
	}
	if err := cb.Validate(); err != nil {
		return state.Incoming{}, refuse(ReasonShape, "%v", err)
	}
	return state.Incoming{ForeignID: *p.ForeignID, InvoiceID: *p.ID, Callback: cb}, nil
}
