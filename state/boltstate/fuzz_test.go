package boltstate

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/state/statetest"
)

// FuzzDecodeRecord feeds arbitrary stored values to the decoder: it must never panic, a
// refusal is an error with a message, and whatever it accepts must survive an encode and
// decode unchanged.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(nil, statetest.FullRecord("full")))
	f.Add(encodeRecord(nil, statetest.PendingRecord("p")))
	j, _ := statetest.FullRecord("json").MarshalJSON()
	f.Add(j)
	f.Add([]byte(`{"body":""}`)) // once decoded to an empty, non-nil Body that did not round-trip
	f.Add([]byte{1})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeRecord(v)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("error with an empty message for %q", v)
			}
			return
		}
		again, err := decodeRecord(encodeRecord(nil, r))
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if d := cmp.Diff(r, again); d != "" {
			t.Fatalf("record changed in a round trip:\n%s", d)
		}
	})
}
