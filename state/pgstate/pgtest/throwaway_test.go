//go:build unix

package pgtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain: with PGTEST_HELPER_BASE set, the test binary is a test process of its own that
// uses the throwaway cluster of that directory: it prints the connection string and holds
// the cluster until its stdin closes.
func TestMain(m *testing.M) {
	if base := os.Getenv("PGTEST_HELPER_BASE"); base != "" {
		cs, _, err := acquire(base, os.Getenv("PGTEST_HELPER_BIN"))
		if err != nil {
			fmt.Println("error:", strings.ReplaceAll(err.Error(), "\n", " "))
			os.Exit(1)
		}
		fmt.Println(cs)
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestFindBinDir: where the binaries are looked for.
func TestFindBinDir(t *testing.T) {
	none := func(string) (string, error) { return "", osexec.ErrNotFound }
	if _, err := findBinDir(none, filepath.Join(t.TempDir(), "*", "bin")); !errors.Is(err, errNoBinaries) {
		t.Fatalf("no binaries anywhere: %v", err)
	}
	root := t.TempDir()
	fake := func(dir string, names ...string) string {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	fake(filepath.Join(root, "9", "bin"), "initdb", "pg_ctl", "postgres")
	v16 := fake(filepath.Join(root, "16", "bin"), "initdb", "pg_ctl", "postgres")
	fake(filepath.Join(root, "17", "bin"), "initdb", "pg_ctl") // incomplete
	if got, err := findBinDir(none, filepath.Join(root, "*", "bin")); got != v16 || err != nil {
		t.Errorf("newest complete version: %q, %v; want %q", got, err, v16)
	}
	onPath := fake(filepath.Join(root, "path"), "initdb", "pg_ctl", "postgres")
	lookPath := func(name string) (string, error) {
		if name == "initdb" {
			return filepath.Join(onPath, name), nil
		}
		return "", osexec.ErrNotFound
	}
	if got, err := findBinDir(lookPath, filepath.Join(root, "none", "bin")); got != onPath || err != nil {
		t.Errorf("initdb on PATH: %q, %v; want %q", got, err, onPath)
	}
	pgConfig := filepath.Join(fake(filepath.Join(root, "config")), "pg_config")
	if err := os.WriteFile(pgConfig, []byte("#!/bin/sh\necho "+v16+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	lookPath = func(name string) (string, error) {
		if name == "pg_config" {
			return pgConfig, nil
		}
		return filepath.Join(onPath, name), nil
	}
	if got, err := findBinDir(lookPath, filepath.Join(root, "none", "bin")); got != v16 || err != nil {
		t.Errorf("pg_config --bindir first: %q, %v; want %q", got, err, v16)
	}
}

// TestThrowawayCluster starts a throwaway cluster of its own (in a directory of its own, so
// that it does not meet the run's) for several test processes at once: one cluster, which
// serves them all and is gone, with every process of it, when the last one is done.
func TestThrowawayCluster(t *testing.T) {
	bin, err := findBinDir(osexec.LookPath, binGlob)
	if err != nil {
		t.Skip("no throwaway cluster without PostgreSQL: ", err)
	}
	// Not t.TempDir: as root, the server's user must reach its data directory in it.
	base, err := os.MkdirTemp("", "invoiceform-pgtest-test-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{base: base}
	t.Cleanup(func() {
		if pid := postmasterPID(c.data()); pid > 0 && alive(pid) {
			t.Errorf("the server (pid %d) still runs: stopping it", pid)
			c.stop()
		}
		_ = os.RemoveAll(base)
	})

	type helper struct {
		cmd   *osexec.Cmd
		stdin io.WriteCloser
		cs    chan string
	}
	var helpers []helper
	for range 3 { // at once: they race to start the cluster
		cmd := osexec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "PGTEST_HELPER_BASE="+base, "PGTEST_HELPER_BIN="+bin)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		h := helper{cmd, stdin, make(chan string, 1)}
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			h.cs <- strings.TrimSpace(line)
			_, _ = io.Copy(io.Discard, stdout)
		}()
		helpers = append(helpers, h)
		t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	}
	var cs string
	for i, h := range helpers {
		got := <-h.cs
		if !strings.HasPrefix(got, "postgres://root@127.0.0.1:") {
			t.Fatalf("helper %d: %q", i, got)
		}
		if i > 0 && got != cs {
			t.Fatalf("two clusters: %q and %q", cs, got)
		}
		cs = got
	}
	// This process joins: the same cluster, which answers, with a database test.
	joined, users, err := acquire(base, bin)
	if err != nil {
		t.Fatal(err)
	}
	if joined != cs {
		t.Fatalf("joined %q, want %q", joined, cs)
	}
	if err := ping(cs); err != nil {
		t.Fatal(err)
	}
	pid := postmasterPID(c.data())
	if pid <= 0 || !alive(pid) {
		t.Fatalf("no server process in %s", c.data())
	}
	if os.Geteuid() == 0 {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err == nil && strings.Contains(string(st), "\nUid:\t0\t") {
			t.Errorf("the server runs as root:\n%s", st)
		}
	}
	// Anyone on the machine may connect, as on the CI server, but the tests' role is no
	// superuser, and the superuser needs a password that no one knows.
	if err := execSQL(cs, "CREATE ROLE invoiceform_t_check; DROP ROLE invoiceform_t_check"); err != nil {
		t.Errorf("root cannot create roles: %v", err)
	}
	if err := execSQL(cs, "COPY (SELECT 1) TO PROGRAM 'true'"); err == nil {
		t.Errorf("root may run programs on the server")
	}
	if err := ping(strings.Replace(cs, "root@", adminRole+"@", 1)); err == nil {
		t.Errorf("the superuser connects without a password")
	}

	// The users leave one by one: the cluster stays while one remains.
	for i, h := range helpers {
		h.stdin.Close()
		if err := h.cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v", i, err)
		}
		if err := ping(cs); err != nil {
			t.Fatalf("after %d of 4 users left: %v", i+1, err)
		}
	}
	users.Close()
	if !waitGone(pid, 20*time.Second) {
		t.Fatalf("the server (pid %d) runs on after its last user left", pid)
	}
	for deadline := 0; deadline < 400; deadline++ { // the reaper removes the directory next
		if _, err := os.Stat(c.data()); errors.Is(err, os.ErrNotExist) {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if _, err := os.Stat(c.data()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data directory is left: %v", err)
	}
	if lock, err := lockFile(filepath.Join(base, "reaper.lock"), syscall.LOCK_EX, 10*time.Second); err != nil {
		t.Errorf("the reaper holds on: %v", err)
	} else {
		lock.Close()
	}
	if out, err := osexec.Command("pgrep", "-f", base).Output(); err == nil {
		t.Errorf("processes of the cluster are left:\n%s", out)
	}
	log, _ := os.ReadFile(filepath.Join(base, "reaper.log"))
	if !strings.Contains(string(log), "cluster stopped and removed") {
		t.Errorf("reaper.log: %q", log)
	}
}
