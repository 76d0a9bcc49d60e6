package state

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// Binding ties a state to one API endpoint and key. It holds a fingerprint of the API key,
// never a secret: the API secret is never given to this package at all.
type Binding struct {
	Endpoint       string `json:"endpoint"`
	KeyFingerprint string `json:"key_fingerprint"`
}

// IsZero reports whether the binding is unset (a state nothing was applied to yet).
func (b Binding) IsZero() bool { return b == Binding{} }

// KeyFingerprint is the fingerprint stored for an API key: the first 16 hex digits of its
// SHA-256. Enough to tell keys apart, too little to be of use to anyone who reads the state.
func KeyFingerprint(apiKey string) string {
	sum := sha256.Sum256([]byte(apiKey))
	return hex.EncodeToString(sum[:8])
}

// Snapshot is a consistent copy of the whole state at one serial. It shares no memory with
// the store: later writes never change it, and changing it never changes the store.
type Snapshot struct {
	// Records are the records by foreign_id. Nil when SnapshotOptions.Sorted asked for
	// Sorted alone and the store gave it; InOrder and Lookup read either.
	Records map[string]*Record
	// Sorted, when a store fills it, holds the same records in ascending foreign_id order
	// (byte order): a store that reads them in that order (bbolt) gives them so, and a
	// caller that walks declared invoices in order merges instead of looking each one up.
	// Nil when the store read them in no order.
	Sorted []*Record
	// Lineage is a random id made when the state was created; it survives export and import,
	// so a plan made against one state is never applied to an unrelated one.
	Lineage string
	// Serial counts committed writes (each Put, Delete and binding Bind adds one; Import
	// keeps the exported serial), so a plan can tell that the state moved since it was made.
	Serial  uint64
	Binding Binding
	// Unknown are the verified callbacks for foreign_ids no record has, sorted by
	// SortUnknown.
	Unknown []*UnknownCallback
}

// Store is a state backend. Implementations are safe for concurrent use; Put and Delete are
// durable when they return nil. Locking is part of opening a store (see state/boltstate):
// a writable store excludes every other process for as long as it is open.
type Store interface {
	// Snapshot returns a consistent copy of the state.
	Snapshot(ctx context.Context) (*Snapshot, error)
	// Put writes records (replacing ones with the same foreign_id) in one transaction. Each
	// record must pass Record.Validate, else nothing is written. Put with no records is a
	// no-op that does not count in the serial.
	Put(ctx context.Context, records ...*Record) error
	// Delete removes records in one transaction. Absent ids are not an error, so that
	// removing a pending record after a definite failure can be repeated safely; the write
	// still counts in the serial.
	Delete(ctx context.Context, foreignIDs ...string) error
	// Bind sets the binding of a state that has none, does nothing if b is already the
	// binding, and returns ErrForeign otherwise.
	Bind(ctx context.Context, b Binding) error
	// Import writes a whole snapshot (lineage, serial, binding, records) into a state that has
	// no records and no binding, else ErrNotEmpty.
	Import(ctx context.Context, s *Snapshot) error
	// Close releases the store and its lock.
	Close() error
}

// NewLineage makes a random lineage id.
func NewLineage() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
