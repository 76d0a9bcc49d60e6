package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Invoice is a created invoice as the API answered it. Amounts are the exact decimal text
// the server sent (never parsed into a float); absent or null values are "" or nil.
type Invoice struct {
	ID               int64
	URL              string
	ForeignID        string
	EndUserReference string
	Address          string
	Title            string
	Status           string
	Currency         string
	Amount           string
	SenderCurrency   string
	SenderAmount     string
	FixedAt          *int64 // Unix seconds; nil for invoices without a timer
	ReleaseAt        *int64
	SecondsLeft      *int64
}

// Account is one balance of /accounts/list.
type Account struct {
	Currency string
	Type     string // crypto or fiat
	Balance  string // exact decimal text
}

// Currency is one entry of /currencies/list.
type Currency struct {
	ID                   int64
	Type                 string
	Currency             string
	MinimumAmount        string
	DepositFeePercent    string
	WithdrawalFeePercent string
	Precision            int64
}

// rawInvoice keeps every field raw so each can be read tolerantly ("Where the docs disagree" of the reference).
type rawInvoice struct {
	ID               json.RawMessage `json:"id"`
	URL              json.RawMessage `json:"url"`
	ForeignID        json.RawMessage `json:"foreign_id"`
	EndUserReference json.RawMessage `json:"end_user_reference"`
	Address          json.RawMessage `json:"address"`
	Title            json.RawMessage `json:"title"`
	Name             json.RawMessage `json:"name"` // the 2020 docs' name for title
	Status           json.RawMessage `json:"status"`
	Currency         json.RawMessage `json:"currency"`
	Amount           json.RawMessage `json:"amount"`
	SenderCurrency   json.RawMessage `json:"sender_currency"`
	SenderAmount     json.RawMessage `json:"sender_amount"`
	FixedAt          json.RawMessage `json:"fixed_at"`
	ReleaseAt        json.RawMessage `json:"release_at"`
	SecondsLeft      json.RawMessage `json:"seconds_left"`
}

// decodeInvoice reads the {"data": Invoice} envelope of a 2xx create answer. It insists
// only on what makes the invoice usable (an integer id); other fields are read as text
// whatever their JSON type, and unknown fields are ignored.
func decodeInvoice(body []byte) (*Invoice, error) {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if isNull(env.Data) {
		return nil, errors.New(`no "data" object`)
	}
	var raw rawInvoice
	if err := json.Unmarshal(env.Data, &raw); err != nil {
		return nil, fmt.Errorf(`"data" is not an invoice object: %v`, err)
	}
	id, err := flexInt(raw.ID)
	if err != nil || id == nil {
		return nil, fmt.Errorf(`"data.id" is not an integer`)
	}
	inv := &Invoice{ID: *id}
	texts := []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{
		{"url", raw.URL, &inv.URL}, {"foreign_id", raw.ForeignID, &inv.ForeignID},
		{"end_user_reference", raw.EndUserReference, &inv.EndUserReference}, {"address", raw.Address, &inv.Address},
		{"title", raw.Title, &inv.Title}, {"status", raw.Status, &inv.Status}, {"currency", raw.Currency, &inv.Currency},
		{"amount", raw.Amount, &inv.Amount}, {"sender_currency", raw.SenderCurrency, &inv.SenderCurrency},
		{"sender_amount", raw.SenderAmount, &inv.SenderAmount},
	}
	for _, f := range texts {
		if *f.dst, err = flexText(f.raw); err != nil {
			return nil, fmt.Errorf(`"data.%s": %v`, f.name, err)
		}
	}
	if inv.Title == "" {
		if inv.Title, err = flexText(raw.Name); err != nil {
			return nil, fmt.Errorf(`"data.name": %v`, err)
		}
	}
	ints := []struct {
		name string
		raw  json.RawMessage
		dst  **int64
	}{{"fixed_at", raw.FixedAt, &inv.FixedAt}, {"release_at", raw.ReleaseAt, &inv.ReleaseAt}, {"seconds_left", raw.SecondsLeft, &inv.SecondsLeft}}
	for _, f := range ints {
		if *f.dst, err = flexInt(f.raw); err != nil {
			return nil, fmt.Errorf(`"data.%s": %v`, f.name, err)
		}
	}
	return inv, nil
}

func decodeAccounts(body []byte) ([]Account, error) {
	var env struct {
		Data []struct {
			Currency, Type, Balance json.RawMessage
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf(`not {"data":[accounts]}: %v`, err)
	}
	if env.Data == nil {
		return nil, errors.New(`no "data" list`)
	}
	out := make([]Account, 0, len(env.Data))
	for i, a := range env.Data {
		var acc Account
		if err := decodeTexts(textField{a.Currency, &acc.Currency}, textField{a.Type, &acc.Type}, textField{a.Balance, &acc.Balance}); err != nil {
			return nil, fmt.Errorf("account %d: %v", i, err)
		}
		out = append(out, acc)
	}
	return out, nil
}

func decodeCurrencies(body []byte) ([]Currency, error) {
	var env struct {
		Data []struct {
			ID, Type, Currency, Precision json.RawMessage
			MinimumAmount                 json.RawMessage `json:"minimum_amount"`
			DepositFeePercent             json.RawMessage `json:"deposit_fee_percent"`
			WithdrawalFeePercent          json.RawMessage `json:"withdrawal_fee_percent"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf(`not {"data":[currencies]}: %v`, err)
	}
	if env.Data == nil {
		return nil, errors.New(`no "data" list`)
	}
	out := make([]Currency, 0, len(env.Data))
	for i, c := range env.Data {
		var cur Currency
		if err := decodeTexts(textField{c.Type, &cur.Type}, textField{c.Currency, &cur.Currency}, textField{c.MinimumAmount, &cur.MinimumAmount},
			textField{c.DepositFeePercent, &cur.DepositFeePercent}, textField{c.WithdrawalFeePercent, &cur.WithdrawalFeePercent}); err != nil {
			return nil, fmt.Errorf("currency %d: %v", i, err)
		}
		for _, f := range []struct {
			raw json.RawMessage
			dst *int64
		}{{c.ID, &cur.ID}, {c.Precision, &cur.Precision}} {
			v, err := flexInt(f.raw)
			if err != nil {
				return nil, fmt.Errorf("currency %d: %v", i, err)
			}
			if v != nil {
				*f.dst = *v
			}
		}
		out = append(out, cur)
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// flexText reads a JSON string, or a number kept as its exact literal text (ids and
// amounts appear both ways in the docs, "Where the docs disagree", "Where the docs disagree"); null or absent gives "".
// textField is a raw JSON value to read with flexText into dst.
type textField struct {
	raw json.RawMessage
	dst *string
}

func decodeTexts(fields ...textField) error {
	for _, f := range fields {
		v, err := flexText(f.raw)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	return nil
}

func flexText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return "", nil
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw), nil // json.Unmarshal already checked it is a valid number
	}
	// The value itself stays out of the message: it is server text that may hold anything.
	return "", fmt.Errorf("want a string or a number, got %s", jsonKind(raw[0]))
}

func jsonKind(first byte) string {
	switch first {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	}
	return "something else"
}

var integer = regexp.MustCompile(`^-?[0-9]+$`)

// flexInt reads an integer given as a JSON number or a numeric string; null gives nil.
func flexInt(raw json.RawMessage) (*int64, error) {
	text, err := flexText(raw)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, nil
	}
	if !integer.MatchString(text) {
		return nil, errors.New("want an integer")
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, errors.New("integer out of range")
	}
	return &v, nil
}

// classify turns a non-2xx answer into the error of the reference's model ("Error answers", "What is not documented" client
// column). redact removes the secret from anything the server sent back.
//
// For a mutating request (create, cancel) only the documented refusals are definite: the 400
// envelopes, 429, and the 401/403 with a documented code. A redirect or any other 4xx proves
// nothing about what the server did, and is Uncertain.
func classify(op string, status int, header http.Header, body []byte, mutating bool, redact func(string) string) error {
	snip := snippet(redact(string(body)), 300)
	switch {
	case status == http.StatusTooManyRequests:
		return &RateLimitError{Op: op, Status: status, RetryAfter: parseRetryAfter(header.Get("Retry-After"), time.Now()), Body: snip}
	case status >= 500:
		return &ServerError{Op: op, Status: status, Body: snip, Mutating: mutating}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		var e struct {
			Error json.RawMessage `json:"error"`
			Code  json.RawMessage `json:"code"`
		}
		auth := &AuthError{Op: op, Status: status, Message: snip, Mutating: mutating}
		if json.Unmarshal(body, &e) == nil {
			code, _ := flexText(e.Code)
			msg, _ := flexText(e.Error)
			if code != "" {
				auth.Code, auth.Message = snippet(redact(code), 80), snippet(redact(msg), 300)
			}
		}
		return auth
	case status == http.StatusBadRequest:
		if err := decode400(op, status, body, redact); err != nil {
			return err
		}
	}
	return &HTTPError{Op: op, Status: status, Body: snip, Mutating: mutating}
}

// decode400 reads the three documented 400 envelopes ("Where the docs disagree"); nil means none matched.
func decode400(op string, status int, body []byte, redact func(string) string) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	if errs, ok := top["errors"]; ok {
		var fields map[string]json.RawMessage
		if json.Unmarshal(errs, &fields) != nil || len(fields) == 0 {
			return nil
		}
		if code, err := flexText(fields["code"]); err == nil && code != "" {
			msg, _ := flexText(fields["error"])
			return &BusinessError{Op: op, Status: status, Code: snippet(redact(code), 80), Message: snippet(redact(msg), 300)}
		}
		out := make(map[string]string, len(fields))
		for name, raw := range fields {
			out[snippet(redact(name), 80)] = snippet(redact(fieldMessage(raw)), 300)
		}
		return &ValidationError{Op: op, Status: status, Fields: out}
	}
	if code, err := flexText(top["code"]); err == nil && code != "" {
		msg, _ := flexText(top["error"])
		return &BusinessError{Op: op, Status: status, Code: snippet(redact(code), 80), Message: snippet(redact(msg), 300)}
	}
	return nil
}

// fieldMessage reads one validation message: a string per the docs, or Laravel's list of
// strings, or anything else as raw text.
func fieldMessage(raw json.RawMessage) string {
	if s, err := flexText(raw); err == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, " ")
	}
	return string(raw)
}

// parseRetryAfter reads delay-seconds or an HTTP-date; anything else gives 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		if secs > 86400 {
			secs = 86400 // a day is already absurd; avoid overflow on garbage
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

// snippet shortens s to about n bytes on a rune boundary, for messages.
func snippet(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
