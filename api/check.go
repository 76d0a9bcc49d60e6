package api

import (
	"encoding/json"
	"errors"

	"github.com/invoiceform/invoiceform/invoice"
)

// CheckAnswer checks a create's success answer against the request body that was sent: the
// answer's foreign_id, currency and amount (as exact decimals: "106.75" and "106.75000000"
// agree) must be the request's. It returns nil when they match, a *MismatchError (Uncertain)
// when they do not, and a *RequestError when body is not a create request. Only a checked
// answer may be recorded as the invoice: an answer naming another invoice must never put that
// invoice's id or URL in the state.
func CheckAnswer(body []byte, inv *Invoice) error {
	const op = "POST /invoices/create"
	var req struct {
		ForeignID string `json:"foreign_id"`
	}
	currency, amount, ok := invoice.Money(body)
	if json.Unmarshal(body, &req) != nil || !ok || req.ForeignID == "" {
		return &RequestError{Op: op, Reason: "the request body has no foreign_id, currency and amount to check the answer against"}
	}
	if inv == nil {
		return errors.New("api: CheckAnswer: no answer")
	}
	mismatch := func(field, sent, answered string) error {
		return &MismatchError{Op: op, ForeignID: req.ForeignID, Field: field, Sent: sent, Answered: answered,
			AnsweredForeignID: inv.ForeignID, AnsweredCurrency: inv.Currency, AnsweredAmount: inv.Amount}
	}
	if inv.ForeignID != req.ForeignID {
		return mismatch("foreign_id", req.ForeignID, inv.ForeignID)
	}
	if inv.Currency != currency {
		return mismatch("currency", currency, inv.Currency)
	}
	got, err := invoice.ParseAmount(inv.Amount)
	if err != nil || got.Cmp(amount) != 0 {
		return mismatch("amount", amount.String(), inv.Amount)
	}
	return nil
}
