package boltstate_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
	"github.com/invoiceform/invoiceform/state/statetest"
)

func TestMain(m *testing.M) {
	if helper := os.Getenv("BOLTSTATE_HELPER"); helper != "" {
		// Re-executed by a test as a separate process (lock_test.go, crash_test.go).
		runHelper(helper, os.Getenv("BOLTSTATE_PATH"))
		return
	}
	os.Exit(m.Run())
}

// newPath returns a path for a state file in a fresh directory; the file is checked with
// bbolt's consistency check when the test ends.
func newPath(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "invoiceform.state")
	t.Cleanup(func() { checkConsistent(t, path) })
	return path
}

func checkConsistent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Errorf("consistency check: %v", err)
		return
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Errorf("consistency check of %s: %v", path, err)
	}
}

func open(t *testing.T, path string, opts boltstate.Options) *boltstate.Store {
	t.Helper()
	s, err := boltstate.Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s, %+v): %v", path, opts, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	statetest.Run(t, statetest.Harness{
		New: func(t *testing.T) state.Store {
			s, err := boltstate.Open(newPath(t), boltstate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Reopen: func(t *testing.T, s state.Store) state.Store {
			path := s.(*boltstate.Store).Path()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := boltstate.Open(path, boltstate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s2
		},
		Again: func(t *testing.T, s state.Store) (state.Store, error) {
			return boltstate.Open(s.(*boltstate.Store).Path(), boltstate.Options{})
		},
	})
}

func TestNewFileMode(t *testing.T) {
	path := newPath(t)
	open(t, path, boltstate.Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("new state file has mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestLooseModeTightened(t *testing.T) {
	for _, ro := range []bool{false, true} {
		path := newPath(t)
		s := open(t, path, boltstate.Options{})
		s.Close()
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		s = open(t, path, boltstate.Options{ReadOnly: ro})
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 || len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "-rw-r--r--") {
			t.Fatalf("read-only %v: mode %v, notes %q; want 0600 and a note naming the old mode", ro, fi.Mode().Perm(), s.Notes)
		}
	}
}

func TestReadOnly(t *testing.T) {
	path := newPath(t)
	if _, err := boltstate.Open(path, boltstate.Options{ReadOnly: true}); !errors.Is(err, state.ErrNotFound) || !strings.Contains(err.Error(), "no state at "+path) {
		t.Fatalf("read-only open of a missing file: %v, want ErrNotFound naming the path", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read-only open created the file: %v", err)
	}
	w := open(t, path, boltstate.Options{})
	if err := w.Put(context.Background(), statetest.FullRecord("a")); err != nil {
		t.Fatal(err)
	}
	w.Close()

	// Many readers at once, as concurrent plans do.
	r1 := open(t, path, boltstate.Options{ReadOnly: true})
	r2 := open(t, path, boltstate.Options{ReadOnly: true})
	for _, r := range []*boltstate.Store{r1, r2} {
		snap, err := r.Snapshot(context.Background())
		if err != nil || len(snap.Records) != 1 {
			t.Fatalf("read-only Snapshot: %v, %v", snap, err)
		}
		if err := r.Put(context.Background(), statetest.PendingRecord("b")); !errors.Is(err, state.ErrReadOnly) {
			t.Fatalf("Put on a read-only store: %v, want ErrReadOnly", err)
		}
		if err := r.Delete(context.Background(), "a"); !errors.Is(err, state.ErrReadOnly) {
			t.Fatalf("Delete on a read-only store: %v, want ErrReadOnly", err)
		}
	}
	// A writer waits for the readers; with no timeout it fails at once.
	if _, err := boltstate.Open(path, boltstate.Options{}); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("writable open while readers hold the file: %v, want ErrLocked", err)
	}
}

// writeBolt makes a bbolt file with the given buckets and keys, as another program or an
// older invoiceform would.
func writeBolt(t *testing.T, path string, buckets map[string]map[string][]byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for name, kvs := range buckets {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for k, v := range kvs {
				if err := b.Put([]byte(k), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func be(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func validMeta(format uint64) map[string][]byte {
	return map[string][]byte{"magic": []byte(boltstate.Magic), "format": be(format), "lineage": []byte("0123456789abcdef"), "serial": be(7)}
}

func TestRefusesInvalidFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.state")
	s := open(t, good, boltstate.Options{})
	for i := range 300 {
		if err := s.Put(context.Background(), statetest.FullRecord(fmt.Sprint("r", i))); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	badRecord := statetest.FullRecord("x")

	cases := []struct {
		name string
		make func(path string)
		want error
	}{
		{"empty file", func(p string) { write(t, p, nil) }, state.ErrCorrupt},
		{"text", func(p string) { write(t, p, []byte("terraform state, not ours\n")) }, state.ErrCorrupt},
		{"garbage", func(p string) { write(t, p, bytes.Repeat([]byte{0xa5, 0x17}, 10000)) }, state.ErrCorrupt},
		{"truncated to 100 bytes", func(p string) { write(t, p, goodBytes[:100]) }, state.ErrCorrupt},
		{"truncated to one page", func(p string) { write(t, p, goodBytes[:4096]) }, state.ErrCorrupt},
		{"truncated to half", func(p string) { write(t, p, goodBytes[:len(goodBytes)/2]) }, state.ErrCorrupt},
		{"meta pages zeroed", func(p string) {
			b := bytes.Clone(goodBytes)
			clear(b[:8192])
			write(t, p, b)
		}, state.ErrCorrupt},
		{"another program's bbolt", func(p string) {
			writeBolt(t, p, map[string]map[string][]byte{"widgets": {"a": []byte("b")}})
		}, state.ErrCorrupt},
		{"an empty bbolt", func(p string) { writeBolt(t, p, nil) }, state.ErrCorrupt},
		{"wrong magic", func(p string) {
			m := validMeta(1)
			m["magic"] = []byte("terraform")
			writeBolt(t, p, map[string]map[string][]byte{"meta": m, "records": {}})
		}, state.ErrCorrupt},
		{"no records bucket", func(p string) { writeBolt(t, p, map[string]map[string][]byte{"meta": validMeta(1)}) }, state.ErrCorrupt},
		{"newer format", func(p string) {
			writeBolt(t, p, map[string]map[string][]byte{"meta": validMeta(boltstate.FormatVersion + 1), "records": {}})
		}, state.ErrNewerFormat},
		{"a directory", func(p string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}, state.ErrCorrupt},
		{"v0 record that is not JSON", func(p string) {
			writeBolt(t, p, map[string]map[string][]byte{"meta": validMeta(0), "records": {"x": []byte("{not json")}})
		}, nil /* refused when migrating, below */},
		{"v0 record with a wrong hash", func(p string) {
			r := *badRecord
			r.BodyHash = invoice.Hash(nil)
			j, _ := r.MarshalJSON()
			writeBolt(t, p, map[string]map[string][]byte{"meta": validMeta(0), "records": {"x": j}})
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "invoiceform.state")
			c.make(path)
			before := snapshotFile(t, path)
			for _, ro := range []bool{true, false} {
				s, err := boltstate.Open(path, boltstate.Options{ReadOnly: ro})
				if c.want == nil && err == nil && ro {
					// Readable read-only (old formats are decoded in place); a damaged record
					// shows up when the records are read.
					_, err = s.Snapshot(context.Background())
					s.Close()
					if err == nil {
						t.Fatalf("read-only Snapshot of a damaged file succeeded")
					}
					continue
				}
				if err == nil {
					s.Close()
					t.Fatalf("Open(read-only=%v) succeeded", ro)
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Fatalf("Open(read-only=%v): %v, want %v", ro, err, c.want)
				}
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("error does not name the file: %v", err)
				}
			}
			if after := snapshotFile(t, path); after != before {
				t.Fatalf("the refused file was changed: %s, was %s", after, before)
			}
			if m, _ := filepath.Glob(path + ".*"); len(m) > 0 && c.want != nil {
				t.Fatalf("files were made beside it: %v", m)
			}
		})
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// snapshotFile describes a file's content and mode, to show it was left untouched.
func snapshotFile(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir() {
		return "dir"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d bytes %x %v", len(b), invoice.Hash(b), fi.Mode())
}

func TestMigrateV0(t *testing.T) {
	path := newPath(t)
	want := map[string]*state.Record{"a": statetest.FullRecord("a"), "p": statetest.PendingRecord("p")}
	recs := map[string][]byte{}
	for id, r := range want {
		j, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		recs[id] = j
	}
	meta := validMeta(0)
	meta["endpoint"] = []byte("https://e.example/api/v2")
	meta["key_fingerprint"] = []byte("abcd")
	writeBolt(t, path, map[string]map[string][]byte{"meta": meta, "records": recs})
	v0 := snapshotFile(t, path)
	wantSnap := &state.Snapshot{Records: want, Lineage: "0123456789abcdef", Serial: 7,
		Binding: state.Binding{Endpoint: "https://e.example/api/v2", KeyFingerprint: "abcd"}}

	// A reader sees the old file as it is and changes nothing.
	r := open(t, path, boltstate.Options{ReadOnly: true})
	got, err := r.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	statetest.CheckSorted(t, got)
	got.Sorted = nil
	if d := cmp.Diff(wantSnap, got); d != "" {
		t.Fatalf("read-only snapshot of a v0 file (-want +got):\n%s", d)
	}
	if snapshotFile(t, path) != v0 {
		t.Fatal("a read-only open changed a v0 file")
	}

	// A writer migrates it, after a backup.
	w := open(t, path, boltstate.Options{})
	if len(w.Notes) != 1 || !strings.Contains(w.Notes[0], fmt.Sprintf("upgraded from format 0 to %d", boltstate.FormatVersion)) {
		t.Fatalf("notes %q, want one about the upgrade", w.Notes)
	}
	got, err = w.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	statetest.CheckSorted(t, got)
	got.Sorted = nil
	if d := cmp.Diff(wantSnap, got); d != "" {
		t.Fatalf("migrated snapshot (-want +got):\n%s", d)
	}
	if snapshotFile(t, path+".backup-v0") != v0 {
		t.Fatal("the backup is not the v0 file")
	}
	// Records are now in the binary encoding: the file no longer holds the JSON.
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("records")).Get([]byte("a")); len(v) == 0 || v[0] != 3 {
			t.Errorf("migrated record starts with %q, want the v3 encoding", v[:min(len(v), 10)])
		}
		if v := tx.Bucket([]byte("meta")).Get([]byte("format")); !bytes.Equal(v, be(boltstate.FormatVersion)) {
			t.Errorf("format after migration is %x", v)
		}
		return nil
	})
	db.Close()

	// Opening again neither migrates nor backs up again.
	w = open(t, path, boltstate.Options{})
	if len(w.Notes) != 0 {
		t.Fatalf("second open notes %q", w.Notes)
	}
	if m, _ := filepath.Glob(path + ".backup-v0.*"); len(m) != 0 {
		t.Fatalf("extra backups %v", m)
	}
}

func TestClosedAfterLockReleased(t *testing.T) {
	// Closing releases the lock: the next writer gets in at once.
	path := newPath(t)
	s := open(t, path, boltstate.Options{})
	if _, err := boltstate.Open(path, boltstate.Options{}); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	s.Close()
	open(t, path, boltstate.Options{})
}

// TestGarbledPages damages the pages after the two meta pages in many ways. bbolt trusts what
// it maps and may panic or fault on such a file; every open and read must end in an error
// (ErrCorrupt), never a crash, and a refused file must stay as it was.
func TestGarbledPages(t *testing.T) {
	good := newPath(t)
	s := open(t, good, boltstate.Options{})
	for i := range 500 {
		if err := s.Put(context.Background(), statetest.FullRecord(fmt.Sprint("r", i))); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	refused, panics := 0, 0
	for pg := 2; pg < len(goodBytes)/page; pg++ {
		for _, fill := range []byte{0x00, 0xff, 0x41} {
			b := bytes.Clone(goodBytes)
			for i := pg * page; i < (pg+1)*page; i++ {
				b[i] = fill ^ byte(i*7)
			}
			path := filepath.Join(t.TempDir(), "invoiceform.state")
			write(t, path, b)
			before := snapshotFile(t, path)
			s, err := boltstate.Open(path, boltstate.Options{ReadOnly: true})
			if err == nil {
				_, err = s.Snapshot(context.Background())
				s.Close()
			}
			if err != nil {
				if !errors.Is(err, state.ErrCorrupt) {
					t.Fatalf("page %d filled with %#x: %v, want ErrCorrupt", pg, fill, err)
				}
				refused++
				if strings.Contains(err.Error(), "reading it failed") {
					panics++
				}
			}
			if snapshotFile(t, path) != before {
				t.Fatalf("page %d: the file was changed", pg)
			}
		}
	}
	// Pages bbolt does not reach (free pages) may be garbled without harm; most are reached.
	if refused == 0 || panics == 0 {
		t.Fatalf("%d garbled files refused, %d after a panic in bbolt; want both, so the recovery is tested", refused, panics)
	}
	t.Logf("%d of the garbled files refused, %d of them after a panic or fault in bbolt", refused, panics)
}
