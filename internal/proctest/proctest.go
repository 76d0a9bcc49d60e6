package proctest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proc is a started child process.
type Proc struct {
	cmd   *exec.Cmd
	out   buffer
	done  chan struct{}
	err   error
	ended time.Time
}

// Start starts cmd. Its standard output, and its standard error unless cmd.Stderr is set,
// are kept for Output. The process is killed and reaped when the test ends, if it still runs.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{cmd: cmd, done: make(chan struct{}), out: buffer{changed: make(chan struct{})}}
	cmd.Stdout = &p.out
	if cmd.Stderr == nil {
		cmd.Stderr = &p.out
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		p.ended = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // an error when it has exited already
		<-p.done
	})
	return p
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Signal sends sig; false when the process had exited already.
func (p *Proc) Signal(sig os.Signal) bool {
	if !p.Running() {
		return false
	}
	return p.cmd.Process.Signal(sig) == nil
}

// Kill sends SIGKILL; false when the process had exited already.
func (p *Proc) Kill() bool { return p.Signal(os.Kill) }

// Output is what the process has written so far.
func (p *Proc) Output() string {
	s, _ := p.out.read()
	return s
}

// After waits d, or less when the process exits first, and reports whether it still runs.
func (p *Proc) After(d time.Duration) bool {
	select {
	case <-p.done:
	case <-time.After(d):
	}
	return p.Running()
}

// ErrHang is returned by Wait and WaitOutput when the process still ran at their limit.
var ErrHang = errors.New("still running at the deadline")

// WaitOutput waits until cond holds for the output so far (checked on every write) and
// reports whether it did; false when the process exited first. After limit it returns
// ErrHang, and the process keeps running.
func (p *Proc) WaitOutput(limit time.Duration, cond func(out string) bool) (bool, error) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		out, changed := p.out.read()
		if cond(out) {
			return true, nil
		}
		select {
		case <-changed:
		case <-p.done:
			return cond(p.Output()), nil
		case <-deadline.C:
			return false, fmt.Errorf("%s: %w after %s", p, ErrHang, limit)
		}
	}
}

// Wait waits up to limit for the process to exit and returns its exit code (-1 when a
// signal ended it) and its output. A process still running after limit is a hang: it is
// killed, and the error is ErrHang.
func (p *Proc) Wait(limit time.Duration) (int, string, error) {
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		return -1, p.Output(), fmt.Errorf("%s: %w (%s); killed", p, ErrHang, limit)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode(), p.Output(), nil
	}
	return 0, p.Output(), p.err
}

// Ended is when the process exited; zero while it runs.
func (p *Proc) Ended() time.Time {
	if p.Running() {
		return time.Time{}
	}
	return p.ended
}

// String is the command line, without the program's directory.
func (p *Proc) String() string {
	return strings.Join(append([]string{p.cmd.Args[0][strings.LastIndexByte(p.cmd.Args[0], '/')+1:]}, p.cmd.Args[1:]...), " ")
}

// buffer is a bytes.Buffer safe for a process's stdout and stderr together, whose changed
// channel is closed on every write.
type buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func (s *buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
	return s.b.Write(p)
}

// read is the contents and a channel closed by the next write.
func (s *buffer) read() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.changed
}
