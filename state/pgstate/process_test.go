package pgstate_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/state"
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

// crashHelper writes to the workspace until killed (statetest.WriteUntilKilled).
func crashHelper(connStr, ws string) {
	s, err := pgstate.Open(context.Background(), connStr, pgstate.Options{Workspace: ws, Writers: 16, LockTimeout: 30 * time.Second})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	statetest.WriteUntilKilled(s, os.Getenv("PGSTATE_ROUND"))
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
	start := func(round int) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "PGSTATE_HELPER=crash", "PGSTATE_CONN="+cs, "PGSTATE_WORKSPACE="+ws, fmt.Sprintf("PGSTATE_ROUND=r%d", round))
		return cmd
	}
	statetest.KillRounds(t, seed, 5, start, func(seed uint64, round int) *state.Snapshot {
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
		if snap.Serial != uint64(len(snap.Records)) {
			t.Fatalf("seed %d round %d: serial %d but %d records: a group commit was split", seed, round, snap.Serial, len(snap.Records))
		}
		return snap
	})
}
