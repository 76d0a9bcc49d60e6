package proctest_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/internal/proctest"
)

// TestKillAfterOutput kills a process once it has written a line, as the crash tests do.
func TestKillAfterOutput(t *testing.T) {
	p := proctest.Start(t, exec.Command("sh", "-c", "echo ready; exec sleep 60"))
	ok, err := p.WaitOutput(30*time.Second, func(out string) bool { return strings.Contains(out, "ready\n") })
	if !ok || err != nil {
		t.Fatalf("WaitOutput: %v %v; output %q", ok, err, p.Output())
	}
	if !p.Kill() {
		t.Fatal("Kill: the process had exited")
	}
	code, out, err := p.Wait(30 * time.Second)
	if code != -1 || out != "ready\n" || err != nil {
		t.Fatalf("Wait after SIGKILL: %d %q %v; want -1 \"ready\\n\" <nil>", code, out, err)
	}
	if p.Running() || p.Ended().IsZero() || p.Kill() {
		t.Fatal("the process still counts as running")
	}
}

func TestExitCode(t *testing.T) {
	p := proctest.Start(t, exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"))
	if code, out, err := p.Wait(30 * time.Second); code != 3 || out != "out\nerr\n" || err != nil {
		t.Fatalf("Wait: %d %q %v", code, out, err)
	}
	if ok, err := p.WaitOutput(time.Second, func(out string) bool { return strings.Contains(out, "never") }); ok || err != nil {
		t.Fatalf("WaitOutput on an exited process: %v %v", ok, err)
	}
}
