package statetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/state"
)

// Callback returns a callback of the given status whose body hash is made from body, with
// every field set.
func Callback(status, body string, at time.Time) state.Callback {
	sum := sha256.Sum256([]byte(body))
	return state.Callback{ReceivedAt: at.UTC(), Status: status, Error: "e " + body,
		SentCurrency: "BTC", SentAmount: "0.00177917", SentRemaining: "0.00000000",
		ReceivedCurrency: "EUR", ReceivedAmount: "106.75000000",
		TxIDs: []string{"tx-" + body, "tx2"}, BodyHash: hex.EncodeToString(sum[:])}
}

// HistoryRecord is FullRecord with two callbacks in its history and a paid time.
func HistoryRecord(id string) *state.Record {
	r := FullRecord(id)
	at := time.Date(2026, 12, 1, 10, 0, 0, 5, time.UTC)
	r.History = []state.Callback{Callback("pending", id+"1", at), Callback("confirmed", id+"2", at.Add(time.Minute))}
	r.Status, r.PaidAt = "confirmed", at.Add(time.Minute)
	return r
}

func callbackStore(t *testing.T, s state.Store) state.CallbackStore {
	t.Helper()
	cs, ok := s.(state.CallbackStore)
	if !ok {
		t.Fatalf("%T does not record callbacks", s)
	}
	return cs
}

func record(t *testing.T, s state.Store, in ...state.Incoming) []state.Outcome {
	t.Helper()
	out, err := callbackStore(t, s).RecordCallbacks(context.Background(), in)
	if err != nil {
		t.Fatalf("RecordCallbacks: %v", err)
	}
	return out
}

// testCallbacks: the transition rule in the store, in one batch and across batches;
// duplicates, stale and unknown callbacks; Put keeps what callbacks wrote.
func testCallbacks(t *testing.T, h Harness) {
	s := open(t, h)
	put(t, s, FullRecord("a"), FullRecord("b"))
	serial := snapshot(t, s).Serial
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	pend, proc, conf := Callback("pending", "p", at), Callback("processing", "q", at.Add(time.Second)), Callback("confirmed", "c", at.Add(2*time.Second))
	got := record(t, s,
		state.Incoming{ForeignID: "a", Callback: pend},
		state.Incoming{ForeignID: "a", Callback: proc},
		state.Incoming{ForeignID: "a", Callback: pend}, // duplicate in the same batch
		state.Incoming{ForeignID: "zz", InvoiceID: 7, Callback: Callback("pending", "z", at)},
		state.Incoming{ForeignID: "zz", InvoiceID: 7, Callback: Callback("pending", "z", at)},
	)
	want := []state.Outcome{state.Applied, state.Applied, state.Duplicate, state.Unknown, state.Unknown}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("outcomes (-want +got):\n%s", d)
	}
	snap := snapshot(t, s)
	a := snap.Records["a"]
	if a.Status != "processing" || len(a.History) != 2 || snap.Serial != serial+1 {
		t.Fatalf("a: status %q, %d callbacks, serial %d; want processing, 2, %d", a.Status, len(a.History), snap.Serial, serial+1)
	}
	if d := cmp.Diff([]state.Callback{pend, proc}, a.History); d != "" {
		t.Fatalf("history (-want +got):\n%s", d)
	}
	if len(snap.Unknown) != 1 || snap.Unknown[0].ForeignID != "zz" || snap.Unknown[0].InvoiceID != 7 || snap.Unknown[0].BodyHash != Callback("pending", "z", at).BodyHash {
		t.Fatalf("unknown callbacks: %+v, want the one of zz", snap.Unknown)
	}
	// Out of order, then the final status, then late ones: only confirmed is applied.
	got = record(t, s,
		state.Incoming{ForeignID: "a", Callback: Callback("pending", "late-p", at)},
		state.Incoming{ForeignID: "a", Callback: conf},
		state.Incoming{ForeignID: "a", Callback: Callback("processing", "late-q", at)},
		state.Incoming{ForeignID: "a", Callback: Callback("failed", "late-f", at)},
		state.Incoming{ForeignID: "zz", Callback: Callback("pending", "z", at)},
	)
	want = []state.Outcome{state.Stale, state.Applied, state.Stale, state.Stale, state.Unknown}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("outcomes (-want +got):\n%s", d)
	}
	// A batch that changes nothing writes nothing.
	serial = snapshot(t, s).Serial
	record(t, s, state.Incoming{ForeignID: "a", Callback: conf})
	snap = snapshot(t, s)
	if snap.Serial != serial || len(snap.Unknown) != 1 {
		t.Fatalf("a duplicate moved the serial from %d to %d, or %d unknown", serial, snap.Serial, len(snap.Unknown))
	}
	a = snap.Records["a"]
	if a.Status != "confirmed" || !a.PaidAt.Equal(conf.ReceivedAt) || len(a.History) != 3 {
		t.Fatalf("a: status %q paid %v, %d callbacks; want confirmed at %v, 3", a.Status, a.PaidAt, len(a.History), conf.ReceivedAt)
	}
	// apply writing the record it read before the callbacks (status created) keeps them.
	stale := FullRecord("a")
	stale.LastError = "changed"
	put(t, s, stale)
	a = snapshot(t, s).Records["a"]
	if a.Status != "confirmed" || len(a.History) != 3 || a.LastError != "changed" || a.PaidAt.IsZero() {
		t.Fatalf("after a Put of an old copy: status %q, %d callbacks, last_error %q; want confirmed, 3, changed", a.Status, len(a.History), a.LastError)
	}
	// An invalid callback fails the whole batch.
	bad := Callback("paid", "x", at)
	if _, err := callbackStore(t, s).RecordCallbacks(context.Background(), []state.Incoming{{ForeignID: "b", Callback: pend}, {ForeignID: "b", Callback: bad}}); err == nil {
		t.Fatal("a callback of status paid was recorded")
	}
	if b := snapshot(t, s).Records["b"]; len(b.History) != 0 {
		t.Fatalf("b has %d callbacks after a refused batch", len(b.History))
	}
	if h.Reopen != nil {
		before := snapshot(t, s)
		s = h.Reopen(t, s)
		t.Cleanup(func() { _ = s.Close() })
		if d := cmp.Diff(before, snapshot(t, s)); d != "" {
			t.Fatalf("callbacks changed across reopen (-before +after):\n%s", d)
		}
	}
}

// testImportCallbacks: history and unknown callbacks survive export and import.
func testImportCallbacks(t *testing.T, h Harness) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	src := &state.Snapshot{
		Records: map[string]*state.Record{"a": HistoryRecord("a"), "p": PendingRecord("p")},
		Lineage: "0123456789abcdef0123456789abcdef", Serial: 9,
		Unknown: []*state.UnknownCallback{
			{ForeignID: "x", InvoiceID: 3, Callback: Callback("failed", "x", at)},
			{ForeignID: "y", Callback: Callback("pending", "y", at.Add(time.Second))},
		},
	}
	s := open(t, h)
	if err := s.Import(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(src, snapshot(t, s)); d != "" {
		t.Fatalf("imported state differs (-export +state):\n%s", d)
	}
}
