package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// CreateRequest is the body of POST /invoices/create with the API's own field names. The
// config package writes the canonical body itself; this type writes the same bytes, for
// tests and tools.
type CreateRequest struct {
	Timer            bool
	Title            string
	Description      string // optional
	Currency         string
	SenderCurrency   string // optional
	Amount           string // a plain decimal, e.g. "106.75": written verbatim as a JSON number
	ForeignID        string
	EndUserReference string
	URLSuccess       string
	URLFailed        string
	EmailUser        string
	Type             string      // optional: fill_or_kill or good_until_expired
	SenderType       string      // optional: natural or legal
	SenderData       *SenderData // optional
}

// SenderData is the payer's identity for fixed-currency timer invoices. Personal data: it
// is never printed by this package.
type SenderData struct {
	FirstName             string
	LastName              string
	DateOfBirth           string // YYYY-MM-DD
	Email                 string
	LegalName             string
	CountryOfRegistration string // ISO 3166-1 alpha-3
}

// Format keeps personal data out of logs and errors.
func (s SenderData) Format(f fmt.State, verb rune) { fmt.Fprint(f, "api.SenderData{(sensitive)}") }

// plainAmount is a JSON number without sign or exponent. Leading zeros are refused as JSON
// refuses them ("007.5" is not a JSON number).
var plainAmount = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// Encode writes the canonical body: fields in the fixed order timer, title, description,
// currency, sender_currency, amount, foreign_id, end_user_reference, url_success,
// url_failed, email_user, type, sender_type, sender_data{first_name, last_name,
// date_of_birth, email, legal_name, country_of_registration}; no whitespace. The required
// fields (timer, title, currency, amount, foreign_id, end_user_reference, url_success,
// url_failed, email_user — the reference's §8 set) are always written; the optional ones
// are left out when empty. Strings are escaped as encoding/json does without HTML escaping
// ("<", ">", "&" stay as they are; non-ASCII stays UTF-8).
func (r *CreateRequest) Encode() ([]byte, error) {
	if !plainAmount.MatchString(r.Amount) {
		return nil, fmt.Errorf("api: amount %q is not a plain decimal like 106.75 (digits, an optional fraction, no sign, exponent or leading zero)", snippet(r.Amount, 40))
	}
	var b bytes.Buffer
	b.Grow(512)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	var err error
	str := func(s string) {
		if err != nil {
			return
		}
		// Encode cannot fail for a string; checked anyway. It ends with a newline.
		if err = enc.Encode(s); err == nil {
			b.Truncate(b.Len() - 1)
		}
	}
	field := func(name, value string, optional bool) {
		if optional && value == "" {
			return
		}
		b.WriteString(`,"` + name + `":`)
		str(value)
	}
	b.WriteString(`{"timer":` + strconv.FormatBool(r.Timer))
	field("title", r.Title, false)
	field("description", r.Description, true)
	field("currency", r.Currency, false)
	field("sender_currency", r.SenderCurrency, true)
	b.WriteString(`,"amount":` + r.Amount)
	field("foreign_id", r.ForeignID, false)
	field("end_user_reference", r.EndUserReference, false)
	field("url_success", r.URLSuccess, false)
	field("url_failed", r.URLFailed, false)
	field("email_user", r.EmailUser, false)
	field("type", r.Type, true)
	field("sender_type", r.SenderType, true)
	if d := r.SenderData; d != nil && *d != (SenderData{}) {
		b.WriteString(`,"sender_data":{`)
		first := true
		for _, f := range []struct{ name, value string }{
			{"first_name", d.FirstName}, {"last_name", d.LastName}, {"date_of_birth", d.DateOfBirth},
			{"email", d.Email}, {"legal_name", d.LegalName}, {"country_of_registration", d.CountryOfRegistration},
		} {
			if f.value == "" {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(`"` + f.name + `":`)
			str(f.value)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	if err != nil {
		return nil, fmt.Errorf("api: encode the create request: %w", err)
	}
	return b.Bytes(), nil
}

// Format prints the request with email_user and sender_data shown as (sensitive), like the
// plan output does.
func (r CreateRequest) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "api.CreateRequest{ForeignID:%q, Currency:%q, Amount:%q, Timer:%t, Title:%q, EmailUser:(sensitive), SenderData:(sensitive)}",
		r.ForeignID, r.Currency, r.Amount, r.Timer, r.Title)
}
