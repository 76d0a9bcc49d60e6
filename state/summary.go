package state

import (
	"context"
	"slices"
	"strings"
)

// Summary is what plan needs of a record to decide what to do with it: a declared invoice
// whose record is issued with the same body hash is a no-op, whatever else the record holds.
type Summary struct {
	ForeignID string
	Phase     Phase
	BodyHash  string
	Status    string
}

// SnapshotOptions choose what a snapshot reads (SnapshotWith).
type SnapshotOptions struct {
	// Full is asked about every record, with its summary; a record it returns true for is read
	// whole and checked against its body hash, as Snapshot reads every record. Any other record
	// is in the snapshot with only ForeignID, Phase, BodyHash, Status, ID, Currency, Amount,
	// DetailsKnown and the times set: no Body, no History, no answer fields beyond those (its
	// bytes are still checked against their checksum where the store keeps one). Nil reads
	// every record whole.
	//
	// Full is called inside the store's read transaction, so it must not call the store.
	// Whatever will be sent (a pending record's body), shown in full, or written back must be
	// read whole.
	Full func(Summary) bool
	// Sorted asks for the records in Snapshot.Sorted only, with Snapshot.Records nil, from a
	// store that reads them in foreign_id order (bbolt): it then builds no map of them, which
	// at 1,000,000 records costs a third of the snapshot. Other stores fill Records as
	// always. A caller that sets it reads the snapshot through InOrder and Lookup.
	Sorted bool
}

// SnapshotWither is implemented by stores that can read a snapshot of summaries, reading
// only the records asked for whole: at 1,000,000 records most of the cost of a snapshot is the
// bodies and histories plan does not look at for an unchanged invoice.
type SnapshotWither interface {
	SnapshotWith(ctx context.Context, opts SnapshotOptions) (*Snapshot, error)
}

// SnapshotWith reads a snapshot of s with opts, or the whole snapshot if s cannot read
// summaries: the result holds at least what opts asks for either way.
func SnapshotWith(ctx context.Context, s Store, opts SnapshotOptions) (*Snapshot, error) {
	if w, ok := s.(SnapshotWither); ok {
		return w.SnapshotWith(ctx, opts)
	}
	return s.Snapshot(ctx)
}

// Summarize is the summary of r.
func (r *Record) Summarize() Summary {
	return Summary{ForeignID: r.ForeignID, Phase: r.Phase, BodyHash: r.BodyHash, Status: r.Status}
}

// Summarized returns the part of r a snapshot holds for a record read as a summary (see
// SnapshotOptions.Full): stores and tests hold their summaries to it.
func (r *Record) Summarized() *Record {
	return &Record{
		ForeignID: r.ForeignID, Phase: r.Phase, BodyHash: r.BodyHash, Status: r.Status,
		ID: r.ID, Currency: r.Currency, Amount: r.Amount, DetailsKnown: r.DetailsKnown,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, IssuedAt: r.IssuedAt, PaidAt: r.PaidAt,
	}
}

// InOrder returns the snapshot's records in ascending foreign_id order (byte order): Sorted
// when the store gave it, else the records of Records, sorted. A Sorted out of that order (no
// store gives one; it is cheap to be sure) is returned sorted, as a copy.
func (s *Snapshot) InOrder() []*Record {
	if s.Sorted == nil {
		out := make([]*Record, 0, len(s.Records))
		for _, r := range s.Records {
			out = append(out, r)
		}
		slices.SortFunc(out, byForeignID)
		return out
	}
	if !slices.IsSortedFunc(s.Sorted, byForeignID) {
		return slices.SortedStableFunc(slices.Values(s.Sorted), byForeignID)
	}
	return s.Sorted
}

// Lookup returns the record of foreignID, or nil.
func (s *Snapshot) Lookup(foreignID string) *Record {
	if s.Records != nil || s.Sorted == nil {
		return s.Records[foreignID]
	}
	i, found := slices.BinarySearchFunc(s.Sorted, foreignID, func(r *Record, id string) int { return strings.Compare(r.ForeignID, id) })
	if !found {
		return nil
	}
	return s.Sorted[i]
}

func byForeignID(a, b *Record) int { return strings.Compare(a.ForeignID, b.ForeignID) }
