package torture_test

import (
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/internal/torture"
)

// The environment of the suite.
const (
	envSeed    = "INVOICEFORM_TORTURE_SEED"    // replay a failure with the seed it printed
	envRounds  = "INVOICEFORM_TORTURE_ROUNDS"  // rounds of each scenario (default defaultRounds)
	envSummary = "INVOICEFORM_TORTURE_SUMMARY" // a file that receives the one-line summary
)

// defaultRounds keeps `go test ./...` short: one round of each scenario on each backend,
// which still kills, interrupts, races and starves a real apply and checks exactly-once
// after it. .ci/run asks for the deep run (INVOICEFORM_TORTURE_ROUNDS=8).
const defaultRounds = 1

var (
	bin    string
	seed   int64
	rounds int

	totalMu sync.Mutex
	total   torture.Counts
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	seed = time.Now().UnixNano()
	if s := os.Getenv(envSeed); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			fmt.Fprintf(os.Stderr, "%s=%q: want an integer\n", envSeed, s)
			return 2
		}
	}
	rounds = defaultRounds
	if s := os.Getenv(envRounds); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "%s=%q: want a positive integer\n", envRounds, s)
			return 2
		}
		rounds = n
	}
	dir, err := os.MkdirTemp("", "torture-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	if bin, err = torture.Build(dir, raceEnabled); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	start := time.Now()
	code := m.Run()
	verdict := "ok"
	if code != 0 {
		verdict = "FAILED"
	}
	line := fmt.Sprintf("torture: seed=%d %s wall=%s %s", seed, total, time.Since(start).Round(100*time.Millisecond), verdict)
	fmt.Println(line)
	if code != 0 {
		fmt.Printf("torture: replay with %s=%d %s=%d go test -count=1 ./internal/torture\n", envSeed, seed, envRounds, rounds)
	}
	if path := os.Getenv(envSummary); path != "" {
		if err := os.WriteFile(path, []byte(line+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	return code
}

// faults are the emulator's faults in every scenario: answers dropped after the commit, 500s,
// 429s and answers held past the client's timeout, on top of a small latency.
var faults = emulator.Options{
	Latency:         emulator.Latency{Min: time.Millisecond, Max: 6 * time.Millisecond},
	Fail500:         0.04,
	RateLimit429:    0.03,
	RetryAfter:      time.Second,
	DropAfterCommit: 0.06,
	SlowPastTimeout: 0.02,
	SlowDelay:       1500 * time.Millisecond,
}

// world makes a world for the test on the backend, seeded from the suite's seed and the
// test's name, so that each test draws the same moments whatever ran before it.
func world(t *testing.T, b torture.Backend) *torture.World {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	repro := fmt.Sprintf("%s=%d %s=%d go test -count=1 -run '^%s$' ./internal/torture", envSeed, seed, envRounds, rounds, t.Name())
	t.Logf("seed %d; replay: %s", seed, repro)
	w := torture.New(t, torture.Options{
		Bin:       bin,
		Backend:   b,
		Seed:      seed ^ int64(h.Sum64()>>1),
		Emulator:  faults,
		ApplyArgs: []string{"-request-timeout=400ms"},
		Repro:     repro,
	})
	t.Cleanup(func() {
		c := w.Finish()
		t.Logf("torture %s: seed=%d %s", t.Name(), seed, c)
		totalMu.Lock()
		total.Add(c)
		totalMu.Unlock()
	})
	return w
}

// backends are the state stores the torture runs on.
func backends() []torture.Backend { return []torture.Backend{torture.Bolt(), torture.Postgres()} }

// TestKill kills apply with SIGKILL at random moments, round after round, while the emulator
// injects faults and every round declares more invoices; every few rounds and at the end it
// applies to convergence and checks that every invoice was created once and none was lost.
func TestKill(t *testing.T) {
	scenario(t, 200, rounds*3, 30, 10, kill)
}

// scenario runs a torture on every backend: a world declaring start invoices, n rounds each
// declaring grow more and running round, convergence and the checks every `every` rounds and
// at the end.
func scenario(t *testing.T, start, n, grow, every int, round func(w *torture.World, round int)) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := world(t, b)
			w.Declare(start)
			for r := 1; r <= n; r++ {
				w.Declare(w.Declared() + grow)
				round(w, r)
				if r%every == 0 {
					w.Converge(8)
					w.Check()
				}
			}
			w.Converge(8)
			w.Check()
		})
	}
}

// kill is a round of TestKill: an apply killed with SIGKILL at a random moment.
func kill(w *torture.World, round int) {
	w.Counts.Rounds++
	p := w.Start("-auto-approve", "-parallelism=8", "-lock-timeout=30s")
	if w.RandomMoment(p, 500*time.Millisecond, 120) && p.Kill() {
		w.Counts.Kills++
	}
	if code, out := p.Wait(2 * time.Minute); code != -1 && code != 0 && code != 1 {
		w.Errorf("round %d: apply exited %d:\n%s", round, code, out)
	}
}

// TestInterrupt sends SIGINT to a running apply at a random moment after it started sending:
// it must stop, with exit code 1 and the documented message (or 0 when it had finished);
// the slowest stop is logged, and one still running 30 s later fails as a hang. The next
// applies converge with no duplicate. Every second round sends a
// second SIGINT soon after the first, which ends the process at once.
func TestInterrupt(t *testing.T) {
	var slowest time.Duration // the backends' subtests run one after the other
	defer func() { t.Logf("slowest stop after SIGINT: %s", slowest.Round(time.Millisecond)) }()
	scenario(t, 100, rounds*2, 60, 3, func(w *torture.World, round int) {
		slowest = max(slowest, interrupt(w, round, round%2 == 0))
	})
}

// interrupt is a round of TestInterrupt, with twice a second SIGINT. It returns how long
// the apply took to stop after the signal (0 when it was not sent).
func interrupt(w *torture.World, round int, twice bool) time.Duration {
	w.Counts.Rounds++
	before := w.Created()
	p := w.Start("-auto-approve", "-parallelism=4", "-lock-timeout=30s")
	if !w.WaitUnderWay(p, before) || !w.RandomMoment(p, 500*time.Millisecond, 60) {
		p.Wait(time.Minute)
		return 0
	}
	sent := time.Now()
	if !p.Signal(syscall.SIGINT) {
		p.Wait(time.Minute)
		return 0
	}
	w.Counts.Interrupts++
	if twice { // a second Ctrl-C ends the process at once, requests in flight and all
		p.After(time.Duration(w.Rand.IntN(50)) * time.Millisecond)
		p.Signal(syscall.SIGINT)
	}
	// A stop takes seconds at most (requests time out after 400 ms); the limit only catches
	// an apply that ignores the signal, without asserting how fast a loaded machine is.
	code, out := p.Wait(30 * time.Second)
	took := p.Ended().Sub(sent)
	switch {
	case code == 1 && strings.Contains(out, "the next apply resolves them"):
	case code == -1 && twice:
		// Ended by the second signal.
	case code == 0:
		w.Counts.Interrupts-- // it had finished when the signal came
	default:
		w.Errorf("round %d: interrupted apply exited %d without the interruption message:\n%s", round, code, out)
	}
	return took
}

// TestTwoApplies starts two applies at once on one state, round after round: one runs, the
// other waits for the lock (-lock-timeout) or fails at once saying the state is locked; no
// invoice is created twice.
func TestTwoApplies(t *testing.T) {
	scenario(t, 100, rounds, 60, 3, twoApplies)
}

// twoApplies is a round of TestTwoApplies: one apply with -lock-timeout=60s and one with 60s
// or 0s, started together.
func twoApplies(w *torture.World, round int) {
	w.Counts.Rounds++
	waits := []bool{true, w.Rand.IntN(2) == 0}
	var procs [2]*torture.Proc
	for i, wait := range waits {
		lt := "-lock-timeout=0s"
		if wait {
			lt = "-lock-timeout=60s"
		}
		procs[i] = w.Start("-auto-approve", "-parallelism=8", lt)
	}
	ran := 0
	for i, p := range procs {
		code, out := p.Wait(2 * time.Minute)
		locked := strings.Contains(out, "locked by another invoiceform process")
		switch {
		case code == 1 && locked && !waits[i]:
			w.Counts.LockRefused++
		case code == 1 && locked:
			w.Errorf("round %d: apply with -lock-timeout=60s failed on the lock:\n%s", round, out)
		case code == 0 || code == 1:
			// 1: invoices left pending by the faults; the next apply resolves them.
			ran++
		default:
			w.Errorf("round %d: apply exited %d:\n%s", round, code, out)
		}
	}
	switch ran {
	case 2:
		w.Counts.LockWaited++
	case 0:
		w.Errorf("round %d: neither of two applies ran", round)
	}
}

// TestStateWriteFails makes the state's writes fail in the middle of an apply, as on a full
// disk: the apply's file size limit (RLIMIT_FSIZE, which binds root too) is lowered below the
// state file's size at a random moment after it started sending, or, one round in three, as
// it starts. The apply must stop cleanly (exit 1, naming the state), and the next applies,
// without the limit, converge.
func TestStateWriteFails(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := world(t, b)
			w.Declare(100)
			w.Converge(8)
			for round := 1; round <= rounds; round++ {
				w.Declare(w.Declared() + 80)
				writeFails(w, round, round%2 == 1, round%3 == 0)
				w.Converge(8)
				w.Check()
			}
			if w.Counts.WriteFailures == 0 {
				// Every apply finished before its limit came: one more round, limited from its
				// start, whose first state write must fail.
				w.Declare(w.Declared() + 80)
				writeFails(w, rounds+1, true, true)
				w.Converge(8)
				w.Check()
			}
			if w.Counts.WriteFailures == 0 {
				w.Errorf("no apply met a failing state write in %d rounds", rounds+1)
			}
		})
	}
}

// writeFails is a round of TestStateWriteFails: the running apply's state writes start to
// fail at a random moment once it is under way, or, with early, as it starts. On a file the
// apply's file size limit is lowered (with low to 8 KiB, which fails every write past bbolt's
// meta pages; otherwise to a size drawn below the file's); on a database the server ends
// every connection of the apply, its lock's included.
func writeFails(w *torture.World, round int, low, early bool) {
	w.Counts.Rounds++
	var how string
	var fail func(p *torture.Proc) error
	if w.State.Cut != nil {
		how = "its state connections were cut"
		fail = func(*torture.Proc) error { return w.State.Cut() }
	} else {
		var size int64 // no file yet (a first round of TestMixed): the apply makes it
		if fi, err := os.Stat(w.State.File); err == nil {
			size = fi.Size()
		} else if !os.IsNotExist(err) {
			w.Fatalf("%v", err)
		}
		// Below 8 KiB lie bbolt's two meta pages; a limit there would tear them, which a full
		// disk never does (it refuses whole new blocks).
		limit := uint64(8192)
		if !low && size > 8192 {
			limit += uint64(w.Rand.Int64N(size - 8192))
		}
		how = fmt.Sprintf("its state writes fail (limit %d bytes)", limit)
		fail = func(p *torture.Proc) error { return torture.LimitFileSize(p.Pid(), limit) }
	}
	before := w.Created()
	p := w.Start("-auto-approve", "-parallelism=8", "-lock-timeout=30s")
	switch {
	case early && w.State.Cut != nil:
		// A connection is made a moment after the start: cut somewhere in those moments.
		p.After(time.Duration(w.Rand.IntN(150)) * time.Millisecond)
	case !early && (!w.WaitUnderWay(p, before) || !w.RandomMoment(p, 200*time.Millisecond, 20)):
		p.Wait(time.Minute)
		return
	}
	if err := fail(p); err != nil {
		if !p.Running() {
			p.Wait(time.Minute)
			return
		}
		w.Fatalf("round %d: cannot make the state's writes fail: %v", round, err)
	}
	code, out := p.Wait(time.Minute)
	switch {
	case code == 1 && strings.Contains(out, w.State.Name) && (w.State.File == "" || strings.Contains(out, "file too large")):
		w.Counts.WriteFailures++
		w.Logf("round %d: the apply stopped when %s:\n%s", round, how, tail(out, 4))
	case code == 0:
		// Finished before the failure came, or every write it still made got through.
	default:
		w.Errorf("round %d: apply exited %d when %s; want 1 and a message naming %s:\n%s", round, code, how, w.State.Name, out)
	}
}

// TestMixed draws each round's torture at random: a kill, an interrupt, two applies at once,
// or failing state writes, without converging in between; so an apply meets the leftovers
// of any other (pending records of a killed run, a file a failed write grew, and so on).
func TestMixed(t *testing.T) {
	scenario(t, 150, rounds*2, 40, 8, func(w *torture.World, round int) {
		switch w.Rand.IntN(4) {
		case 0:
			kill(w, round)
		case 1:
			interrupt(w, round, w.Rand.IntN(4) == 0)
		case 2:
			twoApplies(w, round)
		case 3:
			writeFails(w, round, w.Rand.IntN(2) == 0, w.Rand.IntN(3) == 0)
		}
	})
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
