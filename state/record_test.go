package state_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/statetest"
)

func TestRedactedLeavesRecord(t *testing.T) {
	r := statetest.FullRecord("a")
	orig := r.Clone()
	red := r.Redacted()
	if d := cmp.Diff(orig, r); d != "" {
		t.Fatalf("Redacted changed the record:\n%s", d)
	}
	if bytes.Contains(red.Body, []byte("buyer@example.com")) || bytes.Contains(red.Body, []byte("Friedrich")) {
		t.Fatalf("redacted body still has personal data: %s", red.Body)
	}
}

func TestReadExport(t *testing.T) {
	snap := &state.Snapshot{Lineage: "lin", Serial: 3, Records: map[string]*state.Record{
		"a": statetest.FullRecord("a"), "p": statetest.PendingRecord("p")}}
	var buf bytes.Buffer
	if err := state.WriteExport(&buf, snap); err != nil {
		t.Fatal(err)
	}
	got, err := state.ReadExport(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(snap, got); d != "" {
		t.Fatalf("export round trip (-want +got):\n%s", d)
	}
	good := buf.String()
	// A version 1 document (before callbacks) is still read.
	if _, err := state.ReadExport(strings.NewReader(strings.Replace(good, `"version": 2`, `"version": 1`, 1))); err != nil {
		t.Fatalf("version 1 export: %v", err)
	}
	bad := []struct {
		name, doc string
		want      error
	}{
		{"not JSON", "{", state.ErrCorrupt},
		{"other format", strings.Replace(good, `"invoiceform-state"`, `"terraform"`, 1), state.ErrCorrupt},
		{"newer version", strings.Replace(good, `"version": 2`, `"version": 3`, 1), state.ErrNewerFormat},
		{"unknown field", strings.Replace(good, `"serial": 3`, `"serial": 3, "extra": 1`, 1), state.ErrCorrupt},
		{"body changed", strings.Replace(good, `buyer@example.com`, `buyer@example.org`, 1), state.ErrCorrupt},
		{"no lineage", strings.Replace(good, `"lineage": "lin"`, `"lineage": ""`, 1), state.ErrCorrupt},
		{"duplicate", strings.Replace(good, `"foreign_id": "p"`, `"foreign_id": "a"`, 1), state.ErrCorrupt},
		{"unknown phase", strings.Replace(good, `"phase": "pending"`, `"phase": "failed"`, 1), state.ErrCorrupt},
		{"foreign_id edited", strings.Replace(good, `"foreign_id": "p"`, `"foreign_id": "q"`, 1), state.ErrCorrupt},
		{"huge format", strings.Replace(good, `"invoiceform-state"`, `"`+strings.Repeat("x", 1<<20)+`"`, 1), state.ErrCorrupt},
	}
	for _, c := range bad {
		if c.doc == good {
			t.Fatalf("%s: the replacement did not apply", c.name)
		}
		if _, err := state.ReadExport(strings.NewReader(c.doc)); !errors.Is(err, c.want) || len(err.Error()) > 1024 {
			t.Errorf("%s: %.300v, want %v in a message of at most 1 KB", c.name, err, c.want)
		}
	}
}
