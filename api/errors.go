package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Outcome is what a failed call tells about the invoice it was about.
type Outcome int

const (
	// Definite: the request created or changed nothing (it was refused, or provably never
	// left this machine). Safe to drop the journal entry; fix and try again.
	Definite Outcome = iota + 1
	// Uncertain: the request may have been processed (timeout, reset, 5xx, an answer we
	// could not read). Keep the journal entry and resend the same body later.
	Uncertain
	// Fatal: the credentials or the endpoint are wrong; every other request will fail the
	// same way. Stop the whole run. Nothing was created by this request.
	Fatal
)

func (o Outcome) String() string {
	switch o {
	case Definite:
		return "definite"
	case Uncertain:
		return "uncertain"
	case Fatal:
		return "fatal"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Classified is implemented by every error this package returns.
type Classified interface {
	error
	Outcome() Outcome
}

// OutcomeOf classifies err. Errors from elsewhere count as Uncertain, the safe side for
// money; nil gives 0.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return 0
	}
	var c Classified
	if errors.As(err, &c) {
		return c.Outcome()
	}
	return Uncertain
}

// Retryable reports whether the same request may succeed later without a change: rate
// limits, server errors and transport failures. Retrying an uncertain create must resend the
// very same body (same foreign_id), never a new one.
func Retryable(err error) bool {
	var (
		rl *RateLimitError
		se *ServerError
		te *TransportError
	)
	return errors.As(err, &rl) || errors.As(err, &se) || (errors.As(err, &te) && !errors.Is(te.Err, context.Canceled))
}

// Sentinels for errors.Is.
var (
	// ErrNoKey is returned by New when the configuration has no API key.
	ErrNoKey = errors.New("api: no API key")
	// ErrNoSecret is returned by New when the configuration has no API secret.
	ErrNoSecret = errors.New("api: no API secret")
	// ErrKeyUnsafe is returned by New when the API key holds spaces or control characters,
	// which cannot go into a header (a stray newline, usually).
	ErrKeyUnsafe = errors.New("api: the API key holds spaces or control characters (a stray newline?)")
	// ErrEndpoint is returned by New when the endpoint cannot be the API's: not an absolute
	// URL, a query or fragment, plain http to a host that is not loopback, another scheme.
	ErrEndpoint = errors.New("api: invalid endpoint")
	// ErrEndpointCredentials is returned by New when the endpoint URL carries credentials.
	ErrEndpointCredentials = errors.New("api: the endpoint URL carries credentials")

	// ErrAlreadyTaken is matched by a ValidationError whose foreign_id message says "already
	// been taken": an invoice with that foreign_id exists for this key. After an uncertain
	// create it means the earlier request did create the invoice.
	ErrAlreadyTaken = errors.New("api: the foreign id has already been taken")
	// ErrInvalidInvoiceState is matched by the BusinessError a cancel gets when the invoice
	// is already confirmed or failed.
	ErrInvalidInvoiceState = errors.New("api: invoice cannot be cancelled in its current state")
	// ErrInvoiceNotFound is matched by a BusinessError with code invoice_not_found (an
	// emulator answer; the real API's answer for an unknown foreign_id is undocumented).
	ErrInvoiceNotFound = errors.New("api: invoice not found")
)

// AuthError is a 401/403: the key, the secret or the URL is wrong, or the IP is not
// whitelisted [docs/api.md "Error answers"]. Fatal: the run stops.
//
// A documented code (required_header_key, bad_header_key, required_header_signature,
// bad_header_signature) proves the request was refused before it was processed. An
// undocumented 401/403 shape (an IP whitelist refusal, a proxy's page) to a mutating request
// proves nothing about it: see MayHaveProcessed.
type AuthError struct {
	Op       string // "POST /invoices/create"
	Status   int
	Code     string // required_header_key, bad_header_key, required_header_signature, bad_header_signature, or ""
	Message  string // the server's text, or a snippet of an undocumented body
	Mutating bool   // the request was a create or a cancel
}

func (e *AuthError) Outcome() Outcome { return Fatal }

// KnownCode reports whether the code is one of the documented authentication refusals.
func (e *AuthError) KnownCode() bool {
	switch e.Code {
	case "required_header_key", "bad_header_key", "required_header_signature", "bad_header_signature":
		return true
	}
	return false
}

// MayHaveProcessed reports whether the refused request may still have been processed: a
// create or cancel answered with an undocumented 401/403. The run stops (Fatal), but a
// create's journal entry must stay pending.
func (e *AuthError) MayHaveProcessed() bool { return e.Mutating && !e.KnownCode() }

func (e *AuthError) Error() string {
	var fault string
	switch e.Code {
	case "required_header_key":
		fault = "the key header was missing or the URL is not an API endpoint"
	case "bad_header_key":
		fault = "the API key is not known at this endpoint"
	case "required_header_signature":
		fault = "the request carried no signature; this is a bug in invoiceform, please report it"
	case "bad_header_signature":
		fault = "the signature does not match: the secret is not the one that belongs to the key"
	default:
		fault = "access was refused: the key, the secret or the key's IP whitelist"
	}
	created := "nothing was created"
	if e.MayHaveProcessed() {
		created = "an answer of this shape is not documented, so the request may have been processed"
	}
	return fmt.Sprintf("api: %s: HTTP %d %s: %q; %s; %s", e.Op, e.Status, orDash(e.Code), e.Message, created, fault)
}

// ValidationError is a 400 {"errors":{field: message}}: the server refused the request's
// fields [docs/api.md "Error answers"]. Definite. errors.Is(err, ErrAlreadyTaken) tells the duplicate
// foreign_id case apart.
type ValidationError struct {
	Op     string
	Status int
	Fields map[string]string
}

func (e *ValidationError) Outcome() Outcome { return Definite }

// AlreadyTaken reports the duplicate foreign_id refusal.
func (e *ValidationError) AlreadyTaken() bool {
	return strings.Contains(e.Fields["foreign_id"], "already been taken")
}

func (e *ValidationError) Is(target error) bool { return target == ErrAlreadyTaken && e.AlreadyTaken() }

func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, f := range names {
		parts[i] = fmt.Sprintf("%s: %q", f, e.Fields[f])
	}
	hint := "fix the invoice in the config; this request created nothing"
	if e.AlreadyTaken() {
		hint = "an invoice with this foreign_id already exists for this API key; if an earlier attempt ended uncertain, it was created then"
	}
	return fmt.Sprintf("api: %s: HTTP %d: refused: %s; %s", e.Op, e.Status, strings.Join(parts, "; "), hint)
}

// BusinessError is an {"error","code"} refusal other than authentication, either top level
// (bad_content_format) or nested in "errors" (invalid_invoice_state) [docs/api.md "Error answers", "Error answers"].
// Definite.
type BusinessError struct {
	Op      string
	Status  int
	Code    string
	Message string
}

func (e *BusinessError) Outcome() Outcome { return Definite }

func (e *BusinessError) Is(target error) bool {
	return (target == ErrInvalidInvoiceState && e.Code == "invalid_invoice_state") ||
		(target == ErrInvoiceNotFound && e.Code == "invoice_not_found")
}

func (e *BusinessError) Error() string {
	var hint string
	switch e.Code {
	case "bad_content_format":
		hint = "the body was not JSON or lacked Content-Type: application/json; this is a bug in invoiceform, please report it"
	case "invalid_invoice_state":
		hint = "the invoice is already confirmed or failed, so it is closed"
	case "invoice_not_found":
		hint = "no invoice with this foreign_id exists for this API key"
	default:
		hint = "the server refused the request; nothing was created"
	}
	return fmt.Sprintf("api: %s: HTTP %d %s: %q; %s", e.Op, e.Status, orDash(e.Code), e.Message, hint)
}

// RateLimitError is a 429. The request was refused before processing, so it is Definite;
// wait RetryAfter (0 when the server gave none) and resend. The documented 429 body is not
// valid JSON [docs/api.md "Rate limits"]; it is kept as a snippet only.
type RateLimitError struct {
	Op         string
	Status     int
	RetryAfter time.Duration
	Body       string
}

func (e *RateLimitError) Outcome() Outcome { return Definite }

func (e *RateLimitError) Error() string {
	wait := "no Retry-After given"
	if e.RetryAfter > 0 {
		wait = "retry after " + e.RetryAfter.String()
	}
	return fmt.Sprintf("api: %s: HTTP %d rate limited (%s): %q; nothing was created", e.Op, e.Status, wait, e.Body)
}

// ServerError is a 5xx. For create and cancel it is Uncertain: the server may have
// committed before failing. For reads it is Definite.
type ServerError struct {
	Op       string
	Status   int
	Body     string
	Mutating bool
}

func (e *ServerError) Outcome() Outcome { return mutatingOutcome(e.Mutating) }

func (e *ServerError) Error() string {
	return fmt.Sprintf("api: %s: HTTP %d server error: %q; %s", e.Op, e.Status, e.Body, uncertainHint(e.Mutating))
}

// TransportError is a failure without an HTTP answer: dial, TLS, timeout, reset, EOF.
// Sent tells whether a connection was obtained for the request; if not, the request
// provably never left (dial refused, DNS, TLS handshake) and the error is Definite. If it
// was, a create or cancel may have been processed: Uncertain. (Sent is conservative: a
// connection found dead before anything was written still counts as sent.)
type TransportError struct {
	Op       string
	Err      error
	Sent     bool
	Mutating bool
}

func (e *TransportError) Outcome() Outcome { return mutatingOutcome(e.Mutating && e.Sent) }

func (e *TransportError) Unwrap() error { return e.Err }

func (e *TransportError) Error() string {
	if !e.Sent {
		if !e.Mutating {
			return fmt.Sprintf("api: %s: request not sent: %v", e.Op, e.Err)
		}
		return fmt.Sprintf("api: %s: request not sent: %v; nothing was created", e.Op, e.Err)
	}
	return fmt.Sprintf("api: %s: no answer: %v; %s", e.Op, e.Err, uncertainHint(e.Mutating))
}

// ResponseError is a 2xx whose body is not the documented envelope. For create it is
// Uncertain: the status says the invoice exists, but its id and URL could not be read.
type ResponseError struct {
	Op       string
	Status   int
	Body     string
	Reason   string
	Mutating bool
}

func (e *ResponseError) Outcome() Outcome { return mutatingOutcome(e.Mutating) }

func (e *ResponseError) Error() string {
	return fmt.Sprintf("api: %s: HTTP %d with an unreadable answer (%s): %q; %s", e.Op, e.Status, e.Reason, e.Body, uncertainHint(e.Mutating))
}

// HTTPError is any other status: an unknown 4xx, a redirect (never followed), or a 400 in an
// undocumented shape. The answer proves nothing about what the server did with the request:
// for a create or cancel it is Uncertain (the journal entry stays pending), for a read
// Definite (nothing can have been changed).
type HTTPError struct {
	Op       string
	Status   int
	Body     string
	Mutating bool
}

func (e *HTTPError) Outcome() Outcome { return mutatingOutcome(e.Mutating) }

func (e *HTTPError) Error() string {
	if e.Mutating {
		return fmt.Sprintf("api: %s: HTTP %d %s: %q; an answer the API does not document, so it proves nothing: %s; check the endpoint URL", e.Op, e.Status, http.StatusText(e.Status), e.Body, uncertainHint(true))
	}
	return fmt.Sprintf("api: %s: HTTP %d %s: %q; nothing was changed; check the endpoint URL", e.Op, e.Status, http.StatusText(e.Status), e.Body)
}

// MismatchError is a success answer to a create that does not match the request: another
// foreign_id, currency or amount (compared as exact decimals). It proves nothing about the
// invoice sent, so it is Uncertain: the journal entry stays pending, the answer's id and URL
// are never recorded, and a later resend of the same body settles it.
type MismatchError struct {
	Op        string
	ForeignID string // the one sent
	Field     string // foreign_id, currency or amount
	Sent      string
	Answered  string
	// AnsweredForeignID, AnsweredCurrency and AnsweredAmount are what the answer named.
	AnsweredForeignID, AnsweredCurrency, AnsweredAmount string
}

func (e *MismatchError) Outcome() Outcome { return Uncertain }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("api: %s: the success answer does not match the request: %s sent %q, answered %q (the answer names foreign_id %q, %s %s); the request may have been processed: resend the same body later",
		e.Op, e.Field, e.Sent, e.Answered, e.AnsweredForeignID, orDash(e.AnsweredCurrency), orDash(e.AnsweredAmount))
}

// RequestError is a request refused before sending (an empty foreign_id, a body that is
// not a JSON object). Definite.
type RequestError struct {
	Op     string
	Reason string
}

func (e *RequestError) Outcome() Outcome { return Definite }

func (e *RequestError) Error() string {
	return fmt.Sprintf("api: %s: not sent: %s", e.Op, e.Reason)
}

func mutatingOutcome(mutating bool) Outcome {
	if mutating {
		return Uncertain
	}
	return Definite
}

func uncertainHint(mutating bool) string {
	if !mutating {
		return "nothing was changed; try again later"
	}
	return "the request may have been processed: resend the same body later (\"already been taken\" then means it was created)"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
