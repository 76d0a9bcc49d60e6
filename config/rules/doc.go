// Package rules holds the field-value rules of the CryptoProcessing (CoinsPaid) create-invoice
// API as pure functions, so that the config package can check every value before anything
// leaves the machine: suggestions for mistyped currency codes (the table itself, with each
// currency's precision, is the invoice package's), the HTTPS-with-a-domain
// rule for url_success and url_failed, e-mail syntax, date_of_birth, ISO 3166-1 alpha-3
// countries, foreign_id characters that would break the cancel URL, and the check that an
// identifier carries no personal data. The facts come from the project's API reference
// (docs/api.md, cited below by section). Nothing here does
// I/O, reads the clock or keeps mutable state; each check returns a plain error whose message is a
// short phrase meant to follow the field name ("url_success must use https (got \"http\")"), and
// messages about e-mail addresses, names and dates of birth never repeat the value, because it is
// personal data.
package rules
