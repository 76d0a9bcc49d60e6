// Package pgstate keeps the state in PostgreSQL: the shared backend for pipelines whose
// runners are ephemeral and may run at once. Many states live in one database, each a
// workspace: one row of the states table holds its lineage, serial and binding, and one row
// of the records table per invoice, keyed by (workspace, foreign_id). A pending record (the
// creation journal) is written in the same transaction as everything else of its Put.
//
// A writable store holds a session advisory lock for its workspace on one dedicated
// connection for as long as it is open, and writes only on that connection: if the
// connection is lost, so is the lock, and every later write fails instead of writing
// unlocked. Read-only stores (plan, show, state list) take no lock; their snapshot is one
// REPEATABLE READ transaction. Puts from many goroutines are group-committed, as bbolt's
// batching does for the file backend; each returns after its transaction committed with
// synchronous_commit on. The schema is created and migrated on first writable use.
package pgstate
