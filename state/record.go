package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/invoiceform/invoiceform/invoice"
)

// Phase is where a record is in the exactly-once creation protocol (DESIGN.md).
type Phase string

const (
	// Pending: the create request is committed here before it is sent; its outcome is not
	// known yet. A pending record is resolved by resending the very same Body.
	Pending Phase = "pending"
	// Issued: the API created the invoice.
	Issued Phase = "issued"
	// Cancelled: the invoice was issued and then cancelled at the API.
	Cancelled Phase = "cancelled"
)

// Valid reports whether p is one of the phases above. A definite create failure has no phase:
// its pending record is deleted.
func (p Phase) Valid() bool { return p == Pending || p == Issued || p == Cancelled }

// Record is what the state knows about one invoice, keyed by its foreign_id.
type Record struct {
	ForeignID string `json:"foreign_id"`
	Phase     Phase  `json:"phase"`

	// BodyHash is the lowercase hex SHA-256 of Body; plan compares it with the config's
	// canonical request. Body is the exact request that was (or, when pending, will be) signed
	// and sent: resolving a pending record must resend these bytes, not a re-rendering.
	BodyHash string `json:"body_hash"`
	Body     []byte `json:"-"`

	// The API's answer to the create. Amounts are the exact decimal text the API sent.
	ID             int64  `json:"id,omitempty"`
	URL            string `json:"url,omitempty"`
	Address        string `json:"address,omitempty"`
	Status         string `json:"status,omitempty"`
	Currency       string `json:"currency,omitempty"`
	Amount         string `json:"amount,omitempty"`
	SenderCurrency string `json:"sender_currency,omitempty"`
	SenderAmount   string `json:"sender_amount,omitempty"`
	FixedAt        *int64 `json:"fixed_at,omitempty"`   // Unix seconds
	ReleaseAt      *int64 `json:"release_at,omitempty"` // Unix seconds

	// DetailsKnown is false when the invoice was adopted from an "already been taken" answer:
	// it exists, but the answer fields above are unknown until a callback brings them.
	DetailsKnown bool `json:"details_known"`

	CreatedAt time.Time `json:"created_at"`           // when the record was first written
	UpdatedAt time.Time `json:"updated_at"`           // when it last changed
	IssuedAt  time.Time `json:"issued_at,omitzero"`   // when the API's answer was recorded
	LastError string    `json:"last_error,omitempty"` // the last uncertain failure, for the operator

	// History is the accepted callbacks, oldest first (callback.go); Status is the last one's
	// once there is one. PaidAt is when the confirmed callback was received.
	History []Callback `json:"history,omitempty"`
	PaidAt  time.Time  `json:"paid_at,omitzero"`
}

// Validate checks what every store relies on: a foreign_id, a known phase, and a body that
// matches its hash. Stores refuse to write a record that fails it.
func (r *Record) Validate() error {
	switch {
	case r == nil:
		return fmt.Errorf("state: nil record")
	case r.ForeignID == "":
		return fmt.Errorf("state: record without foreign_id")
	case !r.Phase.Valid():
		return fmt.Errorf("state: record %q: unknown phase %q", r.ForeignID, r.Phase)
	case !utf8.Valid(r.Body):
		// Bodies are JSON, which is UTF-8; requiring it keeps exports exact.
		return fmt.Errorf("state: record %q: body is not UTF-8", r.ForeignID)
	case !invoice.HashMatches(r.Body, r.BodyHash):
		return fmt.Errorf("state: record %q: body_hash does not match the body", r.ForeignID)
	}
	for i := range r.History {
		if err := r.History[i].Validate(); err != nil {
			return fmt.Errorf("state: record %q: history entry %d: %w", r.ForeignID, i+1, err)
		}
	}
	return nil
}

// Clone returns a deep copy, so a snapshot never shares memory with a store or a caller.
func (r *Record) Clone() *Record {
	c := *r
	c.Body = bytes.Clone(r.Body)
	if r.FixedAt != nil {
		v := *r.FixedAt
		c.FixedAt = &v
	}
	if r.ReleaseAt != nil {
		v := *r.ReleaseAt
		c.ReleaseAt = &v
	}
	c.History = cloneHistory(r.History)
	return &c
}

// recordJSON is the documented JSON form of a record (state show -json, state export): the
// struct's fields plus the body as text, exactly the bytes that were signed.
type recordJSON struct {
	recordAlias
	Body *string `json:"body"`
}

type recordAlias Record

// MarshalJSON writes the record with its body as a JSON string holding the exact bytes.
func (r Record) MarshalJSON() ([]byte, error) {
	body := string(r.Body)
	return json.Marshal(recordJSON{recordAlias(r), &body})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Record(j.recordAlias)
	r.Body = nil
	if j.Body != nil && *j.Body != "" {
		// An empty body is no body: keep one form, so that a record survives a round trip
		// through the binary encoding (which has no empty-but-present body) unchanged.
		r.Body = []byte(*j.Body)
	}
	return nil
}

// Redacted returns a copy whose Body has the personal data replaced by "(sensitive)". The
// copy's Body no longer matches BodyHash: it is for showing, never for sending or storing. A
// body that is not a JSON object is replaced whole, since what it holds cannot be known.
func (r *Record) Redacted() *Record {
	c := r.Clone()
	c.Body = invoice.RedactBody(r.Body)
	return c
}
