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

// TestApprovalQuestion: the question before an apply names what the plan does.
func TestApprovalQuestion(t *testing.T) {
	for _, tc := range []struct {
		actions []plan.Action
		want    string
	}{
		{[]plan.Action{plan.Create, plan.NoOp}, "Do you want to issue these invoices?"},
		{[]plan.Action{plan.Resolve}, "Do you want to issue these invoices?"},
		{[]plan.Action{plan.Cancel, plan.Undeclared}, "Do you want to cancel these invoices?"},
		{[]plan.Action{plan.Create, plan.Cancel}, "Do you want to issue and cancel these invoices?"},
	} {
		p := &plan.Plan{}
		for _, a := range tc.actions {
			p.Changes = append(p.Changes, &plan.Change{Action: a})
		}
		if got := approvalQuestion(p); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.actions, got, tc.want)
		}
	}
}
