package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/api"
)

// startCommand runs this test binary as invoiceform with args, in its own process.
func startCommand(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader, *strings.Builder) {
	t.Helper()
	return startCommandEnv(t, nil, args...)
}

// startCommandEnv is startCommand with more environment variables.
func startCommandEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, *bufio.Reader, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "INVOICEFORM_TEST_RUN_MAIN=1"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, bufio.NewReader(stdout), &stderr
}

// TestEmulatorCommand starts `invoiceform emulator` for real, reads the banner, makes a
// signed request with the printed credentials, and stops it with SIGINT.
func TestEmulatorCommand(t *testing.T) {
	cmd, out, stderr := startCommand(t, "emulator", "-listen=127.0.0.1:0")
	lines := map[string]string{}
	for len(lines) < 3 {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the banner: %v (stderr: %s)", err, stderr.String())
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.HasPrefix(k, "INVOICEFORM_") {
			lines[k] = v
		}
	}
	client, err := api.New(api.Config{Endpoint: lines["INVOICEFORM_ENDPOINT"], Key: lines["INVOICEFORM_API_KEY"], Secret: lines["INVOICEFORM_API_SECRET"]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Accounts(context.Background()); err != nil {
		t.Fatalf("accounts with the printed credentials: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v (stderr: %s)", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop within 10 s of SIGINT")
	}
	if strings.Contains(stderr.String(), "emulator-secret") {
		t.Error("the log shows the secret")
	}
}

func TestEmulatorCommandCustomCredentialsNotPrinted(t *testing.T) {
	_, out, stderr := startCommand(t, "emulator", "-listen=127.0.0.1:0", "-key=k1", "-secret=TopSecret-1", "-key=k2", "-secret=TopSecret-2")
	banner, err := out.ReadString('\n')
	for err == nil && !strings.Contains(banner, "controls") {
		var line string
		line, err = out.ReadString('\n')
		banner += line
	}
	if err != nil {
		t.Fatalf("banner: %v (stderr %s)", err, stderr.String())
	}
	if strings.Contains(banner, "TopSecret") || !strings.Contains(banner, "k1, k2") {
		t.Errorf("banner:\n%s", banner)
	}
}

// TestEmulatorCommandInterruptRightAfterBanner sends SIGINT the moment the first line of the
// banner arrives: the emulator must already handle it (stop cleanly, exit 0), not die of the
// signal. Under load, a handler installed after the banner lost this race.
func TestEmulatorCommandInterruptRightAfterBanner(t *testing.T) {
	for i := range 20 {
		cmd, out, stderr := startCommand(t, "emulator", "-listen=127.0.0.1:0")
		if _, err := out.ReadString('\n'); err != nil {
			t.Fatalf("reading the banner: %v (stderr: %s)", err, stderr.String())
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, out)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("run %d: exit after SIGINT: %v (stderr: %s)", i+1, err, stderr.String())
		}
	}
}

// TestEmulatorCommandSecretFromEnvironment: a -key without -secret takes its secret from
// INVOICEFORM_EMULATOR_SECRET, so it is not in the process list; a listener on every
// interface is warned about. The secret works for signing and is printed nowhere.
func TestEmulatorCommandSecretFromEnvironment(t *testing.T) {
	const secret = "EnvSecret-canary-5e2f"
	cmd, out, stderr := startCommandEnv(t, []string{"INVOICEFORM_EMULATOR_SECRET=" + secret}, "emulator", "-listen=0.0.0.0:0", "-key=env-key")
	var banner, endpoint string
	for !strings.Contains(banner, "controls") {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("banner: %v (stderr %s)", err, stderr.String())
		}
		banner += line
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "INVOICEFORM_ENDPOINT="); ok {
			endpoint = strings.NewReplacer("0.0.0.0", "127.0.0.1", "[::]", "127.0.0.1").Replace(v)
		}
	}
	if strings.Contains(banner, secret) || !strings.Contains(banner, "env-key") {
		t.Errorf("banner:\n%s", banner)
	}
	client, err := api.New(api.Config{Endpoint: endpoint, Key: "env-key", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Accounts(context.Background()); err != nil {
		t.Fatalf("accounts signed with the environment's secret: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(stderr.String(), "Warning: -listen=0.0.0.0:0 is not a loopback address") || strings.Contains(stderr.String(), secret) {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
