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

	"github.com/invoiceform/invoiceform/internal/proctest"
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

// KillRounds is a crash test: for each of rounds rounds, it starts the helper process that
// start makes (unstarted; it runs WriteUntilKilled), kills it with SIGKILL once a random
// number of writes is acknowledged (16 writers are then anywhere in their commits), and then
// snapshot reopens the state, and every record acknowledged so far must be in it. snapshot
// may check more (it is given the seed and round for its messages). The seed makes the
// random draws; a failure names it. The kill is internal/proctest's, as in internal/torture.
func KillRounds(t *testing.T, seed uint64, rounds int, start func(round int) *exec.Cmd, snapshot func(seed uint64, round int) *state.Snapshot) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	acked := map[string]bool{}
	for round := range rounds {
		cmd := start(round)
		if cmd.Stderr == nil {
			cmd.Stderr = os.Stderr // standard output holds only acknowledged ids and errors
		}
		p := proctest.Start(t, cmd)
		killAfter := 50 + rng.IntN(1500)
		_, err := p.WaitOutput(time.Minute, func(out string) bool {
			return strings.Count(out, "\n") >= killAfter || strings.Contains(out, "error:")
		})
		if err != nil {
			t.Fatalf("seed %d round %d: %v", seed, round, err)
		}
		p.Kill()
		_, out, err := p.Wait(time.Minute)
		if err != nil {
			t.Fatalf("seed %d round %d: %v", seed, round, err)
		}
		// Every whole line is an id whose Put had returned, those printed after the moment
		// of the kill included; a torn last line is not.
		lines := strings.Split(out, "\n")
		lines = lines[:len(lines)-1]
		for _, line := range lines {
			if strings.HasPrefix(line, "error:") {
				t.Fatalf("seed %d round %d: helper: %s", seed, round, line)
			}
			acked[line] = true
		}
		if len(lines) < killAfter {
			t.Fatalf("seed %d round %d: helper stopped after %d writes", seed, round, len(lines))
		}

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
