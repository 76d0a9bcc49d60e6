package state_test

import (
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/state"
)

func hash(c byte) string { return strings.Repeat(string(c), 64) }

func cb(status, h string) state.Callback {
	return state.Callback{ReceivedAt: time.Unix(1700000000, 0).UTC(), Status: status, BodyHash: h}
}

// TestDecide is the status transition rule as a table: every status before, every status of
// the callback, and the same body twice.
func TestDecide(t *testing.T) {
	S, A, D := state.Stale, state.Applied, state.Duplicate
	statuses := []string{"created", "pending", "processing", "confirmed", "failed"}
	// want[before][callback], before "" first (an adopted invoice).
	want := map[string][5]state.Outcome{
		"":           {A, A, A, A, A},
		"created":    {A, A, A, A, A},
		"pending":    {S, A, A, A, A},
		"processing": {S, S, A, A, A},
		"confirmed":  {S, S, S, S, S},
		"failed":     {S, S, S, S, S},
	}
	for before, row := range want {
		for i, st := range statuses {
			c := cb(st, hash('b'))
			if got := state.Decide(before, []state.Callback{cb(before+"x", hash('a'))}, &c); got != row[i] {
				t.Errorf("status %q, callback %q: %v, want %v", before, st, got, row[i])
			}
			if got := state.Decide(before, []state.Callback{cb(st, hash('b'))}, &c); got != D {
				t.Errorf("status %q, callback %q seen before: %v, want duplicate", before, st, got)
			}
		}
	}
}

func TestApplyHistory(t *testing.T) {
	r := &state.Record{ForeignID: "a", Phase: state.Issued, Status: "created"}
	steps := []struct {
		cb     state.Callback
		want   state.Outcome
		status string
		n      int
	}{
		{cb("pending", hash('1')), state.Applied, "pending", 1},
		{cb("pending", hash('2')), state.Applied, "pending", 2}, // a part payment
		{cb("pending", hash('2')), state.Duplicate, "pending", 2},
		{cb("processing", hash('3')), state.Applied, "processing", 3},
		{cb("pending", hash('4')), state.Stale, "processing", 3}, // out of order
		{cb("confirmed", hash('5')), state.Applied, "confirmed", 4},
		{cb("processing", hash('6')), state.Stale, "confirmed", 4}, // late
		{cb("failed", hash('7')), state.Stale, "confirmed", 4},
	}
	for i, s := range steps {
		if got := r.Apply(s.cb); got != s.want || r.Status != s.status || len(r.History) != s.n {
			t.Fatalf("step %d: %v, status %q, %d in history; want %v, %q, %d", i, got, r.Status, len(r.History), s.want, s.status, s.n)
		}
	}
	if r.PaidAt.IsZero() {
		t.Fatal("confirmed without paid_at")
	}
}

func TestMergeCallbacks(t *testing.T) {
	old := &state.Record{ForeignID: "a", Status: "processing", History: []state.Callback{cb("processing", hash('1'))}}
	for _, c := range []struct{ put, want string }{
		{"created", "processing"}, {"pending", "processing"}, {"failed", "failed"}, {"confirmed", "confirmed"},
	} {
		m := state.MergeCallbacks(old, &state.Record{ForeignID: "a", Status: c.put})
		if m.Status != c.want || len(m.History) != 1 {
			t.Errorf("put %q over processing: %q with %d in history, want %q with 1", c.put, m.Status, len(m.History), c.want)
		}
	}
	final := &state.Record{ForeignID: "a", Status: "confirmed", History: []state.Callback{cb("confirmed", hash('1'))}}
	if m := state.MergeCallbacks(final, &state.Record{ForeignID: "a", Status: "failed"}); m.Status != "confirmed" {
		t.Errorf("put failed over confirmed: %q", m.Status)
	}
	plain := &state.Record{ForeignID: "a", Status: "created"}
	if m := state.MergeCallbacks(plain, &state.Record{ForeignID: "a", Status: "pending"}); m.Status != "pending" {
		t.Errorf("a record without history is replaced: %q", m.Status)
	}
}
