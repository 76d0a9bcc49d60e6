package boltstate

import (
	"errors"
	"fmt"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"

	"github.com/invoiceform/invoiceform/state"
)

// migrations[v] upgrades a file of format v to v+1 inside one transaction. Format 0 was the
// development layout: the same buckets, with records stored as JSON documents. Format 1 had
// binary records without a checksum; format 2 adds a CRC-32C over every field (codec.go);
// format 3 adds each record's callback history and paid time, and the bucket of unknown
// callbacks; format 4 adds the summaries bucket and the record count (index.go).
var migrations = map[uint64]func(tx *bolt.Tx) error{
	0: rewriteRecords, // decodeRecord reads format 0's JSON records too
	1: rewriteRecords,
	2: migrateV2,
	3: buildSummaries,
}

// migrateV2 makes the bucket of unknown callbacks and rewrites every record in codecV3.
func migrateV2(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketUnknown); err != nil {
		return err
	}
	return rewriteRecords(tx)
}

// migrate brings an older file up to FormatVersion. It first writes a consistent copy of the
// file as it was to PATH.backup-vN (never overwriting an earlier backup), so that a mistake
// in a migration cannot lose the record of issued invoices. Each step commits with its
// version, so a crash between steps resumes where it stopped.
func (s *Store) migrate() (string, error) {
	from := s.version
	backup, err := s.backup(from)
	if err != nil {
		return "", err
	}
	for v := from; v < FormatVersion; v++ {
		step, ok := migrations[v]
		if !ok {
			return "", corrupt(s.path, fmt.Sprintf("format version %d has no migration", v))
		}
		err := guard(s.path, func() error {
			return s.db.Update(func(tx *bolt.Tx) error {
				if err := step(tx); err != nil {
					return err
				}
				return tx.Bucket(bucketMeta).Put(keyFormat, u64(v+1))
			})
		})
		if err != nil {
			return "", fmt.Errorf("state: %s: migrating format %d to %d (the file is unchanged; a copy is in %s): %w", s.path, v, v+1, backup, err)
		}
	}
	s.version = FormatVersion
	return fmt.Sprintf("%s was upgraded from format %d to %d; the old file is kept as %s", s.path, from, FormatVersion, backup), nil
}

func (s *Store) backup(version uint64) (string, error) {
	base := fmt.Sprintf("%s.backup-v%d", s.path, version)
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s.%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("state: backing up %s before migrating it: %w", s.path, err)
		}
		// A byte copy, not tx.WriteTo (which rewrites the meta pages): the backup is the old
		// file exactly. The exclusive lock keeps every writer out while it is read.
		err = copyFile(f, s.path)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(name)
			return "", fmt.Errorf("state: backing up %s before migrating it: %w", s.path, err)
		}
		return name, nil
	}
}

func copyFile(dst *os.File, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = io.Copy(dst, in)
	return err
}

// rewriteRecords writes every record again in the current encoding, checking each first.
func rewriteRecords(tx *bolt.Tx) error {
	b := tx.Bucket(bucketRecords)
	type kv struct{ k, v []byte }
	var out []kv
	err := forEachChecked(b, func(k []byte, r *state.Record) error {
		out = append(out, kv{k, encodeRecord(nil, r)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range out {
		if err := b.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// forEachChecked decodes and checks every record of b, of any format, and calls fn with a copy
// of its key: the upgrades' reading of the records.
func forEachChecked(b *bolt.Bucket, fn func(k []byte, r *state.Record) error) error {
	return b.ForEach(func(k, v []byte) error {
		r, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("record %q: %w: %w", k, state.ErrCorrupt, err)
		}
		if err := r.Validate(); err != nil {
			return err
		}
		if r.ForeignID != string(k) {
			return fmt.Errorf("record %q is filed under %q: %w", r.ForeignID, k, state.ErrCorrupt)
		}
		return fn([]byte(r.ForeignID), r)
	})
}
