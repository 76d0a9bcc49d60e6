package statetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/state"
)

// testSnapshotWith holds state.SnapshotWith to Snapshot: a record Full asks for is exactly
// the record Snapshot gives, any other is its Summarized part (or, for a store that cannot
// read summaries, the whole record), and Full sees every record's summary once.
func testSnapshotWith(t *testing.T, h Harness) {
	s := open(t, h)
	ctx := context.Background()
	var rs []*state.Record
	for _, id := range []string{"a-full", "b-summary", "c-pending", "d-cancelled", "e-no-status", "f-history"} {
		r := FullRecord(id)
		switch id {
		case "c-pending":
			r = PendingRecord(id)
		case "d-cancelled":
			r.Phase, r.Status = state.Cancelled, "cancelled"
		case "e-no-status":
			r.Status, r.Currency, r.Amount, r.DetailsKnown = "", "", "", false
		}
		rs = append(rs, r)
	}
	put(t, s, rs...)
	in := []state.Incoming{{
		ForeignID: "f-history", InvoiceID: rs[5].ID,
		Callback: state.Callback{ReceivedAt: time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC), Status: "confirmed", BodyHash: strings.Repeat("ab", 32)},
	}}
	if cs, ok := s.(state.CallbackStore); ok {
		if _, err := cs.RecordCallbacks(ctx, in); err != nil {
			t.Fatalf("RecordCallbacks: %v", err)
		}
	}
	whole := snapshot(t, s)
	seen := map[string]state.Summary{}
	got, err := state.SnapshotWith(ctx, s, state.SnapshotOptions{Full: func(sum state.Summary) bool {
		seen[sum.ForeignID] = sum
		return sum.ForeignID == "a-full" || sum.Phase == state.Pending
	}})
	if err != nil {
		t.Fatalf("SnapshotWith: %v", err)
	}
	if got.Lineage != whole.Lineage || got.Serial != whole.Serial || got.Binding != whole.Binding || len(got.Unknown) != len(whole.Unknown) {
		t.Errorf("SnapshotWith's meta differs from Snapshot's: %+v, want %+v", got, whole)
	}
	if len(got.Records) != len(whole.Records) {
		t.Fatalf("SnapshotWith: %d records, Snapshot %d", len(got.Records), len(whole.Records))
	}
	_, summarizes := s.(state.SnapshotWither)
	for id, w := range whole.Records {
		g := got.Records[id]
		if g == nil {
			t.Errorf("%s: missing from SnapshotWith", id)
			continue
		}
		if _, called := seen[id]; summarizes && !called {
			t.Errorf("%s: Full was not asked", id)
		}
		if summarizes && seen[id] != w.Summarize() {
			t.Errorf("%s: Full saw %+v, want %+v", id, seen[id], w.Summarize())
		}
		want := w.Summarized()
		if !summarizes || id == "a-full" || w.Phase == state.Pending {
			want = w
		}
		if !reflect.DeepEqual(g, want) {
			t.Errorf("%s: SnapshotWith gave\n%+v\nwant\n%+v", id, g, want)
		}
	}
	// Sorted: the same records, by InOrder and Lookup; a store that gives Sorted builds no map.
	sorted, err := state.SnapshotWith(ctx, s, state.SnapshotOptions{Sorted: true, Full: func(sum state.Summary) bool {
		return sum.ForeignID == "a-full" || sum.Phase == state.Pending
	}})
	if err != nil {
		t.Fatalf("SnapshotWith Sorted: %v", err)
	}
	CheckSorted(t, sorted)
	if sorted.Sorted != nil && sorted.Records != nil {
		t.Error("SnapshotWith Sorted gave Sorted and built Records too")
	}
	ordered := sorted.InOrder()
	if len(ordered) != len(got.Records) {
		t.Fatalf("SnapshotWith Sorted: %d records in order, want %d", len(ordered), len(got.Records))
	}
	for i, r := range ordered {
		if i > 0 && ordered[i-1].ForeignID >= r.ForeignID {
			t.Errorf("InOrder: %q before %q", ordered[i-1].ForeignID, r.ForeignID)
		}
		if !reflect.DeepEqual(r, got.Records[r.ForeignID]) || !reflect.DeepEqual(sorted.Lookup(r.ForeignID), r) {
			t.Errorf("%s: SnapshotWith Sorted gave\n%+v\nwant\n%+v", r.ForeignID, r, got.Records[r.ForeignID])
		}
	}
	if sorted.Lookup("zz-not-there") != nil {
		t.Error("Lookup found a record that is not in the state")
	}
	// Nil Full reads every record whole.
	all, err := state.SnapshotWith(ctx, s, state.SnapshotOptions{})
	if err != nil {
		t.Fatalf("SnapshotWith: %v", err)
	}
	if !reflect.DeepEqual(all.Records, whole.Records) {
		t.Error("SnapshotWith without Full differs from Snapshot")
	}
}
