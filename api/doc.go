// Package api is the signed HTTP client of the CryptoProcessing (CoinsPaid) merchant API v2
// for the calls invoiceform makes: create and cancel an invoice, list accounts (the
// credentials check), list currencies, and ping.
//
// Each request body is serialised once, signed with lowercase hex HMAC-SHA512 over exactly
// those bytes, and those same bytes are sent. Answers are decoded tolerantly of the
// inconsistencies the docs show (200 or 201, ids and references as strings or numbers,
// amounts kept as exact decimal text, nulls), and every failure is a typed error that says
// what the caller may conclude about money: Definite (nothing was created or changed),
// Uncertain (it may have been: resend the same body, where "already been taken" then means it
// was created), or Fatal (authentication: stop the whole run). See OutcomeOf and Retryable.
//
// The API secret never appears in an error, a log line or the printed form of any value of
// this package.
package api
