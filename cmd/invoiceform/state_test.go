package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/state/boltstate"
)

// TestStateLocked runs the state commands while the state is held by a writer: each waits
// -lock-timeout, then fails with a message that says why and how to wait longer. (The
// cross-process form of this is in state/boltstate.)
func TestStateLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invoiceform.state")
	s, err := boltstate.Open(path, boltstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// import reads its file before it takes the lock: give it a valid export.
	export := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(export, []byte(`{"format":"invoiceform-state","version":1,"lineage":"l","serial":1,"binding":{"endpoint":"","key_fingerprint":""},"records":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"state", "list", "-lock-timeout=100ms"},
		{"state", "show", "x"},
		{"state", "export", "-lock-timeout=50ms"},
		{"state", "rm", "x"},
		{"state", "import", "-lock-timeout=10ms", export},
	} {
		var stdout, stderr bytes.Buffer
		args = append(args[:2], append([]string{"-state=" + path}, args[2:]...)...)
		code := run(context.Background(), args, &env{stdout: &stdout, stderr: &stderr})
		msg := stderr.String()
		if code != exitError || !strings.Contains(msg, "state is locked by another invoiceform process") || !strings.Contains(msg, "-lock-timeout") {
			t.Errorf("%q: exit %d, stderr %q; want 1 and the lock message", args, code, msg)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the state changed")
	}
}
