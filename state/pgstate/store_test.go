package pgstate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
	"github.com/invoiceform/invoiceform/state/statetest"
)

func open(t *testing.T, cs string, opts pgstate.Options) *pgstate.Store {
	t.Helper()
	s, err := pgstate.Open(context.Background(), cs, opts)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opts, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	cs := pgtest.ConnString(t)
	statetest.Run(t, statetest.Harness{
		New: func(t *testing.T) state.Store {
			s, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: pgtest.Workspace(t, cs)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Reopen: func(t *testing.T, s state.Store) state.Store {
			ws := s.(*pgstate.Store).Workspace()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: ws})
			if err != nil {
				t.Fatal(err)
			}
			return s2
		},
		Again: func(t *testing.T, s state.Store) (state.Store, error) {
			return pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: s.(*pgstate.Store).Workspace()})
		},
	})
}

// TestConformanceFreshSchema runs the suite in a schema of its own, created by the first
// open: the tables are made on first use.
func TestConformanceFreshSchema(t *testing.T) {
	cs := pgtest.ConnString(t)
	schema := pgtest.Schema(t, cs)
	statetest.Run(t, statetest.Harness{
		New: func(t *testing.T) state.Store {
			s, err := pgstate.Open(context.Background(), cs, pgstate.Options{Schema: schema, Workspace: pgstate.DefaultWorkspace + "-" + pgtest.Name("w")})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}

func TestNewSchemaNotes(t *testing.T) {
	cs := pgtest.ConnString(t)
	schema := pgtest.Schema(t, cs)
	// Many processes opening a new database at once: one creates the tables, none fails.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	notes := make(chan []string, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pgstate.Open(context.Background(), cs, pgstate.Options{Schema: schema, Workspace: fmt.Sprint("w", i)})
			if err != nil {
				errs <- err
				return
			}
			notes <- s.Notes
			_ = s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	close(notes)
	for err := range errs {
		t.Fatalf("concurrent first opens: %v", err)
	}
	created := 0
	for n := range notes {
		if len(n) == 0 || !strings.Contains(n[len(n)-1], "created the state of workspace") {
			t.Errorf("notes %q: want the workspace's creation", n)
		}
		for _, s := range n {
			if strings.Contains(s, "created the invoiceform tables") {
				created++
			}
		}
	}
	if created != 1 {
		t.Errorf("%d opens created the tables, want 1", created)
	}
}

func TestReadOnly(t *testing.T) {
	cs := pgtest.ConnString(t)
	ctx := context.Background()
	// A schema that does not exist, and a workspace that does not: not found, nothing made.
	schema := pgtest.Schema(t, cs)
	if _, err := pgstate.Open(ctx, cs, pgstate.Options{ReadOnly: true, Schema: schema}); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("read-only open of a missing schema: %v, want ErrNotFound", err)
	}
	ws := pgtest.Workspace(t, cs)
	if _, err := pgstate.Open(ctx, cs, pgstate.Options{ReadOnly: true, Workspace: ws}); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("read-only open of a missing workspace: %v, want ErrNotFound", err)
	}
	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a read-only open created schema %s (%d, %v)", schema, n, err)
	}

	// A reader takes no lock: it opens while a writer holds it, and writes are refused.
	w := open(t, cs, pgstate.Options{Workspace: ws})
	if err := w.Put(ctx, statetest.FullRecord("a")); err != nil {
		t.Fatal(err)
	}
	r := open(t, cs, pgstate.Options{ReadOnly: true, Workspace: ws})
	snap, err := r.Snapshot(ctx)
	if err != nil || len(snap.Records) != 1 || snap.Serial != 1 {
		t.Fatalf("reader's snapshot: %v, %v", snap, err)
	}
	if err := r.Put(ctx, statetest.PendingRecord("b")); !errors.Is(err, state.ErrReadOnly) {
		t.Fatalf("Put on a read-only store: %v, want ErrReadOnly", err)
	}
}

// TestSnapshotConsistent reads while a writer commits groups of records: every snapshot's
// serial matches its records exactly (each Put adds one record and one to the serial).
func TestSnapshotConsistent(t *testing.T) {
	cs := pgtest.ConnString(t)
	ws := pgtest.Workspace(t, cs)
	ctx := context.Background()
	w := open(t, cs, pgstate.Options{Workspace: ws, Writers: 8})
	r := open(t, cs, pgstate.Options{ReadOnly: true, Workspace: ws})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := w.Put(ctx, statetest.PendingRecord(fmt.Sprintf("g%d-%05d", g, i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(time.Second)
	// Snapshots of summaries read their whole records in a second query of the same
	// transaction: those are of the same moment too.
	wholeOf := func(sum state.Summary) bool { return sum.ForeignID[len(sum.ForeignID)-1]%2 == 0 }
	for i := 0; time.Now().Before(deadline) || i < 4; i++ {
		var snap *state.Snapshot
		var err error
		if i%2 == 0 {
			snap, err = r.Snapshot(ctx)
		} else {
			snap, err = r.SnapshotWith(ctx, state.SnapshotOptions{Full: wholeOf})
		}
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(snap.Records)) != snap.Serial {
			t.Fatalf("snapshot at serial %d has %d records", snap.Serial, len(snap.Records))
		}
		for id, rec := range snap.Records {
			if whole := len(rec.Body) > 0; whole != (i%2 == 0 || wholeOf(rec.Summarize())) {
				t.Fatalf("snapshot %d: %s read whole: %t", i, id, whole)
			}
		}
	}
	close(stop)
	wg.Wait()
}

func TestLockTimeout(t *testing.T) {
	cs := pgtest.ConnString(t)
	ws := pgtest.Workspace(t, cs)
	first := open(t, cs, pgstate.Options{Workspace: ws})
	start := time.Now()
	_, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: ws, LockTimeout: 300 * time.Millisecond})
	if !errors.Is(err, state.ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("gave up after %v, before the lock timeout", waited)
	}
	for _, want := range []string{ws, "127.0.0.1", "held by server process", "invoiceform"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error %q does not name %q", err, want)
		}
	}
	// Released while the second one waits: it gets the lock. The second connects under a name
	// of its own, so the server shows when it has tried the lock (and found it held).
	app := pgtest.Name("lockwait")
	sep := "?"
	if strings.Contains(cs, "?") {
		sep = "&"
	}
	got := make(chan error, 1)
	go func() {
		second, err := pgstate.Open(context.Background(), cs+sep+"application_name="+app, pgstate.Options{Workspace: ws, LockTimeout: time.Minute})
		if err == nil {
			err = second.Close()
		}
		got <- err
	}()
	waitTriedLock(t, cs, app, got)
	_ = first.Close()
	if err := <-got; err != nil {
		t.Fatalf("waiting writer: %v", err)
	}
}

// waitTriedLock waits until the connection named app has asked for an advisory lock, as the
// server's pg_stat_activity shows, or fails when the opener ends first or it takes a minute.
func waitTriedLock(t *testing.T, cs, app string, ended <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for {
		var n int
		err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_try_advisory_lock%'", app).Scan(&n)
		if err != nil {
			t.Fatalf("waiting for the second writer to try the lock: %v", err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-ended:
			t.Fatalf("the second writer ended before the first let go: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestPasswordNeverShown: the password of a connection string appears in no error, whether
// pgx, the server or this package wrote it.
func TestPasswordNeverShown(t *testing.T) {
	cs := pgtest.ConnString(t)
	const pw = "s3cret-Passw0rd"
	for _, bad := range []string{
		"postgres://root:" + pw + "@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",      // nothing listens
		"postgres://root:" + pw + "@127.0.0.1:5432/no_such_db_x?sslmode=disable",             // no database
		"postgres://root:" + pw + "@127.0.0.1:5432/test?sslmode=disable&pool_max_conns=oops", // unknown parameter
		"postgres://root:" + pw + "@[::1:5432/test",                                          // not a URL
		"host=127.0.0.1 port=1 user=root password=" + pw + " dbname=test connect_timeout=2",
		"host=127.0.0.1 port=5432 user=root password='" + pw + "' dbname=test sslmode=disable workspace",
		"postgres//root:" + pw + "@127.0.0.1:5432/test", // a typo: neither URL nor keyword/value
		"postgres://root:" + pw + "@127.0.0.1:5432/test?sslmode=bogus",
	} {
		s, err := pgstate.Open(context.Background(), bad, pgstate.Options{Workspace: pgtest.Name("pw")})
		if err == nil {
			_ = s.Close()
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error shows the password: %v", err)
		}
		t.Logf("%v", err)
	}
	for in, want := range map[string]string{
		"postgres://u:" + pw + "@h:5432/d?sslmode=disable": "postgres://u:xxxxx@h:5432/d?sslmode=disable",
		"postgres://u@h/d?password=" + pw:                  "postgres://u@h/d?password=xxxxx",
		"host=h password=" + pw + " dbname=d":              "host=h password=xxxxx dbname=d",
		"host=h password='a b' dbname=d":                   "host=h password=xxxxx dbname=d",
		cs:                                                 cs,
	} {
		if got := pgstate.RedactConnString(in); got != want {
			t.Errorf("RedactConnString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWorkspaceName(t *testing.T) {
	for _, bad := range []string{"", "-x", "a b", "a/b", strings.Repeat("a", 64), "ü"} {
		if pgstate.CheckWorkspace(bad) == nil {
			t.Errorf("CheckWorkspace(%q) accepted it", bad)
		}
	}
	if _, err := pgstate.Open(context.Background(), "postgres://root@127.0.0.1:5432/test", pgstate.Options{Workspace: "a b"}); err == nil {
		t.Error("Open accepted workspace \"a b\"")
	}
}

// TestUnstorable: what PostgreSQL's text cannot hold is refused before anything is written.
func TestUnstorable(t *testing.T) {
	cs := pgtest.ConnString(t)
	s := open(t, cs, pgstate.Options{Workspace: pgtest.Workspace(t, cs)})
	ctx := context.Background()
	nul := statetest.FullRecord("nul")
	nul.LastError = "a\x00b"
	old := statetest.FullRecord("old")
	old.CreatedAt = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []*state.Record{nul, old} {
		if err := s.Put(ctx, statetest.PendingRecord("good"), r); err == nil || !strings.Contains(err.Error(), r.ForeignID) {
			t.Errorf("Put of %s: %v, want an error naming it", r.ForeignID, err)
		}
	}
	snap, err := s.Snapshot(ctx)
	if err != nil || len(snap.Records) != 0 || snap.Serial != 0 {
		t.Fatalf("after refused Puts: %v %v", snap, err)
	}
}

// TestBatchIsOneTransaction checks what group commits rely on: a pgx batch outside an
// explicit transaction is one implicit transaction, so a failure anywhere in it undoes it all.
func TestBatchIsOneTransaction(t *testing.T) {
	cs := pgtest.ConnString(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TEMPORARY TABLE batch_atomic (v int)"); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue("INSERT INTO batch_atomic VALUES (1)")
	b.Queue("INSERT INTO batch_atomic VALUES (2)")
	b.Queue("SELECT 1 / 0")
	if err := conn.SendBatch(ctx, b).Close(); err == nil {
		t.Fatal("a batch with a division by zero succeeded")
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM batch_atomic").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after a failed batch the table has %d rows (%v), want 0", n, err)
	}
}

// TestLeastPrivilege: the privileges the README gives are enough. Once the tables exist, a
// role with only INSERT, UPDATE, DELETE and SELECT on them applies, and a role with only
// SELECT plans (reads) but cannot write.
func TestLeastPrivilege(t *testing.T) {
	cs := pgtest.ConnString(t)
	ctx := context.Background()
	schema := pgtest.Schema(t, cs)
	ws := "least-privilege"
	owner := open(t, cs, pgstate.Options{Schema: schema, Workspace: ws})
	if err := owner.Put(ctx, statetest.FullRecord("a")); err != nil {
		t.Fatal(err)
	}
	owner.Close()

	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	q := pgx.Identifier{schema}.Sanitize()
	writer, reader := pgtest.Name("w")[2:], pgtest.Name("r")[2:]
	writer, reader = "invoiceform_t_writer_"+writer, "invoiceform_t_reader_"+reader
	for _, sql := range []string{
		"CREATE ROLE " + writer + " LOGIN",
		"CREATE ROLE " + reader + " LOGIN",
		"GRANT USAGE ON SCHEMA " + q + " TO " + writer + ", " + reader,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + q + " TO " + writer,
		"GRANT SELECT ON ALL TABLES IN SCHEMA " + q + " TO " + reader,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, cs)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer conn.Close(ctx)
		for _, role := range []string{writer, reader} {
			// The schema is dropped by pgtest after this; the roles own nothing.
			_, _ = conn.Exec(ctx, "REVOKE ALL ON ALL TABLES IN SCHEMA "+q+" FROM "+role)
			_, _ = conn.Exec(ctx, "REVOKE ALL ON SCHEMA "+q+" FROM "+role)
			if _, err := conn.Exec(ctx, "DROP ROLE "+role); err != nil {
				t.Errorf("drop role %s: %v", role, err)
			}
		}
	})
	as := func(role string) string {
		cfg, err := pgx.ParseConfig(cs)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", role, cfg.Host, cfg.Port, cfg.Database)
	}
	w := open(t, as(writer), pgstate.Options{Schema: schema, Workspace: ws})
	if err := w.Put(ctx, statetest.PendingRecord("b")); err != nil {
		t.Fatalf("writer role: %v", err)
	}
	if err := w.Delete(ctx, "a"); err != nil {
		t.Fatalf("writer role: %v", err)
	}
	w.Close()
	r := open(t, as(reader), pgstate.Options{Schema: schema, Workspace: ws, ReadOnly: true})
	snap, err := r.Snapshot(ctx)
	if err != nil || len(snap.Records) != 1 || snap.Records["b"] == nil || snap.Serial != 3 {
		t.Fatalf("reader role: %v %v", snap, err)
	}
	if _, err := pgstate.Open(ctx, as(reader), pgstate.Options{Schema: schema, Workspace: "new-ws"}); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("a read-only role opened a new workspace for writing: %v", err)
	}
}

// TestGroupOrder: the writes of one group take effect in the order they joined it, as if
// committed one by one, and each counts in the serial.
func TestGroupOrder(t *testing.T) {
	cs := pgtest.ConnString(t)
	s := open(t, cs, pgstate.Options{Workspace: pgtest.Workspace(t, cs)})
	full := statetest.FullRecord("a")
	err := s.CommitGroup(
		[]*state.Record{statetest.PendingRecord("a"), statetest.PendingRecord("b")},
		[]*state.Record{full}, // replaces the pending a of the same group
		[]string{"b"},         // deletes the b put before it
		[]*state.Record{statetest.PendingRecord("b"), statetest.PendingRecord("c")}, // and b again
		[]string{"c"},
	)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Records) != 2 || snap.Records["a"].Phase != state.Issued || snap.Records["b"] == nil || snap.Serial != 5 {
		t.Fatalf("after the group: %d records (a %+v, b %v), serial %d; want issued a, b, serial 5",
			len(snap.Records), snap.Records["a"], snap.Records["b"] != nil, snap.Serial)
	}
}

// TestNewerSchemaRefused: tables migrated by a newer invoiceform are refused, for reading and
// for writing, and left as they are.
func TestNewerSchemaRefused(t *testing.T) {
	cs := pgtest.ConnString(t)
	ctx := context.Background()
	schema := pgtest.Schema(t, cs)
	s := open(t, cs, pgstate.Options{Schema: schema})
	s.Close()
	conn, err := pgx.Connect(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE "+pgx.Identifier{schema}.Sanitize()+".schema_version SET version = 99"); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{true, false} {
		_, err := pgstate.Open(ctx, cs, pgstate.Options{Schema: schema, ReadOnly: ro})
		if !errors.Is(err, state.ErrNewerFormat) || !strings.Contains(err.Error(), "version 99") {
			t.Fatalf("read-only %v: %v, want ErrNewerFormat naming version 99", ro, err)
		}
	}
	var v int
	if err := conn.QueryRow(ctx, "SELECT version FROM "+pgx.Identifier{schema}.Sanitize()+".schema_version").Scan(&v); err != nil || v != 99 {
		t.Fatalf("version now %d (%v)", v, err)
	}
}
