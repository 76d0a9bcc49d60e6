// Package state is the record of which invoices were issued: the API has no read endpoint, so
// this is the only place that knows. It defines the Record and Snapshot types, the small Store
// interface every backend implements (state/boltstate is the local file, state/pgstate a shared
// PostgreSQL database; an in-memory store, NewMemory, serves tests and apply -emulator), the sentinel errors callers match with
// errors.Is, and the export document used for backups and moves between stores.
//
// state imports only invoice (the body hash and the redaction of personal fields): amounts are
// kept as the exact decimal strings the API answered, and the request body as the exact bytes
// that were signed.
package state
