package apply_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
)

func TestAdopt(t *testing.T) {
	ctx := context.Background()
	store, err := boltstate.Open(filepath.Join(t.TempDir(), "invoiceform.state"), boltstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	body := func(id string) []byte {
		r := invoice.Request{Title: "T", Currency: "EUR", Amount: invoice.MustParseAmount("10.5"), ForeignID: id, EndUserReference: "e",
			URLSuccess: "https://s.example", URLFailed: "https://f.example", EmailUser: "a@example.com"}
		return r.Encode()
	}
	pending := body("pending-1")
	if err := store.Put(ctx, &state.Record{ForeignID: "pending-1", Phase: state.Pending, Body: pending, BodyHash: invoice.Hash(pending)}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

	// One that may not be adopted makes the whole call fail; nothing is written.
	_, err = apply.Adopt(ctx, store, []apply.Adoptee{{ForeignID: "a", Body: body("a")}, {ForeignID: "pending-1", Body: pending}}, now)
	if !errors.Is(err, apply.ErrNotAdoptable) || !strings.Contains(err.Error(), `"pending-1" is pending`) {
		t.Fatalf("adopting a pending record: %v", err)
	}
	snap, err := store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Records["a"] != nil || snap.Serial != 1 {
		t.Fatalf("a refused adoption wrote: %v, serial %d", snap.Records["a"], snap.Serial)
	}

	recs, err := apply.Adopt(ctx, store, []apply.Adoptee{{ForeignID: "a", Body: body("a")}, {ForeignID: "b", Body: body("b")}}, now)
	if err != nil || len(recs) != 2 {
		t.Fatalf("Adopt: %v %v", recs, err)
	}
	snap, err = store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		r := snap.Records[id]
		if r == nil || r.Phase != state.Issued || r.DetailsKnown || r.ID != 0 || r.URL != "" || string(r.Body) != string(body(id)) || !r.IssuedAt.Equal(now) {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if snap.Serial != 2 {
		t.Errorf("serial %d: the adoption is not one write", snap.Serial)
	}
	if _, err := apply.Adopt(ctx, store, []apply.Adoptee{{ForeignID: "a", Body: body("a")}}, now); !errors.Is(err, apply.ErrNotAdoptable) || !strings.Contains(err.Error(), "already recorded as issued") {
		t.Fatalf("adopting twice: %v", err)
	}
}
