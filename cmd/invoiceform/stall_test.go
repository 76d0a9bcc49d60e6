package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// TestStateCommandEndsOnCancel: a state command stuck on a stalled PostgreSQL (a lock held
// by another session, which every commit waits for) ends when its context is cancelled, as
// Ctrl-C or a deadline does, instead of hanging until the server gives up.
func TestStateCommandEndsOnCancel(t *testing.T) {
	dir, connStr, ws := pgDir(t)
	ctx := context.Background()
	s, err := pgstate.Open(ctx, connStr, pgstate.Options{Workspace: ws})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, statetest.FullRecord("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Another session locks the workspace's row, as a stuck writer would.
	holder, err := pgx.Connect(ctx, connStr)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+pgx.Identifier{pgstate.DefaultSchema}.Sanitize()+".states WHERE workspace = $1 FOR UPDATE", ws); err != nil {
		t.Fatal(err)
	}

	t.Chdir(dir)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(runCtx, []string{"state", "rm", "a"}, &env{stdout: &stdout, stderr: &stderr,
			environ: append(testEnviron(), envPGConnStr+"="+connStr)})
	}()

	// Cancel once the command is seen waiting for the lock. The watch runs on a connection of
	// its own: inside the holder's transaction, pg_stat_activity is read once and cached
	// until the transaction ends (stats_fetch_consistency), and would never show the wait.
	watcher, err := pgx.Connect(ctx, connStr)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(ctx)
	pid := holder.PgConn().PID()
	for blocked := false; !blocked; {
		select {
		case c := <-code:
			t.Fatalf("state rm ended (exit %d) before it waited for the lock:\n%s", c, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		var n int
		if err := watcher.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		blocked = n > 0
	}
	cancel()
	select {
	case c := <-code:
		if c != exitError || !strings.Contains(stderr.String(), "context canceled") {
			t.Fatalf("state rm after cancel: exit %d, stderr:\n%s", c, stderr.String())
		}
	case <-time.After(time.Minute): // a guard against hanging, not a measurement
		t.Fatal("state rm did not end after its context was cancelled")
	}
}
