package statetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// Harness makes stores for the suite.
type Harness struct {
	// New returns a new, empty, writable store. The suite closes it.
	New func(t *testing.T) state.Store
	// Reopen closes s and opens the same state again, writable. Nil for stores that do not
	// outlive Close (the in-memory store); the reopening tests are then not run.
	Reopen func(t *testing.T, s state.Store) state.Store
	// Again opens the state s is open on a second time, writable, failing at once if it is
	// locked. Nil for stores without a lock (the in-memory store); the locking test is then
	// not run.
	Again func(t *testing.T, s state.Store) (state.Store, error)
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"Empty", testEmpty},
		{"RoundTrip", testRoundTrip},
		{"Replace", testReplace},
		{"Delete", testDelete},
		{"InvalidRecords", testInvalid},
		{"SnapshotIsolation", testIsolation},
		{"Serial", testSerial},
		{"Bind", testBind},
		{"Import", testImport},
		{"ConcurrentWriters", testConcurrent},
		{"Closed", testClosed},
		{"Callbacks", testCallbacks},
		{"ImportCallbacks", testImportCallbacks},
		{"SnapshotWith", testSnapshotWith},
	}
	if h.Reopen != nil {
		tests = append(tests, struct {
			name string
			fn   func(*testing.T, Harness)
		}{"Reopen", testReopen})
	}
	if h.Again != nil {
		tests = append(tests, struct {
			name string
			fn   func(*testing.T, Harness)
		}{"Lock", testLock})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func open(t *testing.T, h Harness) state.Store {
	t.Helper()
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// FullRecord returns a record with every field set, distinct per id, so that a store that
// drops or mixes up a field fails the round trip.
func FullRecord(id string) *state.Record {
	body := []byte(fmt.Sprintf(`{"timer":true,"title":"T \u00fc <&>","currency":"EUR","amount":106.75,"foreign_id":%q,"email_user":"buyer@example.com","sender_data":{"first_name":"Friedrich"}}`, id))
	fixed, release := int64(1700000000), int64(1700000900)
	created := time.Date(2026, 11, 24, 3, 4, 5, 123456789, time.UTC)
	return &state.Record{
		ForeignID: id, Phase: state.Issued,
		BodyHash: invoice.Hash(body), Body: body,
		ID: 1<<40 + int64(len(id)), URL: "https://invoices.example/invoice/" + id, Address: "bc1q" + id,
		Status: "created", Currency: "EUR", Amount: "106.75000000", SenderCurrency: "BTC",
		SenderAmount: "0.00123456", FixedAt: &fixed, ReleaseAt: &release, DetailsKnown: true,
		CreatedAt: created, UpdatedAt: created.Add(time.Second), IssuedAt: created.Add(2 * time.Second),
		LastError: "api: POST /invoices/create: HTTP 502; the invoice may have been created",
	}
}

// PendingRecord returns a minimal pending record: no answer yet.
func PendingRecord(id string) *state.Record {
	body := []byte(`{"foreign_id":"` + id + `"}`)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &state.Record{ForeignID: id, Phase: state.Pending, BodyHash: invoice.Hash(body), Body: body, CreatedAt: now, UpdatedAt: now}
}

func snapshot(t *testing.T, s state.Store) *state.Snapshot {
	t.Helper()
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	CheckSorted(t, snap)
	snap.Sorted = nil // checked: the tests compare what every store gives
	return snap
}

// CheckSorted fails t unless snap.Sorted, when a store filled it, holds exactly the records of
// snap.Records (the same pointers; all of them, when Records is nil) in strictly ascending
// foreign_id order, and InOrder and Lookup agree with it.
func CheckSorted(t *testing.T, snap *state.Snapshot) {
	t.Helper()
	if snap.Sorted == nil {
		return
	}
	if snap.Records != nil && len(snap.Sorted) != len(snap.Records) {
		t.Fatalf("Sorted holds %d records, Records %d", len(snap.Sorted), len(snap.Records))
	}
	for i, r := range snap.Sorted {
		if i > 0 && snap.Sorted[i-1].ForeignID >= r.ForeignID {
			t.Fatalf("Sorted: %q before %q", snap.Sorted[i-1].ForeignID, r.ForeignID)
		}
		if snap.Records != nil && snap.Records[r.ForeignID] != r {
			t.Fatalf("Sorted's record %q is not Records'", r.ForeignID)
		}
		if snap.Lookup(r.ForeignID) != r {
			t.Fatalf("Lookup(%q) is not Sorted's record", r.ForeignID)
		}
	}
	if len(snap.InOrder()) != len(snap.Sorted) {
		t.Fatalf("InOrder %d records, Sorted %d", len(snap.InOrder()), len(snap.Sorted))
	}
	if snap.Lookup("\x00not-an-id") != nil {
		t.Fatal("Lookup found a foreign_id that is not in the snapshot")
	}
}

func put(t *testing.T, s state.Store, rs ...*state.Record) {
	t.Helper()
	if err := s.Put(context.Background(), rs...); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

func testEmpty(t *testing.T, h Harness) {
	snap := snapshot(t, open(t, h))
	if snap.Lineage == "" || snap.Serial != 0 || len(snap.Records) != 0 || !snap.Binding.IsZero() {
		t.Fatalf("new state: lineage %q serial %d, %d records, binding %+v; want a lineage and nothing else",
			snap.Lineage, snap.Serial, len(snap.Records), snap.Binding)
	}
}

func testRoundTrip(t *testing.T, h Harness) {
	s := open(t, h)
	want := map[string]*state.Record{
		"full":              FullRecord("full"),
		"pending":           PendingRecord("pending"),
		"ünïcode/☃ ?#%\\":   FullRecord("ünïcode/☃ ?#%\\"),
		"history":           HistoryRecord("history"),
		"adopted-no-detail": {ForeignID: "adopted-no-detail", Phase: state.Issued, BodyHash: invoice.Hash(nil)},
	}
	neg := int64(-5)
	want["full"].ReleaseAt = &neg // negative and absent pointers must survive too
	want["full"].FixedAt = nil
	for _, r := range want {
		put(t, s, r)
	}
	got := snapshot(t, s).Records
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })); d != "" {
		t.Fatalf("records changed in the round trip (-put +snapshot):\n%s", d)
	}
}

func testReplace(t *testing.T, h Harness) {
	s := open(t, h)
	put(t, s, PendingRecord("a"))
	full := FullRecord("a")
	put(t, s, full)
	if d := cmp.Diff(full, snapshot(t, s).Records["a"]); d != "" {
		t.Fatalf("Put did not replace the record (-want +got):\n%s", d)
	}
	// The same foreign_id twice in one Put: the later record wins, as if put one by one.
	put(t, s, PendingRecord("b"), FullRecord("b"))
	if d := cmp.Diff(FullRecord("b"), snapshot(t, s).Records["b"]); d != "" {
		t.Fatalf("Put of b twice did not keep the later record (-want +got):\n%s", d)
	}
}

func testDelete(t *testing.T, h Harness) {
	s := open(t, h)
	put(t, s, PendingRecord("a"), PendingRecord("b"), PendingRecord("c"))
	if err := s.Delete(context.Background(), "a", "c", "absent"); err != nil {
		t.Fatalf("Delete: %v (absent ids are not an error)", err)
	}
	got := snapshot(t, s).Records
	if len(got) != 1 || got["b"] == nil {
		t.Fatalf("after deleting a and c: %v, want only b", keys(got))
	}
}

func testInvalid(t *testing.T, h Harness) {
	s := open(t, h)
	badHash := PendingRecord("bad-hash")
	badHash.BodyHash = invoice.Hash([]byte("other"))
	badPhase := PendingRecord("bad-phase")
	badPhase.Phase = "failed"
	notUTF8 := PendingRecord("not-utf8")
	notUTF8.Body = []byte{'"', 0xff, '"'}
	notUTF8.BodyHash = invoice.Hash(notUTF8.Body)
	for _, bad := range []*state.Record{badHash, badPhase, notUTF8, {Phase: state.Pending, BodyHash: invoice.Hash(nil)}, nil} {
		// A valid record in the same call must not be written either: Put is all or nothing.
		if err := s.Put(context.Background(), PendingRecord("good"), bad); err == nil {
			t.Fatalf("Put accepted invalid record %+v", bad)
		}
	}
	if snap := snapshot(t, s); len(snap.Records) != 0 || snap.Serial != 0 {
		t.Fatalf("refused Puts changed the state: %v, serial %d", keys(snap.Records), snap.Serial)
	}
}

func testIsolation(t *testing.T, h Harness) {
	s := open(t, h)
	put(t, s, FullRecord("a"))
	before := snapshot(t, s)
	put(t, s, PendingRecord("a"), FullRecord("b"))
	if err := s.Delete(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(FullRecord("a"), before.Records["a"]); d != "" || len(before.Records) != 1 || before.Serial != 1 {
		t.Fatalf("an earlier snapshot changed after later writes (serial %d, %v):\n%s", before.Serial, keys(before.Records), d)
	}
	// Changing a snapshot must not reach the store.
	now := snapshot(t, s)
	now.Records["b"].Body[0] = 'X'
	*now.Records["b"].FixedAt = 1
	now.Records["b"].Status = "changed"
	delete(now.Records, "b")
	if d := cmp.Diff(FullRecord("b"), snapshot(t, s).Records["b"]); d != "" {
		t.Fatalf("changing a snapshot changed the store:\n%s", d)
	}
}

func testSerial(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	steps := []func() error{
		func() error { return s.Put(ctx, PendingRecord("a")) },
		func() error { return s.Put(ctx, FullRecord("a"), FullRecord("b")) },
		func() error { return s.Delete(ctx, "a") },
		func() error {
			return s.Bind(ctx, state.Binding{Endpoint: "https://e.example/api/v2", KeyFingerprint: "00"})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
		if got := snapshot(t, s).Serial; got != uint64(i+1) {
			t.Fatalf("after %d writes serial is %d, want %d", i+1, got, i+1)
		}
	}
	// Writes of nothing are not writes.
	if err := s.Put(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, s).Serial; got != uint64(len(steps)) {
		t.Fatalf("empty Put and Delete moved the serial to %d, want %d", got, len(steps))
	}
}

func testBind(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	sandbox := state.Binding{Endpoint: "https://app.sandbox.cryptoprocessing.com/api/v2", KeyFingerprint: state.KeyFingerprint("k1")}
	if err := s.Bind(ctx, sandbox); err != nil {
		t.Fatalf("first Bind: %v", err)
	}
	serial := snapshot(t, s).Serial
	if err := s.Bind(ctx, sandbox); err != nil {
		t.Fatalf("Bind to the same binding: %v", err)
	}
	for _, other := range []state.Binding{
		{Endpoint: "https://app.cryptoprocessing.com/api/v2", KeyFingerprint: sandbox.KeyFingerprint},
		{Endpoint: sandbox.Endpoint, KeyFingerprint: state.KeyFingerprint("k2")},
	} {
		if err := s.Bind(ctx, other); !errors.Is(err, state.ErrForeign) {
			t.Fatalf("Bind(%+v) on a state bound to %+v: %v, want ErrForeign", other, sandbox, err)
		}
	}
	if snap := snapshot(t, s); snap.Binding != sandbox || snap.Serial != serial {
		t.Fatalf("binding %+v serial %d after a repeated and two refused binds, want %+v serial %d", snap.Binding, snap.Serial, sandbox, serial)
	}
}

func testImport(t *testing.T, h Harness) {
	ctx := context.Background()
	src := &state.Snapshot{
		Records: map[string]*state.Record{"a": FullRecord("a"), "p": PendingRecord("p")},
		Lineage: "0123456789abcdef0123456789abcdef", Serial: 41,
		Binding: state.Binding{Endpoint: "https://e.example/api/v2", KeyFingerprint: "abcd"},
	}
	s := open(t, h)
	if err := s.Import(ctx, src); err != nil {
		t.Fatalf("Import into an empty state: %v", err)
	}
	if d := cmp.Diff(src, snapshot(t, s)); d != "" {
		t.Fatalf("imported state differs (-export +state):\n%s", d)
	}
	if err := s.Import(ctx, src); !errors.Is(err, state.ErrNotEmpty) {
		t.Fatalf("Import into a non-empty state: %v, want ErrNotEmpty", err)
	}
	bound := open(t, h)
	if err := bound.Bind(ctx, src.Binding); err != nil {
		t.Fatal(err)
	}
	if err := bound.Import(ctx, src); !errors.Is(err, state.ErrNotEmpty) {
		t.Fatalf("Import into a bound state: %v, want ErrNotEmpty", err)
	}
}

func testConcurrent(t *testing.T, h Harness) {
	s := open(t, h)
	const writers, each = 32, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := s.Put(context.Background(), FullRecord(fmt.Sprintf("w%02d-%03d", w, i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Put: %v", err)
	}
	snap := snapshot(t, s)
	if len(snap.Records) != writers*each || snap.Serial != writers*each {
		t.Fatalf("%d records at serial %d, want %d at %d", len(snap.Records), snap.Serial, writers*each, writers*each)
	}
	for w := range writers {
		for i := range each {
			id := fmt.Sprintf("w%02d-%03d", w, i)
			if d := cmp.Diff(FullRecord(id), snap.Records[id]); d != "" {
				t.Fatalf("record %s:\n%s", id, d)
			}
		}
	}
}

func testClosed(t *testing.T, h Harness) {
	s := h.New(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Put(context.Background(), PendingRecord("a")); err == nil {
		t.Fatal("Put on a closed store succeeded")
	}
	if _, err := s.Snapshot(context.Background()); err == nil {
		t.Fatal("Snapshot on a closed store succeeded")
	}
}

func testReopen(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := context.Background()
	put(t, s, FullRecord("a"), PendingRecord("p"))
	b := state.Binding{Endpoint: "https://e.example/api/v2", KeyFingerprint: "ff"}
	if err := s.Bind(ctx, b); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	s = h.Reopen(t, s)
	t.Cleanup(func() { _ = s.Close() })
	if d := cmp.Diff(before, snapshot(t, s)); d != "" {
		t.Fatalf("state changed across reopen (-before +after):\n%s", d)
	}
	put(t, s, PendingRecord("q"))
	if after := snapshot(t, s); after.Lineage != before.Lineage || after.Serial != before.Serial+1 {
		t.Fatalf("after reopen and a write: lineage %s serial %d, want %s and %d", after.Lineage, after.Serial, before.Lineage, before.Serial+1)
	}
}

func keys(m map[string]*state.Record) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// testLock: a writable store excludes a second writer of the same state until it is closed,
// and does not hold up a writer of another state.
func testLock(t *testing.T, h Harness) {
	s := h.New(t)
	put(t, s, FullRecord("a"))
	if second, err := h.Again(t, s); !errors.Is(err, state.ErrLocked) {
		if err == nil {
			_ = second.Close()
		}
		t.Fatalf("a second writable open of a locked state: %v, want ErrLocked", err)
	}
	other := open(t, h) // another state: no contention
	put(t, other, PendingRecord("b"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := h.Again(t, s)
	if err != nil {
		t.Fatalf("open after the first writer closed: %v", err)
	}
	t.Cleanup(func() { _ = second.Close() })
	snap := snapshot(t, second)
	if len(snap.Records) != 1 || snap.Records["a"] == nil || snap.Serial != 1 {
		t.Fatalf("the second writer sees %v at serial %d, want a at 1", keys(snap.Records), snap.Serial)
	}
}
