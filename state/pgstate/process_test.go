package pgstate_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
	"github.com/invoiceform/invoiceform/state/statetest"
)

func TestMain(m *testing.M) {
	if os.Getenv("PGSTATE_HELPER") == "crash" {
		crashHelper(os.Getenv("PGSTATE_CONN"), os.Getenv("PGSTATE_WORKSPACE"))
		return
	}
	os.Exit(m.Run())
}

// crashHelper puts records from 16 goroutines until killed, printing each foreign_id only
// after its Put returned: every printed id is an acknowledged write.
func crashHelper(connStr, ws string) {
	s, err := pgstate.Open(context.Background(), connStr, pgstate.Options{Workspace: ws, Writers: 16, LockTimeout: 30 * time.Second})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("%s-w%02d-%06d", os.Getenv("PGSTATE_ROUND"), w, i)
				if err := s.Put(context.Background(), statetest.FullRecord(id)); err != nil {
					mu.Lock()
					fmt.Fprintln(out, "error:", err)
					out.Flush()
					mu.Unlock()
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintln(out, id)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	os.Exit(0)
}

// TestCrashConsistency kills a process writing to a workspace with SIGKILL at a random
// moment, several times, and checks that every acknowledged Put is in the state, that no
// group commit was half applied (each Put adds one record and one to the serial, so the two
// stay equal), and that the next writer gets the lock the dead one held. Set
// PGSTATE_CRASH_SEED to replay a failure.
func TestCrashConsistency(t *testing.T) {
	cs := pgtest.ConnString(t)
	ws := pgtest.Workspace(t, cs)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PGSTATE_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	acked := map[string]bool{}
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "PGSTATE_HELPER=crash", "PGSTATE_CONN="+cs, "PGSTATE_WORKSPACE="+ws, fmt.Sprintf("PGSTATE_ROUND=r%d", round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out := bufio.NewScanner(stdout)
		killAfter := 50 + rng.IntN(1500)
		n := 0
		for out.Scan() {
			line := out.Text()
			if strings.HasPrefix(line, "error:") {
				t.Fatalf("seed %d round %d: helper: %s", seed, round, line)
			}
			acked[line] = true
			if n++; n == killAfter {
				break
			}
		}
		if n < killAfter {
			t.Fatalf("seed %d round %d: helper stopped after %d writes: %v", seed, round, n, out.Err())
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for out.Scan() {
			acked[out.Text()] = true
		}
		_ = cmd.Wait()

		// The server notices the dead connection and frees its lock; wait for that.
		s, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: ws, LockTimeout: 30 * time.Second})
		if err != nil {
			t.Fatalf("seed %d round %d: open after SIGKILL: %v", seed, round, err)
		}
		snap, err := s.Snapshot(context.Background())
		s.Close()
		if err != nil {
			t.Fatalf("seed %d round %d: snapshot after SIGKILL: %v", seed, round, err)
		}
		for id := range acked {
			if snap.Records[id] == nil {
				t.Fatalf("seed %d round %d: acknowledged record %s is missing after SIGKILL (%d acknowledged, %d in the state)",
					seed, round, id, len(acked), len(snap.Records))
			}
		}
		if snap.Serial != uint64(len(snap.Records)) {
			t.Fatalf("seed %d round %d: serial %d but %d records: a group commit was split", seed, round, snap.Serial, len(snap.Records))
		}
		t.Logf("round %d: %d acknowledged, %d in the state", round, len(acked), len(snap.Records))
	}
}
