package plan_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/invoiceform/invoiceform/plan"
)

// FuzzDecode: any plan payload, wrapped with a correct checksum so that the fuzzer gets past
// it to the content, gives a plan or an error with a message, never a panic; a plan that
// decodes renders in every view and saves again. The same bytes read as a whole file (no
// envelope: another program's JSON, a truncated file) are refused with a message too.
func FuzzDecode(f *testing.F) {
	data, err := plan.Encode(everyAction(), now)
	if err != nil {
		f.Fatal(err)
	}
	var env struct {
		Plan json.RawMessage `json:"plan"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(env.Plan))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"changes":[{"action":"create","foreign_id":"a"}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		sum := sha256.Sum256(payload)
		var b bytes.Buffer
		b.WriteString(`{"format":"invoiceform-plan","version":2,"created_at":"2026-11-24T04:00:00Z","checksum":"sha256:`)
		b.WriteString(hex.EncodeToString(sum[:]))
		b.WriteString(`","plan":`)
		b.Write(payload)
		b.WriteString(`}`)
		if _, _, err := plan.Decode(payload); err == nil {
			t.Fatal("a file without the plan envelope and checksum was accepted")
		} else if err.Error() == "" {
			t.Fatal("error with an empty message")
		}
		p, _, err := plan.Decode(b.Bytes())
		if err != nil {
			if err.Error() == "" {
				t.Fatal("error with an empty message")
			}
			return
		}
		for _, view := range []string{"txt", "json", "md"} {
			render(t, p, view, plan.ViewOptions{})
		}
		if !p.HasErrors() {
			if _, err := plan.Encode(p, now); err != nil {
				t.Fatal(err)
			}
		}
	})
}
