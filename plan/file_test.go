package plan_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

var now = time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC)

func TestFileRoundTrip(t *testing.T) {
	p := everyAction()
	path := filepath.Join(t.TempDir(), "plan.bin")
	must(t, plan.WriteFile(path, p, now))
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", fi.Mode().Perm())
	}
	got, created, err := plan.ReadFile(path)
	must(t, err)
	if !created.Equal(now) {
		t.Errorf("created %v, want %v", created, now)
	}
	if got.Hash() != p.Hash() || got.ConfigHash != p.ConfigHash || got.Lineage != p.Lineage || got.Serial != p.Serial || got.Binding != p.Binding {
		t.Errorf("read plan differs: hash %s/%s", got.Hash(), p.Hash())
	}
	// The file keeps no body: a read plan has none until Verify gives them back from the
	// configuration; then they are the exact bytes of the configuration.
	for _, c := range got.Changes {
		if c.Body() != nil {
			t.Errorf("%s: a body read from the file", c.ForeignID)
		}
	}
	invs, snap, _ := everyActionInputs()
	must(t, plan.Verify(got, invs, snap))
	for i, c := range p.Changes {
		if c.Action == plan.NoOp {
			continue
		}
		if !bytes.Equal(got.Changes[i].Body(), c.Body()) {
			t.Errorf("%s: body %s, want %s", c.ForeignID, got.Changes[i].Body(), c.Body())
		}
	}
	// The Markdown of the saved plan, which holds no body, matches the plan's own whether or
	// not the configuration is at hand.
	saved, _, err := plan.ReadFile(path)
	must(t, err)
	if diff := cmp.Diff(string(render(t, p, "md", plan.ViewOptions{})), string(render(t, saved, "md", plan.ViewOptions{}))); diff != "" {
		t.Errorf("md view of the saved plan differs:\n%s", diff)
	}
}

// TestFileHoldsNoPersonalData: the plan file holds no request body and none of the personal
// data (nor anything else of the bodies but currency and amount).
func TestFileHoldsNoPersonalData(t *testing.T) {
	data, err := plan.Encode(everyAction(), now)
	must(t, err)
	for _, s := range []string{"buyer@example.com", "Friedrich", "Müller", "1995-08-17", "shop.example.com", "cust-1", "Order order-1", `"body"`, "email_user", "sender_data"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the plan file holds %q:\n%s", s, data)
		}
	}
}

func TestFileWithErrorsRefused(t *testing.T) {
	err := plan.WriteFile(filepath.Join(t.TempDir(), "p"), conflictPlan(), now)
	if err == nil || !strings.Contains(err.Error(), "a plan with errors cannot be saved") {
		t.Fatalf("err = %v", err)
	}
}

func TestFileTamperedRefused(t *testing.T) {
	data, err := plan.Encode(everyAction(), now)
	must(t, err)
	tests := map[string]struct {
		data []byte
		want string // what the message says besides ErrCorrupt's text
	}{
		"truncated":       {data[:len(data)/2], fmt.Sprintf("(after %d bytes: the file is cut short)", len(data)/2)},
		"empty":           {[]byte{}, "(after 0 bytes: the file is cut short)"},
		"syntax altered":  {bytes.Replace(data, []byte(`"format":`), []byte(`"format!`), 1), "at byte 11 of"},
		"amount altered":  {bytes.Replace(data, []byte(`"amount":"1234.5"`), []byte(`"amount":"9234.5"`), 1), "checksum mismatch"},
		"serial altered":  {bytes.Replace(data, []byte(`"serial":7`), []byte(`"serial":8`), 1), "checksum mismatch"},
		"checksum forged": {bytes.Replace(data, []byte(`"checksum":"sha256:`), []byte(`"checksum":"sha256:0`), 1), "checksum mismatch"},
		"not a plan":      {[]byte(`{"format":"invoiceform-state","version":1}`), `format is "invoiceform-state", want "invoiceform-plan"`},
		"huge format":     {[]byte(`{"format":"` + strings.Repeat("x", 1<<20) + `"}`), `format is "` + strings.Repeat("x", 64) + `"..., want`},
	}
	for name, bad := range tests {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(bad.data, data) {
				t.Fatal("the alteration did not apply")
			}
			_, _, err := plan.Decode(bad.data)
			if !errors.Is(err, plan.ErrCorrupt) || !strings.Contains(err.Error(), bad.want) || len(err.Error()) > 1024 {
				t.Fatalf("err = %.300v, want ErrCorrupt and %q", err, bad.want)
			}
		})
	}
	newer := bytes.Replace(data, []byte(`"version":2`), []byte(`"version":3`), 1)
	if _, _, err := plan.Decode(newer); !errors.Is(err, plan.ErrNewerFormat) {
		t.Errorf("newer version: err = %v", err)
	}
	older := bytes.Replace(data, []byte(`"version":2`), []byte(`"version":1`), 1)
	if _, _, err := plan.Decode(older); !errors.Is(err, plan.ErrOlderFormat) || !strings.Contains(err.Error(), "version 1, which held the request bodies") {
		t.Errorf("older version: err = %v", err)
	}
}

func TestCheckFresh(t *testing.T) {
	p := everyAction()
	snap := snapshot()
	bind := state.Binding{Endpoint: "https://app.sandbox.cryptoprocessing.com/api/v2", KeyFingerprint: "db6bcf6a2a36ee93"}
	snap.Binding = bind
	must(t, plan.CheckFresh(p, snap, bind))

	moved := snapshot()
	moved.Serial = 8
	other := snapshot()
	other.Lineage = "0000"
	boundElsewhere := snapshot()
	boundElsewhere.Binding = state.Binding{Endpoint: bind.Endpoint, KeyFingerprint: "ffff"}
	tests := []struct {
		name string
		snap *state.Snapshot
		bind state.Binding
		want error
		msg  string
	}{
		{"serial moved", moved, bind, plan.ErrStale, "serial 7 when planned, 8 now"},
		{"other lineage", other, bind, plan.ErrStale, `another state (lineage "6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10"; this state's is "0000")`},
		{"other endpoint", snapshot(), state.Binding{Endpoint: "https://app.cryptoprocessing.com/api/v2", KeyFingerprint: bind.KeyFingerprint}, plan.ErrForeign, "made for endpoint https://app.sandbox.cryptoprocessing.com/api/v2"},
		{"other key", snapshot(), state.Binding{Endpoint: bind.Endpoint, KeyFingerprint: "0123"}, plan.ErrForeign, "fingerprint db6bcf6a2a36ee93, and apply would use 0123"},
		{"state bound elsewhere", boundElsewhere, bind, state.ErrForeign, "bound to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := plan.CheckFresh(p, tt.snap, tt.bind)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %v containing %q", err, tt.want, tt.msg)
			}
		})
	}
	// A plan made without a state file fits the empty state apply creates, and nothing else.
	fresh := plan.Make([]*config.Invoice{inv("a", "EUR", "1")}, nil, plan.Options{Endpoint: bind.Endpoint})
	must(t, plan.CheckFresh(fresh, &state.Snapshot{Lineage: "new-lineage"}, bind))
	if err := plan.CheckFresh(fresh, snapshot(rec(inv("a", "EUR", "1"), state.Pending, "")), bind); !errors.Is(err, plan.ErrStale) {
		t.Errorf("plan without a state against a used state: err = %v", err)
	}
	// A plan made without an API key (a pull request) fits the key apply uses.
	unbound := snapshot()
	unbound.Binding = state.Binding{}
	keyless := plan.Make(nil, unbound, plan.Options{Endpoint: bind.Endpoint})
	must(t, plan.CheckFresh(keyless, unbound, bind))
}

// TestEncodeTemp: the file EncodeTemp writes (payload first, its checksum's head after) is
// byte for byte Encode's, with mode 0600, and in place only after Commit; a check that
// refuses the payload leaves no file at all, and sees every byte the file would hold but the
// envelope's format, version, time and checksum.
func TestEncodeTemp(t *testing.T) {
	for _, times := range []time.Time{now, now.Add(123456789 * time.Nanosecond)} { // heads of two lengths
		p := everyAction()
		want, err := plan.Encode(p, times)
		must(t, err)
		dir := t.TempDir()
		path := filepath.Join(dir, "p.plan")
		var seen []byte
		f, err := plan.EncodeTemp(path, p, times, func(b []byte) error { seen = b; return nil })
		must(t, err)
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the plan file is in place before Commit: %v", err)
		}
		must(t, f.Commit())
		got, err := os.ReadFile(path)
		must(t, err)
		if !bytes.Equal(got, want) {
			t.Fatalf("EncodeTemp's file differs from Encode's:\n%s", cmp.Diff(string(want), string(got)))
		}
		if !bytes.Contains(got, seen) || len(got)-len(seen) > 200 {
			t.Errorf("the check saw %d of the file's %d bytes", len(seen), len(got))
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("plan file mode: %v %v", fi.Mode(), err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("the directory holds %d files after Commit, want the plan alone", len(entries))
		}
		if _, _, err := plan.ReadFile(path); err != nil {
			t.Errorf("the file does not read back: %v", err)
		}
	}
	dir := t.TempDir()
	refused := errors.New("refused")
	if _, err := plan.EncodeTemp(filepath.Join(dir, "p.plan"), everyAction(), now, func([]byte) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("a refusing check: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused plan left %d files", len(entries))
	}
}
