package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/invoiceform/invoiceform/config"
)

func TestReadRegularFile(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(plain, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := config.ReadRegularFile(plain, 5); err != nil || string(b) != "12345" {
		t.Fatalf("got %q, %v", b, err)
	}
	if _, err := config.ReadRegularFile(plain, 4); !errors.Is(err, config.ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	// None of these may block or read for ever: the test would hang or run out of memory.
	for path, want := range map[string]string{
		fifo:                    "a named pipe (FIFO)",
		"/dev/zero":             "a device",
		dir:                     "a directory",
		filepath.Join(dir, "x"): "no such file",
	} {
		_, err := config.ReadRegularFile(path, 1<<30)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming it and %q", path, err, want)
		}
	}
}
