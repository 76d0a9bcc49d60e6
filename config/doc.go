// Package config reads a directory of invoiceform HCL files and turns it into validated,
// normalised invoices. It parses every *.hcl file of the directory (in parallel), evaluates
// variables, locals, functions and for_each, checks every field against the rules of the
// CryptoProcessing create-invoice API, and gives each invoice its invoice.Request and that
// request's canonical body (invoice.Request.Encode: the exact bytes apply will sign and send)
// with its invoice.Hash, which plan compares with the state.
// All problems are returned at once as hcl.Diagnostics with source ranges; nothing here does
// network or state I/O.
package config
