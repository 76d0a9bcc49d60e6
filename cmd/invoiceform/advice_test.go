package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/pgstate"
)

// TestAdvice: the errors of the packages below, however wrapped, get the advice that names
// the command line's flags, variables and commands.
func TestAdvice(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("state: x: %w", state.ErrLocked), "-lock-timeout"},
		{fmt.Errorf("x: %w", state.ErrForeign), "-state=PATH"},
		{fmt.Errorf("plan: p.plan: %w", plan.ErrCorrupt), "plan -out=FILE"},
		{fmt.Errorf("%w: x", pgstate.ErrConnString), envPGConnStr},
		{api.ErrNoKey, "INVOICEFORM_API_KEY"},
		{fmt.Errorf("%w: x", api.ErrEndpoint), "INVOICEFORM_ENDPOINT"},
		{fmt.Errorf("%w: %w", apply.ErrAuth, &api.AuthError{Code: "bad_header_signature"}), "INVOICEFORM_API_SECRET"},
		{&api.RateLimitError{}, "-rate"},
		{fmt.Errorf("plan: %w (serial 1 when planned, 2 now)", plan.ErrStale), "invoiceform plan again"},
		{fmt.Errorf("state: x: %w (why)", state.ErrCorrupt), "invoiceform state import"},
		{&os.PathError{Op: "open", Path: "x", Err: os.ErrPermission}, "permissions"},
		{&apply.KeptPendingError{ForeignID: "inv-1", Err: errors.New("refused")}, "invoiceform state rm inv-1"},
	} {
		if got := withAdvice(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("withAdvice(%v) = %q, want it to mention %q", tc.err, got, tc.want)
		}
	}
	if got := withAdvice(errors.New("plain")); got != "plain" {
		t.Errorf("withAdvice(plain) = %q, want no advice", got)
	}
}
