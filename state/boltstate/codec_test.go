package boltstate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// TestChecksumCoversEveryByte: changing any single byte of a stored record, in any field and
// to any other value tried, is refused when it is read; none decodes to a different record.
func TestChecksumCoversEveryByte(t *testing.T) {
	r := statetest.HistoryRecord("full")
	v := encodeRecord(nil, r)
	for i := range v {
		for _, x := range []byte{0x01, 0x10, 0x80, 0xff} {
			c := append([]byte(nil), v...)
			c[i] ^= x
			got, err := decodeRecord(c)
			if err == nil {
				t.Fatalf("byte %d ^ %#x: decoded without error: %s", i, x, cmp.Diff(r, got))
			}
			if i > 0 && c[0] == codecV3 && !errors.Is(err, errChecksum) && !errors.Is(err, errShort) {
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
	v1 := encodeOld(codecV1, r)
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
	path, want := oldFile(t, codecV1, 1, nil)
	for _, ro := range []bool{true, false} {
		s := openOld(t, path, ro, fmt.Sprintf("upgraded from format 1 to %d", FormatVersion), want)
		if err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
				if wantV := byte(codecV1); !ro && v[0] != codecV3 || ro && v[0] != wantV {
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

// encodeOld writes r (without history) in codecV1 or codecV2, as formats 1 and 2 did.
func encodeOld(version byte, r *state.Record) []byte {
	if len(r.History) > 0 || !r.PaidAt.IsZero() {
		panic("encodeOld: a record with callbacks")
	}
	v := encodeRecord(nil, r)
	fields := v[1 : len(v)-4-2] // without the paid time and history count (0, 0) and the checksum
	out := append([]byte{version}, fields...)
	if version == codecV2 {
		out = binary.BigEndian.AppendUint32(out, crc32.Checksum(out, crcTable))
	}
	return out
}

// TestMigrateV2: a format 2 file is read as it is read-only, and a writable open rewrites
// its records in codecV3 and adds the bucket of unknown callbacks.
func TestMigrateV2(t *testing.T) {
	path, want := oldFile(t, codecV2, 2, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketUnknown) })
	ctx := context.Background()
	for _, ro := range []bool{true, false} {
		s := openOld(t, path, ro, fmt.Sprintf("upgraded from format 2 to %d", FormatVersion), want)
		if !ro {
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			out, err := s.RecordCallbacks(ctx, []state.Incoming{{ForeignID: "a", Callback: statetest.Callback("pending", "1", at)}, {ForeignID: "u", Callback: statetest.Callback("pending", "2", at)}})
			if err != nil || out[0] != state.Applied || out[1] != state.Unknown {
				t.Fatalf("callbacks after the migration: %v %v", out, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSummaryChecksumCoversEveryByte: the summary decoder, which skips the body and the
// history, still refuses a record with any single byte changed; and the summary it keeps of
// an intact record is Record.Summarized, strings copied out of the value.
func TestSummaryChecksumCoversEveryByte(t *testing.T) {
	r := statetest.HistoryRecord("full")
	v := encodeRecord(nil, r)
	no := func(state.Summary) bool { return false }
	for i := range v {
		for _, x := range []byte{0x01, 0x10, 0x80, 0xff} {
			c := append([]byte(nil), v...)
			c[i] ^= x
			var got state.Record
			full, err := decodeSummary(c, &got, &arena{}, no)
			if err == nil && !full {
				t.Fatalf("byte %d ^ %#x: summary decoded without error: %+v", i, x, got)
			}
		}
	}
	var got state.Record
	full, err := decodeSummary(v, &got, &arena{}, no)
	if err != nil || full {
		t.Fatalf("decodeSummary: full=%t, %v", full, err)
	}
	clear(v) // nothing may point into the value
	if diff := cmp.Diff(r.Summarized(), &got); diff != "" {
		t.Errorf("summary differs from Summarized (-want +got):\n%s", diff)
	}
	var asked state.Summary
	if full, err := decodeSummary(encodeRecord(nil, r), &state.Record{}, &arena{}, func(s state.Summary) bool { asked = s; return true }); err != nil || !full {
		t.Fatalf("decodeSummary asked for the whole record: full=%t, %v", full, err)
	}
	if asked != r.Summarize() {
		t.Errorf("Full saw %+v, want %+v", asked, r.Summarize())
	}
}

// TestCheckRead: a snapshot hashes the body of a pending record (it will be resent) and of a
// record without a checksum; a checksummed issued record is covered by its checksum.
func TestCheckRead(t *testing.T) {
	bad := statetest.PendingRecord("p")
	bad.Body = []byte(`{"foreign_id":"other"}`)
	if err := checkRead(bad, codecV3); err == nil {
		t.Error("a pending record whose body does not match its hash was read")
	}
	if err := checkRead(bad, codecV1); err == nil {
		t.Error("a format-1 record whose body does not match its hash was read")
	}
	issued := statetest.FullRecord("i")
	if err := checkRead(issued, codecV3); err != nil {
		t.Error(err)
	}
	issued.Phase = "lost"
	if err := checkRead(issued, codecV3); err == nil {
		t.Error("a record of unknown phase was read")
	}
	// The value of a pending record with a wrong hash fails the snapshot's check even though
	// its checksum is right (encodeRecord does not validate).
	v := encodeRecord(nil, bad)
	var got state.Record
	if err := decodeInto(v, &got, new([2]int64), nil); err != nil {
		t.Fatal(err)
	}
	if err := checkRead(&got, v[0]); err == nil {
		t.Error("decoded pending record with a wrong hash passed")
	}
}

// TestSnapshotDropsBehind: a read-only snapshot that lets go of the pages it read every few
// records (dropBehind), its records in many slabs, still gives every record exactly, whole
// and as summaries.
func TestSnapshotDropsBehind(t *testing.T) {
	defer func(n, m int) { dropEvery, snapshotChunk = n, m }(dropEvery, snapshotChunk)
	dropEvery, snapshotChunk = 7, 100
	path := filepath.Join(t.TempDir(), "invoiceform.state")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []*state.Record
	for i := range 3000 {
		want = append(want, statetest.FullRecord(strings.Repeat("x", i%50)+"-"+time.Duration(i).String()))
	}
	if err := s.Put(context.Background(), want...); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, summaries := range []bool{false, true} {
		var opts state.SnapshotOptions
		if summaries {
			opts.Full = func(s state.Summary) bool { return len(s.ForeignID)%2 == 0 }
		}
		snap, err := ro.SnapshotWith(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Records) != len(want) {
			t.Fatalf("%d records, want %d", len(snap.Records), len(want))
		}
		for _, w := range want {
			exp := w
			if summaries && len(w.ForeignID)%2 != 0 {
				exp = w.Summarized()
			}
			if diff := cmp.Diff(exp, snap.Records[w.ForeignID]); diff != "" {
				t.Fatalf("summaries=%t: %s (-want +got):\n%s", summaries, w.ForeignID, diff)
			}
		}
	}
}

// oldFile makes a state of two records and turns it into a file of an older format by hand:
// records in the codec version, the meta's format, and what else older files lacked (more).
func oldFile(t *testing.T, version byte, format uint64, more func(tx *bolt.Tx) error) (string, map[string]*state.Record) {
	t.Helper()
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
	db, err := bolt.Open(path, FileMode, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		for id, r := range want {
			if err := b.Put([]byte(id), encodeOld(version, r)); err != nil {
				return err
			}
		}
		if more != nil {
			if err := more(tx); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, u64(format))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return path, want
}

// openOld opens an old-format file read-only or writable, checks that a writable open notes
// the upgrade, and that its records read back as want.
func openOld(t *testing.T, path string, ro bool, note string, want map[string]*state.Record) *Store {
	t.Helper()
	s, err := Open(path, Options{ReadOnly: ro})
	if err != nil {
		t.Fatal(err)
	}
	if !ro && (len(s.Notes) != 1 || !strings.Contains(s.Notes[0], note)) {
		t.Errorf("notes %q, want one about the upgrade", s.Notes)
	}
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, snap.Records); d != "" {
		t.Errorf("read-only=%t (-want +got):\n%s", ro, d)
	}
	return s
}
