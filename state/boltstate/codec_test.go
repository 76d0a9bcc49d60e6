package boltstate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// TestChecksumCoversEveryByte: changing any single byte of a stored record, in any field and
// to any other value tried, is refused when it is read; none decodes to a different record.
func TestChecksumCoversEveryByte(t *testing.T) {
	r := statetest.FullRecord("full")
	v := encodeRecord(nil, r)
	for i := range v {
		for _, x := range []byte{0x01, 0x10, 0x80, 0xff} {
			c := append([]byte(nil), v...)
			c[i] ^= x
			got, err := decodeRecord(c)
			if err == nil {
				t.Fatalf("byte %d ^ %#x: decoded without error: %s", i, x, cmp.Diff(r, got))
			}
			if i > 0 && c[0] == codecV2 && !errors.Is(err, errChecksum) && !errors.Is(err, errShort) {
				t.Logf("byte %d ^ %#x: %v", i, x, err)
			}
		}
	}
}

// TestReadsCodecV1: a record of format 1 (no checksum) still decodes to the same record, and
// encoding writes it again with the checksum.
func TestReadsCodecV1(t *testing.T) {
	r := statetest.FullRecord("old")
	v2 := encodeRecord(nil, r)
	v1 := append([]byte{codecV1}, v2[1:len(v2)-4]...)
	got, err := decodeRecord(v1)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, got); d != "" {
		t.Fatal(d)
	}
	if again := encodeRecord(nil, got); string(again) != string(v2) {
		t.Fatal("a v1 record is not written back in the current encoding")
	}
}

// TestMigrateV1: a format 1 file (records without a checksum) is readable read-only as it is,
// and a writable open rewrites every record with its checksum, after a backup.
func TestMigrateV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invoiceform.state")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*state.Record{"a": statetest.FullRecord("a"), "p": statetest.PendingRecord("p")}
	ctx := context.Background()
	for _, r := range want {
		if err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Turn it into a format 1 file by hand.
	db, err := bolt.Open(path, FileMode, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		for id, r := range want {
			v := encodeRecord(nil, r)
			if err := b.Put([]byte(id), append([]byte{codecV1}, v[1:len(v)-4]...)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, u64(1))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	for _, ro := range []bool{true, false} {
		s, err := Open(path, Options{ReadOnly: ro})
		if err != nil {
			t.Fatal(err)
		}
		if !ro && (len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "upgraded from format 1 to 2")) {
			t.Errorf("notes %q, want one about the upgrade", s.Notes)
		}
		snap, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, snap.Records); d != "" {
			t.Errorf("read-only=%t (-want +got):\n%s", ro, d)
		}
		if err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
				if wantV := byte(codecV1); !ro && v[0] != codecV2 || ro && v[0] != wantV {
					t.Errorf("read-only=%t: record %s has encoding %d", ro, k, v[0])
				}
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path + ".backup-v1"); err != nil {
		t.Errorf("no backup of the format 1 file: %v", err)
	}
}
