package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

var emptyObject = []byte(`{}`)

// CreateInvoice sends POST /invoices/create with body, the canonical JSON request body
// (invoice.Request.Encode): exactly these bytes are signed and sent.
// Any 2xx with the documented envelope gives the invoice; a 2xx with another body is an
// Uncertain ResponseError (the invoice may exist).
func (c *Client) CreateInvoice(ctx context.Context, body []byte) (*Invoice, error) {
	const op = "POST /invoices/create"
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' || !json.Valid(body) {
		return nil, &RequestError{Op: op, Reason: "the body is not a JSON object; build it with invoice.Request.Encode"}
	}
	a, err := c.post(ctx, "/invoices/create", body, true)
	if err != nil {
		return nil, err
	}
	if !ok(a.status) {
		return nil, c.failure(op, a, true)
	}
	inv, err := decodeInvoice(a.body)
	if err != nil {
		return nil, &ResponseError{Op: op, Status: a.status, Body: snippet(c.redact(string(a.body)), 300), Reason: c.redact(err.Error()), Mutating: true}
	}
	return inv, nil
}

// CancelInvoice sends POST /invoices/{foreign_id}/cancel/ with the body {} [reference
// "Cancelling an invoice"]. The foreign_id is path-escaped ("/" becomes %2F). A cancel of an invoice already
// confirmed or failed matches ErrInvalidInvoiceState.
func (c *Client) CancelInvoice(ctx context.Context, foreignID string) error {
	path := "/invoices/" + url.PathEscape(foreignID) + "/cancel/"
	op := http.MethodPost + " " + path
	if foreignID == "" || foreignID == "." || foreignID == ".." {
		// "." and ".." would be resolved away by URL normalisation on the way, turning the
		// cancel into a request for another path.
		return &RequestError{Op: op, Reason: fmt.Sprintf("foreign_id %q cannot be addressed in a URL path", foreignID)}
	}
	a, err := c.post(ctx, path, emptyObject, true)
	if err != nil {
		return err
	}
	if !ok(a.status) {
		return c.failure(op, a, true)
	}
	return nil // the documented answer is [], and nothing in it matters
}

// Accounts lists the merchant's balances: POST /accounts/list with {}. It is the
// credentials check: success proves the key and the secret, a 403 is an AuthError.
func (c *Client) Accounts(ctx context.Context) ([]Account, error) {
	const op = "POST /accounts/list"
	a, err := c.post(ctx, "/accounts/list", emptyObject, false)
	if err != nil {
		return nil, err
	}
	if !ok(a.status) {
		return nil, c.failure(op, a, false)
	}
	accs, err := decodeAccounts(a.body)
	if err != nil {
		return nil, &ResponseError{Op: op, Status: a.status, Body: snippet(c.redact(string(a.body)), 300), Reason: err.Error()}
	}
	return accs, nil
}

// Currencies lists the currencies: POST /currencies/list with {}.
func (c *Client) Currencies(ctx context.Context) ([]Currency, error) {
	const op = "POST /currencies/list"
	a, err := c.post(ctx, "/currencies/list", emptyObject, false)
	if err != nil {
		return nil, err
	}
	if !ok(a.status) {
		return nil, c.failure(op, a, false)
	}
	curs, err := decodeCurrencies(a.body)
	if err != nil {
		return nil, &ResponseError{Op: op, Status: a.status, Body: snippet(c.redact(string(a.body)), 300), Reason: err.Error()}
	}
	return curs, nil
}

// Ping sends GET /ping without auth headers and expects 200 "OK". It proves the endpoint
// is reachable, not that the credentials work (use Accounts for that) [docs/api.md "Accounts, currencies and ping"].
func (c *Client) Ping(ctx context.Context) error {
	const op = "GET /ping"
	a, err := c.send(ctx, http.MethodGet, "/ping", nil, false, false)
	if err != nil {
		return err
	}
	if !ok(a.status) {
		return c.failure(op, a, false)
	}
	if b := string(bytes.TrimSpace(a.body)); b != "OK" && b != `"OK"` {
		return &ResponseError{Op: op, Status: a.status, Body: snippet(c.redact(string(a.body)), 100), Reason: `want "OK"`}
	}
	return nil
}
