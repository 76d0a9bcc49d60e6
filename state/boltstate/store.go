package boltstate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// FormatVersion is the layout this package writes. Files of an older version are migrated
// when opened for writing (after a backup, migrate.go); newer ones are refused.
const FormatVersion = 4

// Magic is stored in the meta bucket: a bbolt file without it belongs to another program.
const Magic = "invoiceform-state"

// FileMode is the permission of a state file: it holds personal data.
const FileMode os.FileMode = 0o600

var (
	bucketMeta    = []byte("meta")
	bucketRecords = []byte("records")
	// bucketUnknown holds callbacks for foreign_ids no record has, by body hash (format 3).
	bucketUnknown = []byte("unknown_callbacks")

	keyMagic       = []byte("magic")
	keyFormat      = []byte("format")
	keyLineage     = []byte("lineage")
	keySerial      = []byte("serial")
	keyEndpoint    = []byte("endpoint")
	keyFingerprint = []byte("key_fingerprint")
)

// Options configure Open.
type Options struct {
	// ReadOnly opens with a shared lock, as plan does: many readers at once, no writer. A
	// missing file is ErrNotFound; nothing is ever created or migrated.
	ReadOnly bool
	// LockTimeout is how long to wait for another process's lock before ErrLocked. Zero fails
	// at once.
	LockTimeout time.Duration
	// Writers is how many goroutines will Put at once (apply's -parallelism). A batch commits
	// as soon as that many writes have joined it, or 1 ms after the first one; so one fsync
	// serves every worker. Zero means 64.
	Writers int
}

// Store is a state in a bbolt file. It implements state.Store.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
	version  uint64

	// Notes are things the operator should be told about the open, such as a tightened file
	// mode or a migration; the command prints them.
	Notes []string

	mu     sync.RWMutex // guards closed against Close racing with writers
	closed bool
}

var (
	_ state.Store         = (*Store)(nil)
	_ state.CallbackStore = (*Store)(nil)
)

// Open opens the state file at path, creating it unless opts.ReadOnly, and takes its lock.
// A file that is not a valid invoiceform state is refused with state.ErrCorrupt and left
// exactly as it was: it is first opened read-only, and only written once it has proved to be
// ours.
func Open(path string, opts Options) (*Store, error) {
	deadline := time.Now().Add(opts.LockTimeout)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if opts.ReadOnly {
			return nil, notFoundError(path)
		}
		return create(path, opts, deadline)
	case err != nil:
		return nil, fmt.Errorf("state: %w", err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("state: %s is not a regular file: %w", path, state.ErrCorrupt)
	case fi.Size() == 0:
		// bbolt would initialise an empty file, even read-only. An empty state file is a
		// lost state (truncated by mistake?), not a new one: applying to it as if nothing were
		// issued is exactly what must not happen silently.
		return nil, corrupt(path, "the file is empty")
	}

	return openExisting(path, opts, deadline)
}

// openExisting opens a state file that exists: read-only first, so that a file that is not a
// valid state is refused untouched; then, for a writable store, under the exclusive lock.
func openExisting(path string, opts Options, deadline time.Time) (*Store, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	ro, version, err := openChecked(path, true, opts, deadline)
	if err != nil {
		return nil, err
	}
	var notes []string
	if fi.Mode().Perm()&^FileMode != 0 {
		// Tighten before anything else reads personal data through a loose mode.
		if err := os.Chmod(path, FileMode); err != nil {
			_ = ro.Close()
			return nil, fmt.Errorf("state: %s has mode %v and could not be made private: %w", path, fi.Mode().Perm(), err)
		}
		notes = append(notes, fmt.Sprintf("%s had mode %v; changed to %v (it holds personal data)", path, fi.Mode().Perm(), FileMode))
	}
	if opts.ReadOnly {
		return &Store{db: ro, path: path, readOnly: true, version: version, Notes: notes}, nil
	}
	// Release the shared lock and take the exclusive one. Another process may slip in
	// between; the meta is checked again under the exclusive lock.
	if err := ro.Close(); err != nil {
		return nil, fmt.Errorf("state: %s: %w", path, err)
	}
	db, version, err := openChecked(path, false, opts, deadline)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, version: version, Notes: notes}
	if version < FormatVersion {
		note, err := s.migrate()
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		s.Notes = append(s.Notes, note)
	}
	return s, nil
}

// create makes a new state file and opens it. The state is made whole in a temporary file
// beside path and then linked to path, so that path only ever names a complete state: a
// creation that fails part way (a full disk, a file size limit, a kill) leaves no file that
// every later run would have to refuse as truncated, and a process that loses the race to
// create the file opens the winner's instead of touching it.
func create(path string, opts Options, deadline time.Time) (*Store, error) {
	made, err := makeFile(path, opts, deadline)
	if err != nil {
		return nil, err
	}
	s, err := openExisting(path, opts, deadline)
	if err == nil && made {
		// The new file's name must survive a power loss as surely as the records in it.
		err = syncDir(filepath.Dir(path))
		if err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, err
}

// makeFile writes an empty state to a temporary file in path's directory and links it to
// path; made is false when another process linked its own first.
func makeFile(path string, opts Options, deadline time.Time) (made bool, err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return false, fmt.Errorf("state: creating %s: %w", path, err)
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(FileMode); err != nil {
		_ = tmp.Close()
		return false, fmt.Errorf("state: creating %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("state: creating %s: %w", path, err)
	}
	var db *bolt.DB
	err = guard(path, func() error {
		var err error
		if db, err = bolt.Open(name, FileMode, &bolt.Options{Timeout: max(time.Until(deadline), time.Nanosecond)}); err != nil {
			return err
		}
		return db.Update(func(tx *bolt.Tx) error { return initialise(tx, state.NewLineage()) })
	})
	if db != nil {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return false, fmt.Errorf("state: creating %s: %w (nothing was written to %s)", path, err, path)
	}
	if err := os.Link(name, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil // another invoiceform made it first: open theirs
		}
		return false, fmt.Errorf("state: creating %s: %w", path, err)
	}
	return true, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("state: syncing directory %s: %w", dir, err)
	}
	return nil
}

func initialise(tx *bolt.Tx, lineage string) error {
	meta, err := tx.CreateBucket(bucketMeta)
	if err != nil {
		return err
	}
	if _, err := tx.CreateBucket(bucketRecords); err != nil {
		return err
	}
	if _, err := tx.CreateBucket(bucketUnknown); err != nil {
		return err
	}
	if _, err := tx.CreateBucket(bucketSummaries); err != nil {
		return err
	}
	for k, v := range map[string][]byte{
		string(keyMagic): []byte(Magic), string(keyFormat): u64(FormatVersion),
		string(keyLineage): []byte(lineage), string(keySerial): u64(0), string(keyRecordCount): u64(0),
	} {
		if err := meta.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// openChecked opens path and checks that it is an invoiceform state of a version this
// package can read.
func openChecked(path string, readOnly bool, opts Options, deadline time.Time) (*bolt.DB, uint64, error) {
	db, err := boltOpen(path, readOnly, opts, deadline)
	if err != nil {
		return nil, 0, err
	}
	version, err := checkMeta(path, db)
	if err != nil {
		_ = db.Close()
		return nil, 0, err
	}
	return db, version, nil
}

func boltOpen(path string, readOnly bool, opts Options, deadline time.Time) (*bolt.DB, error) {
	// bbolt waits forever on a zero timeout; ours means "do not wait".
	timeout := max(time.Until(deadline), time.Nanosecond)
	writers := opts.Writers
	if writers <= 0 {
		writers = 64
	}
	var db *bolt.DB
	err := guard(path, func() error {
		var err error
		bo := &bolt.Options{ReadOnly: readOnly, Timeout: timeout}
		if readOnly && opts.ReadOnly {
			// Only the caller's read-only open (plan) will read the whole file; the read-only
			// open that checks a file before a writable one reads a few pages.

		}
		db, err = bolt.Open(path, FileMode, bo)
		return err
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("state: %s: %w", path, state.ErrLocked)
	case errors.Is(err, state.ErrCorrupt):
		return nil, err
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, corrupt(path, err.Error())
	case errors.As(err, new(*fs.PathError)):
		// The system refused the file (permission denied, a read-only file system, no
		// locks on this file system): that says nothing about its contents, and advice to
		// move a sound state away would be wrong.
		return nil, fmt.Errorf("state: %w", err)
	case err != nil:
		// Other failures (bad page size, short file, I/O) on an existing file also mean we
		// cannot trust it; say what bbolt said.
		if fi, statErr := os.Stat(path); statErr == nil && fi.Size() > 0 {
			return nil, corrupt(path, err.Error())
		}
		return nil, fmt.Errorf("state: %s: %w", path, err)
	}
	db.MaxBatchSize = writers
	db.MaxBatchDelay = time.Millisecond
	return db, nil
}

// notFoundError is a missing state file; it matches state.ErrNotFound.
type notFoundError string

func (e notFoundError) Error() string {
	return fmt.Sprintf("no state at %s: nothing has been applied here yet", string(e))
}

func (e notFoundError) Is(target error) bool { return target == state.ErrNotFound }

func corrupt(path, why string) error {
	return fmt.Errorf("state: %s: %w (%s); the file was left as it is", path, state.ErrCorrupt, why)
}

// guard turns a panic or a memory fault inside bbolt (which trusts the file it maps) into
// ErrCorrupt, so a damaged file is an error, never a crash.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = corrupt(path, fmt.Sprint("reading it failed: ", p))
		}
	}()
	return fn()
}

// checkMeta checks the magic, the format version, the presence of the buckets and that the
// file is as long as its own meta says (a truncated copy would fault on first use).
func checkMeta(path string, db *bolt.DB) (uint64, error) {
	var version uint64
	err := guard(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			if tx.Size() > fi.Size() {
				return corrupt(path, fmt.Sprintf("truncated: %d bytes, want %d", fi.Size(), tx.Size()))
			}
			meta := tx.Bucket(bucketMeta)
			if meta == nil || !bytes.Equal(meta.Get(keyMagic), []byte(Magic)) {
				return corrupt(path, "a bbolt file without invoiceform's meta; another program's database?")
			}
			v := meta.Get(keyFormat)
			if len(v) != 8 {
				return corrupt(path, "no format version")
			}
			version = binary.BigEndian.Uint64(v)
			if version > FormatVersion {
				return fmt.Errorf("state: %s: %w: format version %d, this invoiceform reads up to %d; upgrade invoiceform", path, state.ErrNewerFormat, version, FormatVersion)
			}
			if tx.Bucket(bucketRecords) == nil || len(meta.Get(keyLineage)) == 0 || len(meta.Get(keySerial)) != 8 {
				return corrupt(path, "meta or records bucket incomplete")
			}
			if version >= 4 && (tx.Bucket(bucketSummaries) == nil || len(meta.Get(keyRecordCount)) != 8) {
				return corrupt(path, "summaries bucket or record count missing")
			}
			return nil
		})
	})
	return version, err
}

// checkRecord is Record.Validate without its allocations. bbolt has no checksums of its data
// pages; the body hash catches damage to the bytes that would be resent.
func checkRecord(r *state.Record) error {
	if !invoice.HashMatches(r.Body, r.BodyHash) || !r.Phase.Valid() || r.ForeignID == "" {
		return r.Validate() // says what is wrong
	}
	if !utf8.Valid(r.Body) {
		return r.Validate()
	}
	return nil
}

// checkRead is checkRecord for a snapshot. A value of format 2 or 3 has passed its CRC-32C,
// which covers the body and its hash as Put wrote them (after Validate): hashing the body again
// is needed only where the body will be resent, in a pending record. At 1,000,000 records the
// SHA-256 of every body was a tenth of a snapshot's CPU time.
func checkRead(r *state.Record, codec byte) error {
	if (codec == codecV2 || codec == codecV3) && r.Phase != state.Pending {
		if !r.Phase.Valid() || r.ForeignID == "" {
			return r.Validate()
		}
		return nil
	}
	return checkRecord(r)
}

// snapshotChunk is how many records a snapshot allocates at once; a variable for the tests.
var snapshotChunk = 16384

// dropEvery is how many records a read-only snapshot reads between two dropBehind calls
// (about 45 MB of a state file); a variable for the tests.
var dropEvery = 32768

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Path is the file's path.
func (s *Store) Path() string { return s.path }

func (s *Store) use(write bool) (func(), error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, fmt.Errorf("state: %s: %w", s.path, state.ErrClosed)
	}
	if write && s.readOnly {
		s.mu.RUnlock()
		return nil, fmt.Errorf("state: %s: %w", s.path, state.ErrReadOnly)
	}
	return s.mu.RUnlock, nil
}

// Snapshot implements state.Store.
func (s *Store) Snapshot(ctx context.Context) (*state.Snapshot, error) {
	return s.SnapshotWith(ctx, state.SnapshotOptions{})
}

// SnapshotWith implements state.SnapshotWither: a record opts.Full does not ask for is
// decoded only as far as its summary (its checksum is still checked, its body hash is not,
// having no body), so its body and history are neither copied nor hashed.
func (s *Store) SnapshotWith(ctx context.Context, opts state.SnapshotOptions) (*state.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done, err := s.use(false)
	if err != nil {
		return nil, err
	}
	defer done()
	snap := &state.Snapshot{}
	err = guard(s.path, func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			snap.Lineage = string(meta.Get(keyLineage))
			snap.Serial = binary.BigEndian.Uint64(meta.Get(keySerial))
			snap.Binding = binding(tx)
			if err := readUnknown(tx, s.path, snap); err != nil {
				return err
			}
			// Records and their times are allocated in slabs and their bytes in an arena
			// (codec.go): a snapshot is then a few hundred allocations, not a million. The
			// records are not counted first (Bucket.Stats reads every page of the file, all
			// of it resident at once in a read-only store's map, dropBehind below): the slabs
			// grow in chunks, and the map is made at its size once they are all read.
			var (
				sl  slabs
				mem arena
				err error
			)
			if opts.Full != nil && s.version >= 4 {
				err = s.readSummaries(tx, opts.Full, &sl, &mem)
			} else {
				err = s.readRecords(tx, opts.Full, &sl, &mem)
			}
			if err != nil {
				return err
			}
			snap.Sorted = sl.sorted()
			if !opts.Sorted {
				snap.Records = index(snap.Sorted)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// update runs fn in a batched write transaction and counts it in the serial.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return s.write(ctx, true, fn)
}

func (s *Store) write(ctx context.Context, bump bool, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done, err := s.use(true)
	if err != nil {
		return err
	}
	defer done()
	err = s.db.Batch(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil || !bump {
			return err
		}
		return bumpSerial(tx)
	})
	if err != nil && !errors.Is(err, state.ErrForeign) && !errors.Is(err, state.ErrNotEmpty) {
		return fmt.Errorf("state: %s: %w", s.path, err)
	}
	return err
}

func bumpSerial(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	return meta.Put(keySerial, u64(binary.BigEndian.Uint64(meta.Get(keySerial))+1))
}

// Put implements state.Store. Records are encoded before joining the batch, so the shared
// transaction does only the tree writes.
func (s *Store) Put(ctx context.Context, records ...*state.Record) error {
	if len(records) == 0 {
		return ctx.Err()
	}
	vals := make([][]byte, len(records))
	for i, r := range records {
		if err := r.Validate(); err != nil {
			return err
		}
		vals[i] = encodeRecord(nil, r)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		w, err := openRecords(tx, s.path)
		if err != nil {
			return err
		}
		for i, r := range records {
			val := vals[i]
			old := w.get([]byte(r.ForeignID))
			if len(old) > 0 && old[0] == codecV3 {
				// The callbacks' fields are kept (state.MergeCallbacks).
				o, err := decodeRecord(old)
				if err != nil {
					return corrupt(s.path, fmt.Sprintf("record %q: %v", r.ForeignID, err))
				}
				if m := state.MergeCallbacks(o, r); m != r {
					r, val = m, encodeRecord(nil, m)
				}
			}
			if err := w.put(r, val, old != nil); err != nil {
				return fmt.Errorf("record %q: %w", r.ForeignID, err)
			}
		}
		return w.close()
	})
}

// RecordCallbacks implements state.CallbackStore, in one batched write transaction.
func (s *Store) RecordCallbacks(ctx context.Context, in []state.Incoming) ([]state.Outcome, error) {
	var out []state.Outcome
	if len(in) == 0 {
		return nil, ctx.Err()
	}
	err := s.write(ctx, false, func(tx *bolt.Tx) error {
		recs, err := openRecords(tx, s.path)
		if err != nil {
			return err
		}
		unk, err := tx.CreateBucketIfNotExists(bucketUnknown)
		if err != nil {
			return err
		}
		o, changed, unknown, err := state.ApplyIncoming(in,
			func(id string) (*state.Record, error) {
				v := recs.get([]byte(id))
				if v == nil {
					return nil, nil
				}
				r, err := decodeRecord(v)
				if err == nil {
					err = checkRecord(r)
				}
				if err != nil {
					return nil, corrupt(s.path, fmt.Sprintf("record %q: %v", id, err))
				}
				return r, nil
			},
			func(hash string) (bool, error) { return unk.Get([]byte(hash)) != nil, nil })
		if err != nil {
			return err
		}
		for id, r := range changed {
			if err := r.Validate(); err != nil {
				return err
			}
			if err := recs.put(r, encodeRecord(nil, r), recs.get([]byte(id)) != nil); err != nil {
				return err
			}
		}
		if err := recs.close(); err != nil {
			return err
		}
		for _, u := range unknown {
			if err := unk.Put([]byte(u.BodyHash), encodeUnknown(u)); err != nil {
				return err
			}
		}
		out = o
		if len(changed) > 0 {
			return bumpSerial(tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readUnknown reads the unknown callbacks into snap.
func readUnknown(tx *bolt.Tx, path string, snap *state.Snapshot) error {
	b := tx.Bucket(bucketUnknown)
	if b == nil {
		return nil // format 2, read-only
	}
	err := b.ForEach(func(k, v []byte) error {
		u, err := decodeUnknown(v)
		if err != nil {
			return corrupt(path, fmt.Sprintf("unknown callback %q: %v", k, err))
		}
		if u.BodyHash != string(k) {
			return corrupt(path, fmt.Sprintf("unknown callback %q is filed under %q", u.BodyHash, k))
		}
		snap.Unknown = append(snap.Unknown, u)
		return nil
	})
	state.SortUnknown(snap.Unknown)
	return err
}

// Delete implements state.Store.
func (s *Store) Delete(ctx context.Context, foreignIDs ...string) error {
	if len(foreignIDs) == 0 {
		return ctx.Err()
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		w, err := openRecords(tx, s.path)
		if err != nil {
			return err
		}
		for _, id := range foreignIDs {
			if err := w.delete([]byte(id)); err != nil {
				return err
			}
		}
		return w.close()
	})
}

// Bind implements state.Store. A binding that is already the state's is checked in a read
// transaction, so the common case (every apply after the first) writes nothing.
func (s *Store) Bind(ctx context.Context, want state.Binding) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done, err := s.use(false)
	if err != nil {
		return err
	}
	var have state.Binding
	err = guard(s.path, func() error {
		return s.db.View(func(tx *bolt.Tx) error { have = binding(tx); return nil })
	})
	done()
	if err != nil {
		return err
	}
	if err := state.CheckBinding(have, want); err != nil || have == want {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		// Checked again: another writer of this process may have bound it meanwhile.
		if err := state.CheckBinding(binding(tx), want); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyEndpoint, []byte(want.Endpoint)); err != nil {
			return err
		}
		return meta.Put(keyFingerprint, []byte(want.KeyFingerprint))
	})
}

func binding(tx *bolt.Tx) state.Binding {
	meta := tx.Bucket(bucketMeta)
	return state.Binding{Endpoint: string(meta.Get(keyEndpoint)), KeyFingerprint: string(meta.Get(keyFingerprint))}
}

// Import implements state.Store.
func (s *Store) Import(ctx context.Context, snap *state.Snapshot) error {
	if err := state.CheckImport(snap); err != nil {
		return err
	}
	return s.write(ctx, false, func(tx *bolt.Tx) error {
		meta, recs := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords)
		if n := recs.Stats().KeyN; n > 0 || len(meta.Get(keyEndpoint)) > 0 {
			return fmt.Errorf("import: %w", state.NotEmpty(n, string(meta.Get(keyEndpoint)), 0))
		}
		w, err := openRecords(tx, s.path)
		if err != nil {
			return err
		}
		for id, r := range snap.Records {
			// CheckImport made sure that id is r.ForeignID.
			if err := w.put(r, encodeRecord(nil, r), recs.Get([]byte(id)) != nil); err != nil {
				return err
			}
		}
		if err := w.close(); err != nil {
			return err
		}
		unk, err := tx.CreateBucketIfNotExists(bucketUnknown)
		if err != nil {
			return err
		}
		if n := unk.Stats().KeyN; n > 0 {
			return fmt.Errorf("import: %w: it has %d unknown callbacks", state.ErrNotEmpty, n)
		}
		for _, u := range snap.Unknown {
			if err := unk.Put([]byte(u.BodyHash), encodeUnknown(u)); err != nil {
				return err
			}
		}
		for k, v := range map[string][]byte{
			string(keyLineage): []byte(snap.Lineage), string(keyEndpoint): []byte(snap.Binding.Endpoint),
			string(keyFingerprint): []byte(snap.Binding.KeyFingerprint),
			// The export's serial, so that a plan made before the export still matches.
			string(keySerial): u64(snap.Serial),
		} {
			if err := meta.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close implements state.Store: it releases the lock.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}
