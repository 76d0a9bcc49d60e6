package boltstate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// TestSummaryEntryCoversEveryByte: a summary with any single byte changed, or filed under
// another foreign_id, is refused; an intact one decodes to Record.Summarized, nothing of it
// pointing into the value.
func TestSummaryEntryCoversEveryByte(t *testing.T) {
	r := statetest.HistoryRecord("full")
	r.PaidAt = time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	v := encodeSummary(nil, r)
	for i := range v {
		for _, x := range []byte{0x01, 0x10, 0x80, 0xff} {
			c := append([]byte(nil), v...)
			c[i] ^= x
			var got state.Record
			if err := decodeIndexed([]byte(r.ForeignID), c, &got, &arena{}); err == nil {
				t.Fatalf("byte %d ^ %#x: decoded without error: %+v", i, x, got)
			}
		}
	}
	if err := decodeIndexed([]byte("other"), v, &state.Record{}, &arena{}); !errors.Is(err, errChecksum) {
		t.Errorf("a summary under another foreign_id: %v, want a checksum mismatch", err)
	}
	var got state.Record
	k := []byte(r.ForeignID)
	if err := decodeIndexed(k, v, &got, &arena{}); err != nil {
		t.Fatal(err)
	}
	clear(v)
	clear(k)
	if diff := cmp.Diff(r.Summarized(), &got); diff != "" {
		t.Errorf("summary differs from Summarized (-want +got):\n%s", diff)
	}
}

// summariesMatch checks that every record of the state reads back as its summary, and that a
// snapshot asking for every record whole reads what Snapshot reads.
func summariesMatch(t *testing.T, s *Store) map[string]*state.Record {
	t.Helper()
	ctx := context.Background()
	whole, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := s.SnapshotWith(ctx, state.SnapshotOptions{Full: func(state.Summary) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*state.Record{}
	for id, r := range whole.Records {
		want[id] = r.Summarized()
	}
	if diff := cmp.Diff(want, sums.Records); diff != "" {
		t.Fatalf("summaries differ from the records (-want +got):\n%s", diff)
	}
	all, err := s.SnapshotWith(ctx, state.SnapshotOptions{Full: func(state.Summary) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(whole.Records, all.Records); diff != "" {
		t.Fatalf("records read through their summaries differ (-want +got):\n%s", diff)
	}
	return whole.Records
}

// TestSummariesFollowEveryWrite: after each kind of write (a new record, a record written
// again over its callbacks, callbacks, a deletion, an import), the summaries are the records'.
func TestSummariesFollowEveryWrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "a.state"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		summariesMatch(t, s)
	}
	step("put", s.Put(ctx, statetest.FullRecord("a"), statetest.PendingRecord("p"), statetest.FullRecord("b")))
	_, err = s.RecordCallbacks(ctx, []state.Incoming{{ForeignID: "a", Callback: statetest.Callback("confirmed", "1", at)}})
	step("callbacks", err)
	again := statetest.FullRecord("a")
	again.Status = "created"
	step("put over callbacks", s.Put(ctx, again))
	if got := summariesMatch(t, s)["a"]; got.Status != "confirmed" || got.PaidAt.IsZero() {
		t.Fatalf("a record written again lost its callbacks' status: %+v", got)
	}
	step("delete", s.Delete(ctx, "b", "never-there"))
	step("delete again", s.Delete(ctx, "b"))
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := Open(filepath.Join(dir, "b.state"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()
	if err := imp.Import(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if got := summariesMatch(t, imp); len(got) != 2 {
		t.Fatalf("import: %d records, want 2", len(got))
	}
}

// TestMigrateV3: a format 3 file (no summaries) reads summaries from its records read-only,
// and a writable open builds the summaries bucket and the record count, after a backup.
func TestMigrateV3(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "invoiceform.state")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []*state.Record
	for i := range 50 {
		want = append(want, statetest.HistoryRecord(fmt.Sprintf("h%02d", i)), statetest.PendingRecord(fmt.Sprintf("p%02d", i)))
	}
	if err := s.Put(ctx, want...); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketSummaries); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(keyRecordCount); err != nil {
			return err
		}
		return meta.Put(keyFormat, u64(3))
	})
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	before := summariesMatch(t, ro)
	ro.Close()
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(w.Notes) != 1 || !strings.Contains(w.Notes[0], "upgraded from format 3 to 4") {
		t.Errorf("notes %q, want one about the upgrade", w.Notes)
	}
	if w.version != 4 {
		t.Fatalf("version %d after the upgrade", w.version)
	}
	if diff := cmp.Diff(before, summariesMatch(t, w)); diff != "" {
		t.Errorf("the records changed in the upgrade (-want +got):\n%s", diff)
	}
}

func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, FileMode, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(fn)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestSummariesRefusedWhenTheyDisagree: a summary that is missing, left over, damaged, or
// (asked for whole) different from its record fails a snapshot of summaries as corrupt; the
// whole snapshot, which reads the records, is not affected.
func TestSummariesRefusedWhenTheyDisagree(t *testing.T) {
	ctx := context.Background()
	other := statetest.FullRecord("a")
	other.Status = "confirmed"
	cases := []struct {
		name string
		full bool
		edit func(tx *bolt.Tx) error
		want string
	}{
		{"missing", false, func(tx *bolt.Tx) error { return tx.Bucket(bucketSummaries).Delete([]byte("a")) }, "1 summaries for 2 records"},
		{"left over", false, func(tx *bolt.Tx) error {
			return tx.Bucket(bucketSummaries).Put([]byte("z"), encodeSummary(nil, statetest.FullRecord("z")))
		}, "3 summaries for 2 records"},
		{"damaged", false, func(tx *bolt.Tx) error {
			v := encodeSummary(nil, statetest.FullRecord("a"))
			v[3] ^= 1
			return tx.Bucket(bucketSummaries).Put([]byte("a"), v)
		}, `summary of record "a"`},
		{"different", true, func(tx *bolt.Tx) error {
			return tx.Bucket(bucketSummaries).Put([]byte("a"), encodeSummary(nil, other))
		}, `record "a" does not match its summary`},
		{"no record", true, func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketRecords).Delete([]byte("a")); err != nil {
				return err
			}
			return tx.Bucket(bucketRecords).Put([]byte("z"), encodeRecord(nil, statetest.FullRecord("z")))
		}, `record "a" has a summary but no record`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "invoiceform.state")
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, statetest.FullRecord("a"), statetest.FullRecord("b")); err != nil {
				t.Fatal(err)
			}
			s.Close()
			rawUpdate(t, path, c.edit)
			for _, ro := range []bool{true, false} {
				s, err := Open(path, Options{ReadOnly: ro})
				if err != nil {
					t.Fatal(err)
				}
				_, err = s.SnapshotWith(ctx, state.SnapshotOptions{Full: func(state.Summary) bool { return c.full }})
				if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("read-only=%t: %v, want a corrupt state saying %q", ro, err, c.want)
				}
				if c.name != "no record" {
					if _, err := s.Snapshot(ctx); err != nil {
						t.Errorf("read-only=%t: whole snapshot: %v", ro, err)
					}
				}
				s.Close()
			}
		})
	}
}
