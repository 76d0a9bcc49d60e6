package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/emulator"
)

// serveTestBase is the emulator's endpoint for commandProcess.
var serveTestBase string

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// serveProcess starts `invoiceform serve` as a real process and waits until it answers.
func serveProcess(t *testing.T, dir, addr string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-chdir="+dir, "serve", "-listen", addr)
	cmd.Env = append(append(testEnviron(), "INVOICEFORM_TEST_RUN_MAIN=1",
		"INVOICEFORM_API_KEY="+emulator.DefaultKey, "INVOICEFORM_API_SECRET="+emulator.DefaultSecret), env...)
	var errs strings.Builder
	cmd.Stderr = &errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd
		}
	}
	t.Fatalf("serve did not come up: %s", errs.String())
	return nil
}

// commandProcess runs another invoiceform command as a process.
func commandProcess(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-chdir=" + dir}, args...)...)
	cmd.Env = append(testEnviron(), "INVOICEFORM_ENDPOINT="+serveTestBase, "INVOICEFORM_TEST_RUN_MAIN=1", "INVOICEFORM_API_KEY="+emulator.DefaultKey, "INVOICEFORM_API_SECRET="+emulator.DefaultSecret)
	return cmd
}

// waitList polls state list until every want string is in its output.
func waitList(t *testing.T, dir string, want ...string) string {
	t.Helper()
	var out string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, err := commandProcess(dir, "state", "list").Output()
		out = string(b)
		ok := err == nil
		for _, w := range want {
			ok = ok && strings.Contains(out, w)
		}
		if ok {
			return out
		}
	}
	t.Fatalf("state list never showed %q:\n%s", want, out)
	return ""
}

// TestServeEndToEnd: apply against the emulator whose callback URL is a running serve
// process; the emulator pays, fails and expires invoices and state list shows each status;
// plan and state list work while serve runs; serve killed with SIGKILL loses nothing (the
// emulator retries); SIGTERM ends it cleanly.
func TestServeEndToEnd(t *testing.T) {
	addr := freePort(t)
	dir, srv, base := applyWorld(t, 4, emulator.Options{CallbackURL: "http://" + addr + "/callbacks", CallbackScale: 0.0005})
	serveTestBase = base
	// k-0003 has the 15-minute timer (0.45 s at this scale) and is never paid: the emulator
	// expires it on its own.
	main := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	timed := strings.Replace(string(src), "timer              = false", `timer              = each.key == "k-0003"`, 1)
	if timed == string(src) {
		t.Fatal("applyWorld's configuration has no timer line to change")
	}
	if err := os.WriteFile(main, []byte(timed), 0o600); err != nil {
		t.Fatal(err)
	}
	serveCmd := serveProcess(t, dir, addr)
	if code, out, errs := runProc(t, applyProcess(dir, base, "-auto-approve"), time.Minute); code != 0 {
		t.Fatalf("apply: %d\n%s\n%s", code, out, errs)
	}
	k := emulator.DefaultKey
	for _, c := range []struct{ id, status string }{{"k-0000", "confirmed"}, {"k-0001", "failed"}, {"k-0002", "pending"}} {
		if err := srv.SetStatus(k, c.id, c.status, "BTC"); err != nil {
			t.Fatal(err)
		}
	}
	waitList(t, dir, "confirmed", "failed", "pending")
	// plan works while serve runs on bbolt.
	if out, err := commandProcess(dir, "plan").CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 0 && ee.ExitCode() != 2 {
			t.Fatalf("plan while serve runs: %v\n%s", err, out)
		}
	}
	// SIGKILL, then a status change the emulator cannot deliver yet; a new serve gets it.
	_ = serveCmd.Process.Kill()
	_ = serveCmd.Wait()
	if err := srv.SetStatus(k, "k-0002", "processing", "BTC"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	serveCmd = serveProcess(t, dir, addr)
	waitList(t, dir, "processing")
	// k-0003 fails by its timer (0.45 s after it was made, whichever serve process is up
	// then), with the API's reason in its history.
	var shown []byte
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		shown, err = commandProcess(dir, "state", "show", "k-0003").CombinedOutput()
		if err == nil && strings.Contains(string(shown), "Timer expired. User not paid.") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state show k-0003 never showed the timer's expiry: %v\n%s", err, shown)
		}
	}
	if out := waitList(t, dir, "processing"); strings.Count(out, "failed") != 2 {
		t.Fatalf("state list after restart: want k-0001 and k-0003 failed:\n%s", out)
	}
	start := time.Now()
	_ = serveCmd.Process.Signal(syscall.SIGTERM)
	if err := serveCmd.Wait(); err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("serve after SIGTERM: %v after %v", err, time.Since(start))
	}
}
