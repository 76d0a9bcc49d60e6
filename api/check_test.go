package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/api"
)

func TestCheckAnswer(t *testing.T) {
	body := []byte(`{"amount":106.75,"currency":"EUR","foreign_id":"user_196","timer":false}`)
	for _, tc := range []struct {
		name  string
		inv   api.Invoice
		field string // "" when the answer matches
	}{
		{"exact", api.Invoice{ID: 1, ForeignID: "user_196", Currency: "EUR", Amount: "106.75"}, ""},
		{"eight places", api.Invoice{ID: 1, ForeignID: "user_196", Currency: "EUR", Amount: "106.75000000"}, ""},
		{"another invoice", api.Invoice{ID: 9, ForeignID: "someone-elses-1", Currency: "EUR", Amount: "99999.00"}, "foreign_id"},
		{"foreign_id case", api.Invoice{ID: 1, ForeignID: "USER_196", Currency: "EUR", Amount: "106.75"}, "foreign_id"},
		{"currency", api.Invoice{ID: 1, ForeignID: "user_196", Currency: "USD", Amount: "106.75"}, "currency"},
		{"amount", api.Invoice{ID: 1, ForeignID: "user_196", Currency: "EUR", Amount: "106.7500001"}, "amount"},
		{"amount missing", api.Invoice{ID: 1, ForeignID: "user_196", Currency: "EUR"}, "amount"},
		{"amount garbled (a docs example)", api.Invoice{ID: 1, ForeignID: "user_196", Currency: "EUR", Amount: "0.106.75000000"}, "amount"},
		{"amount as exponent", api.Invoice{ID: 1, ForeignID: "user_196", Currency: "EUR", Amount: "1.0675e2"}, "amount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := api.CheckAnswer(body, &tc.inv)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("matching answer refused: %v", err)
				}
				return
			}
			var m *api.MismatchError
			if !errors.As(err, &m) || m.Field != tc.field || api.OutcomeOf(err) != api.Uncertain {
				t.Fatalf("got %v, want an uncertain mismatch of %s", err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.inv.ForeignID) || !strings.Contains(err.Error(), m.Answered) {
				t.Errorf("message does not say what was answered: %v", err)
			}
		})
	}
	if err := api.CheckAnswer([]byte(`{}`), &api.Invoice{}); err == nil {
		t.Error("a body without foreign_id was accepted")
	}
}

// TestUndocumentedAnswersToReads: the statuses that leave a create uncertain prove, for a
// call that changes nothing, only that it failed.
func TestUndocumentedAnswersToReads(t *testing.T) {
	for _, status := range []int{302, 307, 400, 404, 405, 409, 422} {
		endpoint := headerServer(t, status, map[string]string{"Location": "/elsewhere"}, `<html>nope</html>`)
		c := newClient(t, endpoint)
		_, err := c.Accounts(context.Background())
		var he *api.HTTPError
		if !errors.As(err, &he) || api.OutcomeOf(err) != api.Definite || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("accounts, HTTP %d: %v (outcome %v), want a definite HTTPError", status, err, api.OutcomeOf(err))
		}
		_, err = c.CreateInvoice(context.Background(), []byte(`{}`))
		if !errors.As(err, &he) || api.OutcomeOf(err) != api.Uncertain || strings.Contains(err.Error(), "nothing was") {
			t.Errorf("create, HTTP %d: %v (outcome %v), want an uncertain HTTPError", status, err, api.OutcomeOf(err))
		}
		err = c.CancelInvoice(context.Background(), "x")
		if api.OutcomeOf(err) != api.Uncertain {
			t.Errorf("cancel, HTTP %d: outcome %v, want uncertain", status, api.OutcomeOf(err))
		}
	}
}

// TestUndocumentedAuthAnswers: a 401/403 stops the run whatever its shape, but only the
// documented codes prove that a create was not processed.
func TestUndocumentedAuthAnswers(t *testing.T) {
	for _, tc := range []struct {
		status    int
		body      string
		processed bool
	}{
		{http.StatusForbidden, `{"error":"Bad key header","code":"bad_header_key"}`, false},
		{http.StatusForbidden, `<html>Forbidden by the firewall</html>`, true},
		{http.StatusForbidden, `{"error":"IP not allowed","code":"ip_not_allowed"}`, true},
		{http.StatusUnauthorized, `{"message":"Unauthenticated."}`, true},
	} {
		endpoint := headerServer(t, tc.status, nil, tc.body)
		c := newClient(t, endpoint)
		_, err := c.CreateInvoice(context.Background(), []byte(`{}`))
		var ae *api.AuthError
		if !errors.As(err, &ae) || api.OutcomeOf(err) != api.Fatal || ae.MayHaveProcessed() != tc.processed {
			t.Errorf("create, %d %s: %v, want fatal with MayHaveProcessed %v", tc.status, tc.body, err, tc.processed)
		}
		if strings.Contains(err.Error(), "nothing was created") == tc.processed {
			t.Errorf("create, %d %s: message %q", tc.status, tc.body, err)
		}
		_, err = c.Accounts(context.Background())
		if !errors.As(err, &ae) || ae.MayHaveProcessed() {
			t.Errorf("accounts, %d %s: %v: a read cannot have processed anything", tc.status, tc.body, err)
		}
	}
}
