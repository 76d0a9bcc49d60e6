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

// TestConfigFilesMustBeRegularInside: a *.hcl file that is a symbolic link leading out of the
// directory, or that is not a regular file, is refused by name, with nothing of its content
// in any diagnostic; a link to a regular file inside the directory is read.
func TestConfigFilesMustBeRegularInside(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cfg")
	const canary = "CANARY-outside-7d1e"
	valid := "invoice \"order-1\" {\n  title = \"t\"\n  currency = \"EUR\"\n  amount = \"1.00\"\n  timer = false\n" +
		"  end_user_reference = \"c-1\"\n  url_success = \"https://shop.example.com/ok\"\n  url_failed = \"https://shop.example.com/no\"\n" +
		"  email_user = \"b@example.com\"\n}\n"
	for name, data := range map[string]string{
		filepath.Join(root, "outside.hcl"):    "secret = \"" + canary + "\"\n",
		filepath.Join(dir, "main.hcl"):        valid,
		filepath.Join(dir, "sub", "more.txt"): "# nothing\n",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A link inside the directory is fine.
	if err := os.Symlink("sub/more.txt", filepath.Join(dir, "more.hcl")); err != nil {
		t.Skip("symlinks:", err)
	}
	mustLoad(t, dir, config.LoadOptions{})

	for name, c := range map[string]struct {
		make func(path string) error
		want string
	}{
		"environ.hcl":  {func(p string) error { return os.Symlink("/proc/self/environ", p) }, "leads outside the configuration directory"},
		"out.hcl":      {func(p string) error { return os.Symlink("../outside.hcl", p) }, "leads outside the configuration directory"},
		"abs.hcl":      {func(p string) error { return os.Symlink(filepath.Join(root, "outside.hcl"), p) }, "leads outside the configuration directory"},
		"dangling.hcl": {func(p string) error { return os.Symlink("nothing-here", p) }, "leads to nothing"},
		"zero.hcl":     {func(p string) error { return os.Symlink("/dev/zero", p) }, "leads outside the configuration directory"},
		"dir.hcl":      {func(p string) error { return os.Mkdir(p, 0o755) }, "it is a directory"},
		"subdir.hcl":   {func(p string) error { return os.Symlink("sub", p) }, "it is a directory"},
		"fifo.hcl":     {func(p string) error { return syscall.Mkfifo(p, 0o600) }, "named pipe"},
		// The currencies lock file is read the same way.
		config.CurrencyLockFile: {func(p string) error { return os.Symlink("/proc/self/environ", p) }, "leads outside the configuration directory"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := c.make(path); err != nil {
				t.Skip(err)
			}
			defer os.Remove(path)
			cfg, diags := config.Load(dir, config.LoadOptions{Today: today})
			if !diags.HasErrors() {
				t.Fatal("loaded")
			}
			text := diags.Error()
			if !strings.Contains(text, name) || !strings.Contains(text, c.want) {
				t.Errorf("got %s, want it to name %s and say %q", text, name, c.want)
			}
			if strings.Contains(text, canary) || strings.Contains(text, "PATH=") {
				t.Errorf("the diagnostic shows the file's content: %s", text)
			}
			for fn, f := range cfg.Files {
				if strings.Contains(string(f.Bytes), canary) || strings.Contains(string(f.Bytes), "PATH=") {
					t.Errorf("%s: the content of %s is kept for showing", fn, name)
				}
			}
		})
	}
}
