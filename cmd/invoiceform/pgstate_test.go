package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// pgDir is a configuration directory whose settings keep the state in PostgreSQL, in a
// workspace of the test's own; the connection string comes from the environment.
func pgDir(t *testing.T) (dir, connStr, workspace string) {
	t.Helper()
	connStr = pgtest.ConnString(t)
	workspace = pgtest.Workspace(t, connStr)
	dir = t.TempDir()
	src := "settings {\n  backend \"pg\" {\n    workspace = \"" + workspace + "\"\n  }\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, connStr, workspace
}

// testEnviron is the environment for commands a test runs: the test's own, without a
// PostgreSQL connection string a developer may have set, which would send a test written for
// the file backend to a shared database.
func testEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPGConnStr+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// invoiceform runs the command as a real process in dir and returns its exit code and output.
func invoiceform(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-chdir=" + dir}, args...)...)
	cmd.Env = append(append(testEnviron(), "INVOICEFORM_TEST_RUN_MAIN=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// TestStateMoveBoltPGBolt moves a state from a file to PostgreSQL and back with state export
// and state import: records, lineage, serial and binding arrive unchanged, and importing
// into a workspace that has a state is refused.
func TestStateMoveBoltPGBolt(t *testing.T) {
	dir, connStr, ws := pgDir(t)
	pgEnv := []string{envPGConnStr + "=" + connStr}
	src := filepath.Join(t.TempDir(), "src.state")
	b, err := boltstate.Open(src, boltstate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, r := range []*state.Record{statetest.FullRecord("a"), statetest.PendingRecord("p"), statetest.FullRecord("ü/☃")} {
		if err := b.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Bind(ctx, state.Binding{Endpoint: "https://app.sandbox.cryptoprocessing.com/api/v2", KeyFingerprint: state.KeyFingerprint("k")}); err != nil {
		t.Fatal(err)
	}
	want, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()

	code, first, stderr := invoiceform(t, dir, nil, "state", "export", "-state="+src)
	if code != 0 {
		t.Fatalf("export from the file: %d %s", code, stderr)
	}
	exported := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(exported, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := invoiceform(t, dir, pgEnv, "state", "import", exported)
	if code != 0 || !strings.Contains(stdout, `Imported 3 records into postgres://root@127.0.0.1:5432/test?sslmode=disable (workspace "`+ws+`")`) {
		t.Fatalf("import into PostgreSQL: %d\n%s%s", code, stdout, stderr)
	}
	code, second, stderr := invoiceform(t, dir, pgEnv, "state", "export")
	if code != 0 || second != first {
		t.Fatalf("export from PostgreSQL: %d %s\ndiffers from the file's export:\n%s\n%s", code, stderr, first, second)
	}
	code, _, stderr = invoiceform(t, dir, pgEnv, "state", "import", exported)
	if code != 1 || !strings.Contains(stderr, "state is not empty") || !strings.Contains(stderr, ws) {
		t.Fatalf("second import into the workspace: exit %d, %s; want 1 and ErrNotEmpty naming it", code, stderr)
	}
	back := filepath.Join(t.TempDir(), "back.state")
	if err := os.WriteFile(exported, []byte(second), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr = invoiceform(t, dir, pgEnv, "state", "import", "-state="+back, exported); code != 0 {
		t.Fatalf("import into a file: %d %s", code, stderr)
	}
	b, err = boltstate.Open(back, boltstate.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lineage != want.Lineage || got.Serial != want.Serial || got.Binding != want.Binding || len(got.Records) != 3 {
		t.Fatalf("after bolt -> pg -> bolt: lineage %s serial %d binding %+v, %d records; want %s %d %+v 3",
			got.Lineage, got.Serial, got.Binding, len(got.Records), want.Lineage, want.Serial, want.Binding)
	}
	var w1, w2 bytes.Buffer
	_ = state.WriteExport(&w1, want)
	_ = state.WriteExport(&w2, got)
	if w1.String() != w2.String() {
		t.Fatalf("records changed on the way")
	}
}

// TestPGStateLocked: while a writer holds the workspace, the commands that write wait
// -lock-timeout and fail naming the database and workspace; plan, which only reads, runs.
func TestPGStateLocked(t *testing.T) {
	dir, connStr, ws := pgDir(t)
	pgEnv := []string{envPGConnStr + "=" + connStr}
	s, err := pgstate.Open(context.Background(), connStr, pgstate.Options{Workspace: ws})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(context.Background(), statetest.FullRecord("a")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := invoiceform(t, dir, pgEnv, "state", "rm", "-lock-timeout=200ms", "a")
	if code != 1 || !strings.Contains(stderr, "state is locked by another invoiceform process") || !strings.Contains(stderr, ws) ||
		!strings.Contains(stderr, "127.0.0.1:5432/test") {
		t.Fatalf("state rm of a locked workspace: exit %d, %s", code, stderr)
	}
	code, stdout, stderr := invoiceform(t, dir, pgEnv, "state", "list")
	if code != 0 || !strings.Contains(stdout, "a ") {
		t.Fatalf("state list (read-only) while locked: exit %d, %s%s", code, stdout, stderr)
	}
}

// TestPGSettingsWithoutConnStr: a backend block without conn_str and without the
// environment variable is a clear error, and -state=PATH still reaches a file.
func TestPGSettingsWithoutConnStr(t *testing.T) {
	dir, _, _ := pgDir(t)
	code, _, stderr := invoiceform(t, dir, []string{envPGConnStr + "="}, "state", "list")
	if code != 1 || !strings.Contains(stderr, "give no connection string: set INVOICEFORM_PG_CONN_STR") {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	code, _, stderr = invoiceform(t, dir, []string{envPGConnStr + "="}, "state", "list", "-state=other.state")
	if code != 0 || !strings.Contains(stderr, "No state at other.state") {
		t.Fatalf("-state with a pg backend configured: exit %d, %s", code, stderr)
	}
}

// TestApplyLockContentionPostgres: while another process holds the workspace, apply waits
// -lock-timeout and fails without sending anything; once it is released, apply converges.
func TestApplyLockContentionPostgres(t *testing.T) {
	cs := pgtest.ConnString(t)
	ws := pgtest.Workspace(t, cs)
	dir, srv, base := applyWorld(t, 3, emulator.Options{})
	settings := "settings {\n  backend \"pg\" {\n    workspace = \"" + ws + "\"\n  }\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "settings.hcl"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: ws})
	if err != nil {
		t.Fatal(err)
	}
	cmd := applyProcess(dir, base, "-auto-approve", "-lock-timeout=300ms", "-json")
	cmd.Env = append(cmd.Env, envPGConnStr+"="+cs)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "locked by another invoiceform process") || !strings.Contains(string(out), `"type":"error"`) {
		t.Fatalf("apply under a held lock: %v\n%s", err, out)
	}
	if n := len(srv.Invoices()); n != 0 {
		t.Fatalf("%d invoices sent without the lock", n)
	}
	s.Close()
	cmd = applyProcess(dir, base, "-auto-approve")
	cmd.Env = append(cmd.Env, envPGConnStr+"="+cs)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: ws, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkStoreConverged(t, r, srv, 3)
}
