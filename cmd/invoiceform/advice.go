package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/pgstate"
)

// advice is what the user can do about err, in the words of the command line: its flags,
// environment variables and commands, which the packages below know nothing of (their
// errors describe the fault only). "" when there is nothing to add. This is the one place
// such advice is written.
func advice(err error) string {
	var (
		auth     *api.AuthError
		rate     *api.RateLimitError
		kept     *apply.KeptPendingError
		notOurs  *apply.NotOursError
		mismatch *api.MismatchError
	)
	switch {
	case errors.As(err, &notOurs):
		return "if it is yours (a lost or restored state), record it with: invoiceform state adopt " + notOurs.ForeignID
	case errors.As(err, &mismatch):
		return "kept pending; the next apply resends the same body and records the invoice only from an answer that matches it; if answers keep naming other invoices, check the endpoint and any proxy in between"
	case errors.Is(err, apply.ErrUnreachable):
		return "check the endpoint, the network and the API's status, then apply again: the next apply resolves what was left pending"
	case errors.As(err, &kept):
		return "if you know it did not, forget the record with: invoiceform state rm " + kept.ForeignID
	case errors.As(err, &auth):
		return authAdvice(auth.Code)
	case errors.Is(err, apply.ErrAuth):
		return authAdvice("")
	case errors.As(err, &rate):
		return "lower -rate or -parallelism"
	case errors.Is(err, state.ErrLocked):
		return "wait for it to finish, or give it time with -lock-timeout=DURATION"
	case errors.Is(err, state.ErrForeign):
		return "use the state that belongs to these credentials (-state=PATH)"
	case errors.Is(err, plan.ErrStale):
		return "run invoiceform plan again"
	case errors.Is(err, state.ErrCorrupt):
		return "restore it from a backup with invoiceform state import, or move it away"
	case errors.Is(err, os.ErrPermission):
		return "the file's permissions or owner do not let this user open it; nothing was changed"
	case errors.Is(err, plan.ErrCorrupt), errors.Is(err, plan.ErrOlderFormat):
		return "make a new one with invoiceform plan -out=FILE"
	case errors.Is(err, plan.ErrMismatch):
		return "apply a plan made from this very configuration: run invoiceform plan -out=FILE here and review it"
	case errors.Is(err, pgstate.ErrConnString):
		return "check " + envPGConnStr + ", or conn_str in settings { backend \"pg\" }"
	case errors.Is(err, api.ErrNoKey):
		return "set INVOICEFORM_API_KEY"
	case errors.Is(err, api.ErrNoSecret):
		return "set INVOICEFORM_API_SECRET"
	case errors.Is(err, api.ErrKeyUnsafe):
		return "check INVOICEFORM_API_KEY for a stray newline"
	case errors.Is(err, api.ErrEndpointCredentials):
		return "put them in INVOICEFORM_API_KEY and INVOICEFORM_API_SECRET instead"
	case errors.Is(err, api.ErrEndpoint):
		return "set the endpoint in settings { endpoint = ... } or INVOICEFORM_ENDPOINT"
	}
	return ""
}

// authAdvice is what to check when the API refused the credentials, by the API's code.
func authAdvice(code string) string {
	switch code {
	case "required_header_key":
		return "check INVOICEFORM_API_KEY and that the endpoint ends in /api/v2"
	case "bad_header_key":
		return "check INVOICEFORM_API_KEY, and that sandbox keys go with the sandbox endpoint"
	case "required_header_signature":
		return ""
	case "bad_header_signature":
		return "check INVOICEFORM_API_SECRET: it must be the secret that belongs to INVOICEFORM_API_KEY"
	}
	return "check INVOICEFORM_API_KEY and INVOICEFORM_API_SECRET, the endpoint, and the key's IP whitelist in the dashboard"
}

// withAdvice is err's message followed by the advice, if any.
func withAdvice(err error) string {
	if h := advice(err); h != "" {
		return fmt.Sprintf("%s (%s)", err, h)
	}
	return err.Error()
}
