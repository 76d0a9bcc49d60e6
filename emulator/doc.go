// Package emulator is a local, in-memory stand-in for the CryptoProcessing (CoinsPaid)
// merchant API v2, faithful to the documented behaviour of the endpoints invoiceform uses:
// GET /ping, POST /accounts/list, /currencies/list, /invoices/create and
// /invoices/{foreign_id}/cancel/. It checks signatures, refuses duplicate foreign_ids per
// merchant under any concurrency, answers with the documented bodies, sends signed invoice
// callbacks, and injects faults (latency, 500, 429, answers dropped after the invoice was
// committed, answers slower than the client's timeout) deterministically from a seed.
//
// It exists because the real API cannot be reached from development machines or CI, and an
// invoice created twice or created and forgotten costs money: the client and the apply engine
// must be tested against something that behaves like the real service, including its failures.
// Where the upstream documentation is silent, the emulator follows the safest assumption
// listed in docs/api.md ("What is not documented"); such behaviour is marked [I] in comments
// and in docs/emulator.md, and behaviour that exists only here is marked [E]. Endpoints under
// /_emulator/ are emulator-only controls (no auth, loopback only) and are not part of the real
// API.
//
// The files: server.go (Server, New, Start, routing, latency and fault draws, counters),
// options.go (Options, merchants, flags), api.go (signature checks and the signed endpoints),
// validate.go (the create request's field rules), invoices.go (the invoice store: create,
// cancel, duplicates, the status lifecycle, payments and timer expiry), currencies.go (the
// /currencies/list table and the made-up rates), callbacks.go (signed invoice callbacks, their
// PHP-style encoding and their retry schedule) and control.go (the /_emulator/ endpoints).
//
// The package deliberately imports nothing of package api: written independently from the
// same reference, a misreading of the docs on one side cannot hide in the other.
package emulator
