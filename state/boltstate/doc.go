// Package boltstate keeps the state in one bbolt file (invoiceform.state by default): the
// local, single-machine backend. A writable store holds an exclusive lock on the file for as
// long as it is open, a read-only one (plan, state list) a shared lock, so two applies never
// interleave and a plan never reads a half-applied state. Writers share fsyncs through bbolt's
// batching, and every Put is on disk when it returns.
//
// The file has two buckets. "meta" holds the magic, the format version, the lineage, the
// serial and the binding. "records" maps each foreign_id to its record, the phase inside the
// value: moving a record from pending to issued is then a single key write, and plan, which
// needs every record anyway, reads one bucket. Values use a compact binary encoding
// (codec.go) with a leading version byte, because decoding 100,000 records as JSON took too
// long for plan.
package boltstate
