package boltstate

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/invoiceform/invoiceform/internal/hugepages"
	"github.com/invoiceform/invoiceform/state"
)

// slabs hands out the records of a snapshot, and their FixedAt and ReleaseAt, from chunks of
// snapshotChunk.
type slabs struct {
	all  [][]state.Record
	cur  []state.Record
	ints [][2]int64
}

func (s *slabs) next() (*state.Record, *[2]int64) {
	if len(s.cur) == cap(s.cur) {
		s.cur, s.ints = make([]state.Record, 0, snapshotChunk), make([][2]int64, snapshotChunk)
		hugepages.Advise(unsafe.Pointer(unsafe.SliceData(s.cur)), uintptr(cap(s.cur))*unsafe.Sizeof(s.cur[0]))
	}
	s.cur = s.cur[:len(s.cur)+1]
	if len(s.cur) == 1 {
		s.all = append(s.all, s.cur)
	}
	return &s.cur[len(s.cur)-1], &s.ints[len(s.cur)-1]
}

// sorted lists every record handed out, in the order handed out: the buckets' key order,
// which is ascending foreign_id.
func (s *slabs) sorted() []*state.Record {
	n := 0
	for i := range s.all {
		n += len(s.full(i))
	}
	out := make([]*state.Record, 0, n)
	for i := range s.all {
		sl := s.full(i)
		for j := range sl {
			out = append(out, &sl[j])
		}
	}
	return out
}

// full returns slab i as far as it was handed out: each slab was added with one record, and
// all but the last are full.
func (s *slabs) full(i int) []state.Record {
	if i == len(s.all)-1 {
		return s.cur
	}
	return s.all[i][:cap(s.all[i])]
}

// index maps the records by foreign_id.
func index(sorted []*state.Record) map[string]*state.Record {
	m := make(map[string]*state.Record, len(sorted))
	for _, r := range sorted {
		m[r.ForeignID] = r
	}
	return m
}

// readRecords reads the records bucket: every record whole, or (with full, on a file without
// summaries) as far as its summary unless full asks for it.
func (s *Store) readRecords(tx *bolt.Tx, full func(state.Summary) bool, sl *slabs, mem *arena) error {
	n := 0
	return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
		r, ints := sl.next()
		whole := true
		var err error
		if full != nil {
			whole, err = decodeSummary(v, r, mem, full)
		}
		if whole && err == nil {
			err = decodeInto(v, r, ints, mem)
			if err == nil {
				err = checkRead(r, v[0])
			}
		}
		n++
		if s.readOnly && n%dropEvery == 0 {
			dropBehind(s.db, tx.Size())
		}
		if err != nil {
			return corrupt(s.path, fmt.Sprintf("record %q: %v", k, err))
		}
		if r.ForeignID != string(k) {
			return corrupt(s.path, fmt.Sprintf("record %q is filed under %q", r.ForeignID, k))
		}
		return nil
	})
}

// readSummaries reads the summaries bucket (format 4), and the record of every summary full
// asks for. A summary and its record must agree on what full was told, and there must be as
// many summaries as records.
func (s *Store) readSummaries(tx *bolt.Tx, full func(state.Summary) bool, sl *slabs, mem *arena) error {
	recs := tx.Bucket(bucketRecords)
	want := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyRecordCount))
	var n uint64
	err := tx.Bucket(bucketSummaries).ForEach(func(k, v []byte) error {
		r, ints := sl.next()
		if err := decodeIndexed(k, v, r, mem); err != nil {
			return corrupt(s.path, fmt.Sprintf("summary of record %q: %v", k, err))
		}
		n++
		if s.readOnly && n%uint64(dropEvery) == 0 {
			dropBehind(s.db, tx.Size())
		}
		sum := state.Summary{ForeignID: r.ForeignID, Phase: r.Phase, BodyHash: r.BodyHash, Status: r.Status}
		if !full(sum) {
			return nil
		}
		v = recs.Get(k)
		if v == nil {
			return corrupt(s.path, fmt.Sprintf("record %q has a summary but no record", k))
		}
		*r = state.Record{}
		err := decodeInto(v, r, ints, mem)
		if err == nil {
			err = checkRead(r, v[0])
		}
		if err != nil {
			return corrupt(s.path, fmt.Sprintf("record %q: %v", k, err))
		}
		if r.ForeignID != string(k) {
			return corrupt(s.path, fmt.Sprintf("record %q is filed under %q", r.ForeignID, k))
		}
		if r.Phase != sum.Phase || r.BodyHash != sum.BodyHash || r.Status != sum.Status {
			return corrupt(s.path, fmt.Sprintf("record %q does not match its summary", k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n != want {
		return corrupt(s.path, fmt.Sprintf("%d summaries for %d records", n, want))
	}
	return nil
}
