package pgstate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// withParam adds a run-time parameter to a URL connection string.
func withParam(cs, kv string) string {
	if strings.Contains(cs, "?") {
		return cs + "&" + kv
	}
	return cs + "?" + kv
}

// TestStatementTimeout: every connection has a statement_timeout, the default unless the
// connection string sets one.
func TestStatementTimeout(t *testing.T) {
	cs := pgtest.ConnString(t)
	if !strings.HasPrefix(cs, "postgres") {
		t.Skip("the test adds a parameter to a URL connection string")
	}
	for _, tc := range []struct {
		connStr string
		opts    pgstate.Options
		want    string
	}{
		{cs, pgstate.Options{}, "1min"},
		{cs, pgstate.Options{StatementTimeout: 5 * time.Second}, "5s"},
		{withParam(cs, "statement_timeout=7s"), pgstate.Options{StatementTimeout: 5 * time.Second}, "7s"},
	} {
		tc.opts.Workspace = pgtest.Workspace(t, cs)
		s := open(t, tc.connStr, tc.opts)
		got, err := s.Setting("statement_timeout")
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("Open(%s, %+v): statement_timeout = %q, want %q", pgstate.RedactConnString(tc.connStr), tc.opts, got, tc.want)
		}
	}
}

// holdStateRow locks the workspace's row of the states table in a transaction of another
// connection, as a stuck writer would; every commit of the store then waits for it. It
// returns a function that reports whether some session waits for the lock.
func holdStateRow(t *testing.T, cs, workspace string) (waiting func() bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx); _ = conn.Close(ctx) })
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+pgx.Identifier{pgstate.DefaultSchema}.Sanitize()+".states WHERE workspace = $1 FOR UPDATE", workspace); err != nil {
		t.Fatal(err)
	}
	pid := conn.PgConn().PID()
	probe, err := pgx.Connect(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = probe.Close(ctx) })
	return func() bool {
		var n int
		if err := probe.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
}

// waitFor polls cond, which observes the server, until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 3000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting until %s", what)
}

// TestStalledWriteEndsOnCancel: a write that waits for a lock held elsewhere ends as soon as
// its caller's context is cancelled, with the context's error, and writes nothing.
func TestStalledWriteEndsOnCancel(t *testing.T) {
	cs := pgtest.ConnString(t)
	ws := pgtest.Workspace(t, cs)
	s := open(t, cs, pgstate.Options{Workspace: ws})
	waiting := holdStateRow(t, cs, ws)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Put(ctx, statetest.PendingRecord("stalled")) }()
	waitFor(t, "the Put waits for the row lock", waiting)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute): // a guard against hanging, not a measurement
		t.Fatal("Put did not return after its context was cancelled")
	}
	_ = s.Close()
	r := open(t, cs, pgstate.Options{Workspace: ws, ReadOnly: true})
	snap, err := r.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Records["stalled"] != nil {
		t.Fatal("the cancelled Put was written")
	}
}

// TestStalledWriteStatementTimeout: without any cancel, a write stuck behind a lock ends
// with the server's statement timeout.
func TestStalledWriteStatementTimeout(t *testing.T) {
	cs := pgtest.ConnString(t)
	ws := pgtest.Workspace(t, cs)
	s := open(t, cs, pgstate.Options{Workspace: ws, StatementTimeout: 200 * time.Millisecond})
	holdStateRow(t, cs, ws)
	err := s.Put(context.Background(), statetest.PendingRecord("stalled"))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("Put behind a held lock = %v, want a statement timeout (57014)", err)
	}
}
