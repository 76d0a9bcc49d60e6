package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoiceform/invoiceform/state/pgstate"
)

// DefaultConnString is the CI server (.ci/run starts it).
const DefaultConnString = "postgres://root@127.0.0.1:5432/test?sslmode=disable"

// ConnString returns the test server's connection string after checking that it answers:
// that of INVOICEFORM_PG_TEST_CONN_STR; else the default server; else, when the default does
// not answer either, that of a throwaway cluster the run's test processes share (see
// throwaway.go), started with the PostgreSQL binaries of the machine. Without them (or with
// INVOICEFORM_PG_TEST_CONN_STR set, or INVOICEFORM_PG_TESTS=skip), an unreachable server
// fails the test, or skips it under INVOICEFORM_PG_TESTS=skip.
func ConnString(t testing.TB) string {
	t.Helper()
	cs, err := choose(os.Getenv, ping, isThrowaway, throwaway)
	if err != nil {
		if err.skip {
			t.Skip(err.msg)
		}
		t.Fatal(err.msg)
	}
	return cs
}

// noServer says why the tests have no server, and whether to skip them.
type noServer struct {
	msg  string
	skip bool
}

// choose picks the server: see ConnString. throwaway starts or joins the shared cluster;
// isThrowaway says whether a connection string is that of the shared cluster.
func choose(getenv func(string) string, ping func(string) error, isThrowaway func(string) bool, throwaway func() (string, error)) (string, *noServer) {
	cs := getenv("INVOICEFORM_PG_TEST_CONN_STR")
	explicit := cs != ""
	if !explicit {
		cs = DefaultConnString
	}
	err := ping(cs)
	if err == nil {
		if !explicit && isThrowaway(cs) {
			// The default server is the run's throwaway cluster: join it. (Should it stop
			// meanwhile, this starts another.)
			if tcs, terr := throwaway(); terr == nil {
				return tcs, nil
			}
		}
		return cs, nil
	}
	msg := "PostgreSQL tests need a server: cannot reach " + pgstate.RedactConnString(cs) + ": " + err.Error() +
		"\nStart it (.ci/run does: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), set INVOICEFORM_PG_TEST_CONN_STR to another server, or set INVOICEFORM_PG_TESTS=skip to skip these tests."
	if getenv("INVOICEFORM_PG_TESTS") == "skip" {
		return "", &noServer{msg: "INVOICEFORM_PG_TESTS=skip: " + msg, skip: true}
	}
	if explicit {
		return "", &noServer{msg: msg}
	}
	tcs, terr := throwaway()
	if terr == nil {
		return tcs, nil
	}
	if errors.Is(terr, errNoBinaries) {
		return "", &noServer{msg: msg + "\n(There are " + terr.Error() + ".)"}
	}
	return "", &noServer{msg: msg + "\nStarting a throwaway cluster instead failed: " + terr.Error()}
}

// ping connects to the server of cs.
func ping(cs string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// Name returns prefix and a random suffix: a workspace or schema no other test uses.
func Name(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// Workspace returns a new workspace name in the default schema; its rows are deleted when
// the test ends (after the stores the test closes in its own cleanups).
func Workspace(t testing.TB, connStr string) string {
	t.Helper()
	ws := Name("t")
	t.Cleanup(func() {
		exec(t, connStr, "DELETE FROM "+pgx.Identifier{pgstate.DefaultSchema}.Sanitize()+".states WHERE workspace = $1", ws)
	})
	return ws
}

// Schema returns a new schema name; the schema is dropped when the test ends.
func Schema(t testing.TB, connStr string) string {
	t.Helper()
	schema := "invoiceform_t_" + Name("s")[2:]
	t.Cleanup(func() { exec(t, connStr, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE") })
	return schema
}

func exec(t testing.TB, connStr, sql string, args ...any) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connStr)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		// A schema that was never created has no states table: nothing to clean.
		if !isUndefined(err) {
			t.Errorf("cleanup %q: %v", sql, err)
		}
	}
}
