package statetest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/state"
)

// WriteUntilKilled is the body of a crash test's helper process: it puts records into s from
// 16 goroutines until the process is killed, printing each foreign_id (prefixed by round) on
// standard output only after its Put returned, so that every printed id is an acknowledged
// write. A failed Put prints "error: ..." and exits 1. It never returns.
func WriteUntilKilled(s state.Store, round string) {
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("%s-w%02d-%06d", round, w, i)
				err := s.Put(context.Background(), FullRecord(id))
				mu.Lock()
				if err != nil {
					fmt.Fprintln(out, "error:", err)
					out.Flush()
					os.Exit(1)
				}
				fmt.Fprintln(out, id)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	os.Exit(0)
}

// KillRounds is a crash test: for each of rounds rounds, start starts a helper process that
// runs WriteUntilKilled (its standard output read by the returned scanner); once a random
// number of writes is acknowledged and a random moment more has passed, it is killed with
// SIGKILL; then snapshot reopens the state, and every record acknowledged so far must be in
// it. snapshot may check more (it is given the seed and round for its messages). The seed
// makes the random draws; a failure names it.
func KillRounds(t *testing.T, seed uint64, rounds int, start func(round int) (*exec.Cmd, *bufio.Scanner), snapshot func(seed uint64, round int) *state.Snapshot) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	acked := map[string]bool{}
	for round := range rounds {
		cmd, out := start(round)
		// Wait until writes are flowing, then let a random number more be acknowledged.
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
		// Let the helper run on a little so the kill lands anywhere in a batch.
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// Ids printed before the kill was delivered were acknowledged too.
		for out.Scan() {
			acked[out.Text()] = true
		}
		_ = cmd.Wait()

		snap := snapshot(seed, round)
		for id := range acked {
			if snap.Records[id] == nil {
				t.Fatalf("seed %d round %d: acknowledged record %s is missing after SIGKILL (%d acknowledged, %d in the state)",
					seed, round, id, len(acked), len(snap.Records))
			}
		}
		t.Logf("round %d: %d acknowledged, %d in the state", round, len(acked), len(snap.Records))
	}
}
