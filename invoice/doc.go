// Package invoice is the model of an invoice and its money, shared by every other package: the
// exact decimal Amount (never a float), the currencies with their decimal places, the
// create-invoice Request and its one canonical JSON encoding (the exact bytes that are signed,
// sent, hashed and stored), the body's hash, reading currency and amount back from a stored
// body, totals per currency, and how an amount is printed. It imports nothing of this module,
// so config, api, state, plan and apply can all use it.
//
// One file per idea: amount.go (Amount), currency.go (the currency table and Places),
// request.go (Request), encode.go (Encode and Hash), body.go (Money: reading a body back) and
// totals.go (Totals).
package invoice
