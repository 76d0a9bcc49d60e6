package boltstate_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// helper starts this test binary as a helper process (runHelper) and makes sure it is killed
// and reaped when the test ends.
func helper(t *testing.T, kind, path string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	cmd := helperCommand(kind, path)
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
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	return cmd, stdin, sc
}

// helperCommand is the (unstarted) helper process running runHelper.
func helperCommand(kind, path string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"BOLTSTATE_HELPER=" + kind, "BOLTSTATE_PATH=" + path}, env...)...)
	return cmd
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	path := newPath(t)
	cmd, stdin, out := helper(t, "lock", path)
	if !out.Scan() || out.Text() != "locked" {
		t.Fatalf("helper: %q %v", out.Text(), out.Err())
	}
	for _, ro := range []bool{false, true} {
		_, err := boltstate.Open(path, boltstate.Options{ReadOnly: ro, LockTimeout: 200 * time.Millisecond})
		if !errors.Is(err, state.ErrLocked) {
			t.Fatalf("Open(read-only=%v) while another process holds the lock: %v, want ErrLocked", ro, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "locked by another invoiceform process") || !strings.Contains(msg, path) {
			t.Fatalf("message %q should name the file and say another invoiceform process holds it (the command adds how to wait longer)", msg)
		}
	}
	// Once the helper lets go, the lock is ours, and waiting for it works too: the open below
	// starts while the helper still holds the lock.
	done := make(chan error, 1)
	go func() {
		s, err := boltstate.Open(path, boltstate.Options{LockTimeout: time.Minute})
		if err == nil {
			err = s.Close()
		}
		done <- err
	}()
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Open after the helper exited: %v", err)
	}
}

func TestReadersShareAcrossProcesses(t *testing.T) {
	path := newPath(t)
	s := open(t, path, boltstate.Options{})
	s.Close()
	// A helper process reads (shared lock); readers here get in, a writer does not.
	cmd, stdin, out := helper(t, "rlock", path)
	if !out.Scan() || out.Text() != "locked" {
		t.Fatalf("helper: %q %v", out.Text(), out.Err())
	}
	open(t, path, boltstate.Options{ReadOnly: true})
	open(t, path, boltstate.Options{ReadOnly: true})
	if _, err := boltstate.Open(path, boltstate.Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("writer while a reader process holds the file: %v, want ErrLocked", err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestCrashConsistency kills a writing process with SIGKILL at a random moment, several
// times over the same file, and checks that the file opens cleanly and holds every record
// whose Put had returned. Set BOLTSTATE_CRASH_SEED to replay a failure.
func TestCrashConsistency(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BOLTSTATE_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	path := newPath(t)
	start := func(round int) *exec.Cmd {
		return helperCommand("crash", path, fmt.Sprintf("BOLTSTATE_ROUND=r%d", round))
	}
	statetest.KillRounds(t, seed, 5, start, func(seed uint64, round int) *state.Snapshot {
		s, err := boltstate.Open(path, boltstate.Options{})
		if err != nil {
			t.Fatalf("seed %d round %d: open after SIGKILL: %v", seed, round, err)
		}
		snap, err := s.Snapshot(context.Background())
		s.Close()
		if err != nil {
			t.Fatalf("seed %d round %d: snapshot after SIGKILL: %v", seed, round, err)
		}
		checkConsistent(t, path)
		return snap
	})
}

// TestCreationThatFailsLeavesNoFile: a process whose writes fail while it creates the state
// (its file size limit is 8 KiB, bbolt's new file 16 KiB: a full disk) fails with a message
// and leaves no state file, nor a temporary one, so that the next run creates the state
// instead of refusing a truncated file forever.
func TestCreationThatFailsLeavesNoFile(t *testing.T) {
	path := newPath(t)
	cmd, stdin, out := helper(t, "create-limited", path)
	stdin.Close()
	if !out.Scan() || !strings.HasPrefix(out.Text(), "error: ") || !strings.Contains(out.Text(), path) {
		t.Fatalf("creating under an 8 KiB limit: %q %v; want an error naming %s", out.Text(), out.Err(), path)
	}
	_ = cmd.Wait()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
	s, err := boltstate.Open(path, boltstate.Options{})
	if err != nil {
		t.Fatalf("the next open should create the state: %v", err)
	}
	s.Close()
}

// TestPermissionDeniedIsNotDamage: a state file this user may not open is reported as the
// system's refusal, never as a damaged file (whose advice is to move it away). As root,
// which permissions do not stop, the open runs in a copy of this test binary as nobody.
func TestPermissionDeniedIsNotDamage(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir makes both 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "invoiceform.state")
	s := open(t, path, boltstate.Options{})
	if err := s.Put(context.Background(), statetest.FullRecord("a")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := snapshotFile(t, path)

	var out string
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(path, boltstate.FileMode) })
		for _, ro := range []bool{true, false} {
			_, err := boltstate.Open(path, boltstate.Options{ReadOnly: ro})
			out += fmt.Sprintf("read-only=%t corrupt=%t err=%v\n", ro, errors.Is(err, state.ErrCorrupt), err)
		}
	} else {
		bin := filepath.Join(dir, "boltstate.test")
		data, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), "BOLTSTATE_HELPER=open", "BOLTSTATE_PATH="+path, "GOCOVERDIR=", "HOME=/")
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper as nobody: %v\n%s", err, b)
		}
		out = string(b)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("helper output %q", out)
	}
	for _, l := range lines {
		if !strings.Contains(l, "corrupt=false") || !strings.Contains(l, "permission denied") || !strings.Contains(l, path) {
			t.Errorf("want a permission error naming the file, not damage: %s", l)
		}
	}
	if snapshotFile(t, path) != before {
		t.Error("the refused open changed the file")
	}
}
