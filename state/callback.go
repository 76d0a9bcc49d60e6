package state

import (
	"context"
	"fmt"
	"sort"
	"time"
	"unicode/utf8"
)

// The invoice statuses of the API (docs/api.md, "Invoice statuses and callbacks"). An
// invoice moves created → pending → processing → confirmed | failed; the last two are final.
const (
	StatusCreated    = "created"
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusConfirmed  = "confirmed"
	StatusFailed     = "failed"
)

// statusRank orders the statuses; "" (unknown, e.g. an adopted invoice) is below them all.
var statusRank = map[string]int{"": 0, StatusCreated: 1, StatusPending: 2, StatusProcessing: 3, StatusConfirmed: 4, StatusFailed: 4}

// KnownStatus reports whether s is one of the five statuses.
func KnownStatus(s string) bool { _, ok := statusRank[s]; return ok && s != "" }

// FinalStatus reports whether s never changes again: confirmed or failed.
func FinalStatus(s string) bool { return s == StatusConfirmed || s == StatusFailed }

// OpenUnpaid reports whether an invoice of status s is open and nothing is being paid:
// created, pending, or unknown (""; an adopted invoice before its first callback). Only
// these may be cancelled by -prune.
func OpenUnpaid(s string) bool { return s == "" || s == StatusCreated || s == StatusPending }

// Callback is one accepted callback of an invoice, as kept in its record's history. It holds
// no personal data: end_user_reference and the addresses of the body are not kept.
type Callback struct {
	ReceivedAt time.Time `json:"received_at"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	// Amounts are the exact decimal text of the callback: sent is what the customer is asked
	// to send (in the crypto currency paid in), received the invoice's currency and amount.
	SentCurrency     string   `json:"sent_currency,omitempty"`
	SentAmount       string   `json:"sent_amount,omitempty"`
	SentRemaining    string   `json:"sent_remaining,omitempty"`
	ReceivedCurrency string   `json:"received_currency,omitempty"`
	ReceivedAmount   string   `json:"received_amount,omitempty"`
	TxIDs            []string `json:"txids,omitempty"`
	// BodyHash is the lowercase hex SHA-256 of the raw body: the same callback delivered
	// twice has the same hash and changes nothing.
	BodyHash string `json:"body_hash"`
}

// Validate checks a callback before it is stored.
func (c *Callback) Validate() error {
	switch {
	case !KnownStatus(c.Status):
		return fmt.Errorf("state: callback: unknown status %q", c.Status)
	case c.ReceivedAt.IsZero():
		return fmt.Errorf("state: callback: no received time")
	case !isHexHash(c.BodyHash):
		return fmt.Errorf("state: callback: body_hash %q is not a hex SHA-256", c.BodyHash)
	}
	for _, s := range append([]string{c.Error, c.SentCurrency, c.SentAmount, c.SentRemaining, c.ReceivedCurrency, c.ReceivedAmount}, c.TxIDs...) {
		if !utf8.ValidString(s) || hasNUL(s) {
			return fmt.Errorf("state: callback: a field is not UTF-8 text without NUL bytes")
		}
	}
	return nil
}

func hasNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Clone returns a deep copy.
func (c Callback) Clone() Callback {
	c.TxIDs = append([]string(nil), c.TxIDs...)
	if len(c.TxIDs) == 0 {
		c.TxIDs = nil
	}
	return c
}

// UnknownCallback is a verified callback whose foreign_id the state does not know (an invoice
// made by another tool, or a record removed with state rm). It is kept, once per body hash,
// and listed by `state list -unknown`; it never changes a record.
type UnknownCallback struct {
	ForeignID string `json:"foreign_id"`
	InvoiceID int64  `json:"id,omitempty"`
	Callback
}

// Incoming is a verified callback to record.
type Incoming struct {
	ForeignID string
	InvoiceID int64
	Callback  Callback
}

// Outcome is what recording a callback did.
type Outcome int

const (
	// Applied: the callback was added to the record's history (and its status moved, or a
	// further payment of the same status was noted).
	Applied Outcome = iota + 1
	// Duplicate: the same body was recorded before; nothing changed.
	Duplicate
	// Stale: the callback is behind the record's status (out of order, or after a final
	// status); nothing changed.
	Stale
	// Unknown: no record has its foreign_id; it was kept among the unknown callbacks (or had
	// been kept already).
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case Stale:
		return "stale"
	case Unknown:
		return "unknown"
	}
	return "invalid"
}

// Decide is the status transition rule, the one place it is written. Given a record's
// status and history, it says what a new callback does:
//
//   - a body already in the history changes nothing (Duplicate);
//   - after a final status (confirmed, failed) nothing changes any more (Stale), so a late
//     processing, or a failed after confirmed, is not even kept in the history;
//   - a status behind the current one (pending after processing: callbacks are delivered in
//     parallel and retried, so they arrive out of order) changes nothing (Stale);
//   - otherwise (the same status again, e.g. a second part payment while pending, or a later
//     one) the callback is Applied: appended to the history, and the status becomes its.
func Decide(status string, history []Callback, cb *Callback) Outcome {
	for i := range history {
		if history[i].BodyHash == cb.BodyHash {
			return Duplicate
		}
	}
	if FinalStatus(status) {
		return Stale
	}
	if statusRank[cb.Status] < statusRank[status] {
		return Stale
	}
	return Applied
}

// Apply records cb in r if Decide says so, returning the outcome. A confirmed callback sets
// PaidAt to the time it was received.
func (r *Record) Apply(cb Callback) Outcome {
	o := Decide(r.Status, r.History, &cb)
	if o != Applied {
		return o
	}
	r.History = append(r.History, cb.Clone())
	r.Status = cb.Status
	if cb.Status == StatusConfirmed {
		r.PaidAt = cb.ReceivedAt
	}
	return Applied
}

// MergeCallbacks is what every store's Put does when it replaces a record: once a record has
// a history, its callback-owned fields belong to the callbacks. The history and the paid
// time are kept from old, and the status only moves forward (never from a final status), so
// that apply writing a record it read before a callback arrived cannot undo the callback.
// (apply sets "failed" when it cancels, which then stays.)
func MergeCallbacks(old, r *Record) *Record {
	if old == nil || len(old.History) == 0 {
		return r
	}
	m := r.Clone()
	m.History = cloneHistory(old.History)
	m.PaidAt = old.PaidAt
	m.Status = old.Status
	if !FinalStatus(old.Status) && statusRank[r.Status] > statusRank[old.Status] {
		m.Status = r.Status
	}
	return m
}

func cloneHistory(h []Callback) []Callback {
	if len(h) == 0 {
		return nil
	}
	out := make([]Callback, len(h))
	for i := range h {
		out[i] = h[i].Clone()
	}
	return out
}

// CallbackStore is implemented by stores that record callbacks (all of this module's).
type CallbackStore interface {
	// RecordCallbacks records verified callbacks in one transaction, in order, applying the
	// rule of Decide to each against the record as it is inside the transaction; a callback
	// for an unknown foreign_id is kept among the unknown callbacks (once per body hash). It
	// returns one outcome per callback, and is durable when it returns nil. Writes that apply
	// a callback count one in the serial; duplicates and stale ones write nothing.
	RecordCallbacks(ctx context.Context, in []Incoming) ([]Outcome, error)
}

// ApplyIncoming is the shared body of RecordCallbacks for stores that can read and write
// records inside a transaction: get returns the current record or nil, and the result says
// which records changed and which unknown callbacks to keep. haveUnknown reports whether an
// unknown callback of that body hash is kept already.
func ApplyIncoming(in []Incoming, get func(id string) (*Record, error), haveUnknown func(hash string) (bool, error)) (out []Outcome, changed map[string]*Record, unknown []*UnknownCallback, err error) {
	out = make([]Outcome, len(in))
	changed = map[string]*Record{}
	newUnknown := map[string]bool{}
	for i, c := range in {
		if err := c.Callback.Validate(); err != nil {
			return nil, nil, nil, err
		}
		r := changed[c.ForeignID]
		if r == nil {
			cur, err := get(c.ForeignID)
			if err != nil {
				return nil, nil, nil, err
			}
			if cur != nil {
				r = cur.Clone()
			}
		}
		if r == nil {
			out[i] = Unknown
			if newUnknown[c.Callback.BodyHash] {
				continue
			}
			have, err := haveUnknown(c.Callback.BodyHash)
			if err != nil {
				return nil, nil, nil, err
			}
			if !have {
				newUnknown[c.Callback.BodyHash] = true
				unknown = append(unknown, &UnknownCallback{ForeignID: c.ForeignID, InvoiceID: c.InvoiceID, Callback: c.Callback.Clone()})
			}
			continue
		}
		out[i] = r.Apply(c.Callback)
		if out[i] == Applied {
			r.UpdatedAt = c.Callback.ReceivedAt
			changed[c.ForeignID] = r
		}
	}
	return out, changed, unknown, nil
}

// SortUnknown sorts unknown callbacks by received time, then body hash.
func SortUnknown(u []*UnknownCallback) {
	sort.Slice(u, func(i, j int) bool {
		if !u[i].ReceivedAt.Equal(u[j].ReceivedAt) {
			return u[i].ReceivedAt.Before(u[j].ReceivedAt)
		}
		return u[i].BodyHash < u[j].BodyHash
	})
}

// Validate checks an unknown callback.
func (u *UnknownCallback) Validate() error {
	if u == nil || u.ForeignID == "" || !utf8.ValidString(u.ForeignID) || hasNUL(u.ForeignID) {
		return fmt.Errorf("state: unknown callback without a valid foreign_id")
	}
	return u.Callback.Validate()
}
