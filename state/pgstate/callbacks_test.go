package pgstate_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// TestTwoReceivers: two callback stores (two serve processes) given the same callbacks
// concurrently, while a writer holds the workspace's advisory lock (an apply), record each
// callback once.
func TestTwoReceivers(t *testing.T) {
	cs := pgtest.ConnString(t)
	ctx := context.Background()
	ws := pgtest.Workspace(t, cs)
	writer := open(t, cs, pgstate.Options{Workspace: ws})
	const n = 40
	for i := range n {
		if err := writer.Put(ctx, statetest.FullRecord(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	a := open(t, cs, pgstate.Options{Workspace: ws, Callbacks: true})
	b := open(t, cs, pgstate.Options{Workspace: ws, Callbacks: true})
	if err := a.Put(ctx, statetest.PendingRecord("x")); !errors.Is(err, state.ErrReadOnly) {
		t.Fatalf("Put on a callbacks store: %v, want ErrReadOnly", err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var in []state.Incoming
	for i := range n {
		id := fmt.Sprintf("r%02d", i)
		for j, st := range []string{"pending", "processing", "confirmed"} {
			in = append(in, state.Incoming{ForeignID: id, Callback: statetest.Callback(st, id+st, at.Add(time.Duration(j)*time.Second))})
		}
	}
	in = append(in, state.Incoming{ForeignID: "nobody", Callback: statetest.Callback("pending", "nobody", at)})
	var wg sync.WaitGroup
	var mu sync.Mutex
	applied := map[string]int{}
	for _, s := range []*pgstate.Store{a, b, a, b} {
		wg.Go(func() {
			for k := 0; k < len(in); k += 7 {
				out, err := s.RecordCallbacks(ctx, in[k:min(k+7, len(in))])
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, o := range out {
					if o == state.Applied {
						applied[in[k+i].Callback.BodyHash]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for h, c := range applied {
		if c != 1 {
			t.Errorf("callback %s applied %d times", h, c)
		}
	}
	snap, err := writer.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := snap.Records[fmt.Sprintf("r%02d", i)]
		if r.Status != "confirmed" || len(r.History) != 3 || len(applied) != 3*n {
			t.Fatalf("%s: %s with %d callbacks, %d applied in all; want confirmed, 3, %d", r.ForeignID, r.Status, len(r.History), len(applied), 3*n)
		}
	}
	if len(snap.Unknown) != 1 {
		t.Fatalf("%d unknown callbacks, want 1", len(snap.Unknown))
	}
}

// TestMigrateSchema1: a schema of version 1 (no history) is migrated, its records kept.
func TestMigrateSchema1(t *testing.T) {
	cs := pgtest.ConnString(t)
	ctx := context.Background()
	schema := pgtest.Schema(t, cs)
	s := open(t, cs, pgstate.Options{Schema: schema})
	if err := s.Put(ctx, statetest.FullRecord("a")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	q := pgx.Identifier{schema}.Sanitize()
	for _, sql := range []string{
		"DROP TABLE " + q + ".unknown_callbacks",
		"ALTER TABLE " + q + ".records DROP COLUMN history, DROP COLUMN paid_at_ns",
		"UPDATE " + q + ".schema_version SET version = 1",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, cs, pgstate.Options{Schema: schema})
	if len(s.Notes) == 0 {
		t.Error("no note about the migration")
	}
	snap, err := s.Snapshot(ctx)
	if err != nil || snap.Records["a"] == nil || snap.Records["a"].Status != "created" {
		t.Fatalf("after migration: %v", err)
	}
	out, err := s.RecordCallbacks(ctx, []state.Incoming{{ForeignID: "a", Callback: statetest.Callback("pending", "1", time.Now())}})
	if err != nil || out[0] != state.Applied {
		t.Fatalf("%v %v", out, err)
	}
}
