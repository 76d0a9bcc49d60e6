package boltstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/invoiceform/invoiceform/state"
)

// The summaries bucket (format 4) holds, under every record's foreign_id, the fields a
// summary snapshot reads (state.Record.Summarized): phase, body hash, status, id, currency,
// amount, whether the details are known, and the four times. A record is about 470 bytes and
// its summary about 110, so a plan of an unchanged state reads about a quarter of the bytes it
// read from the records themselves (at 1,000,000 records most of that time was page faults of
// the memory map), and fetches only the records it must read whole.
//
// The records bucket stays the truth: apply, state show and export read it, and every write
// of a record writes its summary in the same transaction (records below). The meta key
// keyRecordCount counts the records, so that a snapshot of summaries that misses one is
// refused as corrupt rather than planned as a creation.
var (
	bucketSummaries = []byte("summaries")
	keyRecordCount  = []byte("record_count")
)

// fillPercent is how full the records and summaries buckets' pages are filled when split.
const fillPercent = 0.9

// summaryV1 leads a summary value: the fields in encodeSummary's order, then a CRC-32C of
// the key and everything before it (the key too, so that a summary copied under another
// foreign_id is refused).
const summaryV1 = 1

func encodeSummary(buf []byte, r *state.Record) []byte {
	start := len(buf)
	buf = append(buf, summaryV1)
	for _, s := range []string{string(r.Phase), r.BodyHash, r.Status, r.Currency, r.Amount} {
		buf = appendString(buf, s)
	}
	buf = binary.AppendVarint(buf, r.ID)
	if r.DetailsKnown {
		buf = append(buf, 1)
	} else {
		buf = append(buf, 0)
	}
	for _, t := range []time.Time{r.CreatedAt, r.UpdatedAt, r.IssuedAt, r.PaidAt} {
		buf = appendTime(buf, t)
	}
	sum := crc32.Update(crc32.Checksum([]byte(r.ForeignID), crcTable), crcTable, buf[start:])
	return binary.BigEndian.AppendUint32(buf, sum)
}

// decodeIndexed decodes the summary v filed under k into r (the fields Summarized keeps,
// strings copied into a). Nothing of k or v is kept: they are bbolt's memory map.
func decodeIndexed(k, v []byte, r *state.Record, a *arena) error {
	if len(v) < 1+crc32.Size {
		return errShort
	}
	if v[0] != summaryV1 {
		return fmt.Errorf("unknown summary encoding %d", v[0])
	}
	n := len(v) - crc32.Size
	if crc32.Update(crc32.Checksum(k, crcTable), crcTable, v[:n]) != binary.BigEndian.Uint32(v[n:]) {
		return errChecksum
	}
	d := decoder{s: unsafe.String(unsafe.SliceData(v[1:n]), n-1)}
	phase, hash, status, currency, amount := d.str(), d.str(), d.str(), d.str(), d.str()
	r.ID = d.varint()
	r.DetailsKnown = d.flag()
	r.CreatedAt, r.UpdatedAt, r.IssuedAt, r.PaidAt = d.time(), d.time(), d.time(), d.time()
	if d.err != nil {
		return d.err
	}
	if len(d.s) != 0 {
		return fmt.Errorf("%d bytes after the summary", len(d.s))
	}
	r.ForeignID = a.str(unsafe.String(unsafe.SliceData(k), len(k)))
	r.Phase, r.BodyHash, r.Status = internPhase(phase, a), a.str(hash), internStatus(status, a)
	r.Currency, r.Amount = internStatus(currency, a), a.str(amount)
	if !r.Phase.Valid() {
		return fmt.Errorf("unknown phase %q", r.Phase)
	}
	return nil
}

// records writes records and their summaries together, and keeps their count: every write
// of the records bucket of a format 4 file goes through it.
type records struct {
	recs, sums, meta *bolt.Bucket
	count            uint64
}

// openRecords opens the records of the state file at path for writing in tx.
func openRecords(tx *bolt.Tx, path string) (*records, error) {
	w := &records{recs: tx.Bucket(bucketRecords), sums: tx.Bucket(bucketSummaries), meta: tx.Bucket(bucketMeta)}
	if w.sums == nil {
		return nil, corrupt(path, "no summaries bucket")
	}
	// Records arrive mostly in key order (a plan's changes are sorted by foreign_id): pages
	// filled to 90% instead of bbolt's 50% make a state file about half as large, and a
	// snapshot reads half the pages. An insert into a full page splits it, as before.
	w.recs.FillPercent, w.sums.FillPercent = fillPercent, fillPercent
	c := w.meta.Get(keyRecordCount)
	if len(c) != 8 {
		return nil, corrupt(path, "no record count")
	}
	w.count = binary.BigEndian.Uint64(c)
	return w, nil
}

// get is the stored value of the record id, or nil.
func (w *records) get(id []byte) []byte { return w.recs.Get(id) }

// put stores r, encoded as val, and its summary; existed says whether a record was there.
func (w *records) put(r *state.Record, val []byte, existed bool) error {
	key := []byte(r.ForeignID)
	if err := w.recs.Put(key, val); err != nil {
		return err
	}
	if err := w.sums.Put(key, encodeSummary(nil, r)); err != nil {
		return err
	}
	if !existed {
		w.count++
	}
	return nil
}

// delete removes the record id and its summary, if there is one.
func (w *records) delete(id []byte) error {
	if w.recs.Get(id) == nil {
		return nil
	}
	if err := w.recs.Delete(id); err != nil {
		return err
	}
	if err := w.sums.Delete(id); err != nil {
		return err
	}
	w.count--
	return nil
}

// close writes the count back.
func (w *records) close() error { return w.meta.Put(keyRecordCount, u64(w.count)) }

// buildSummaries is the migration from format 3 to 4: the summaries bucket from the records,
// each record checked as it is read, written in key order with full pages.
func buildSummaries(tx *bolt.Tx) error {
	if err := tx.DeleteBucket(bucketSummaries); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	sums, err := tx.CreateBucket(bucketSummaries)
	if err != nil {
		return err
	}
	// The keys come in order, so pages can be filled: a later insert splits the page it lands in.
	sums.FillPercent = fillPercent
	var n uint64
	err = forEachChecked(tx.Bucket(bucketRecords), func(k []byte, r *state.Record) error {
		n++
		return sums.Put(k, encodeSummary(nil, r))
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyRecordCount, u64(n))
}
