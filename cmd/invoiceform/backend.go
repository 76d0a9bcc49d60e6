package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
	"github.com/invoiceform/invoiceform/state/pgstate"
)

// defaultStatePath is relative to the working directory, which -chdir has made the
// configuration directory: the state lives beside the config it records.
const defaultStatePath = "invoiceform.state"

// envPGConnStr selects the PostgreSQL backend and gives its connection string; it wins over
// conn_str in settings { backend "pg" }, so that the password can stay in a CI secret.
const envPGConnStr = "INVOICEFORM_PG_CONN_STR"

// serveWriteGrace is the least wait for a bbolt state's lock: longer than invoiceform serve
// holds it for one write.
const serveWriteGrace = time.Second

// stateArgs are the flags every command that touches the state takes, and where the state
// turned out to be.
type stateArgs struct {
	path        string
	pathSet     bool // -state was given: the file wins over any other backend
	lockTimeout time.Duration

	loc location
}

// location is a resolved state: a bbolt file, or a PostgreSQL workspace.
type location struct {
	pg        bool
	path      string
	connStr   string
	workspace string
	// name says where the state is in messages: the path, or the database and workspace
	// (never the password).
	name string
}

// pathFlag is -state: it remembers whether it was given.
type pathFlag struct{ a *stateArgs }

func (f pathFlag) String() string {
	if f.a == nil {
		return ""
	}
	return f.a.path
}

func (f pathFlag) Set(v string) error {
	if v == "" {
		// An empty path would read as "no state yet" to readers.
		return errors.New("must not be empty; it names the state file, e.g. -state=" + defaultStatePath)
	}
	f.a.path, f.a.pathSet = v, true
	return nil
}

// waitDuration is a duration flag that refuses negative values, which would otherwise pass
// silently as "do not wait".
type waitDuration time.Duration

func (d *waitDuration) String() string { return time.Duration(*d).String() }
func (d *waitDuration) Set(v string) error {
	p, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("not a duration; write e.g. 30s or 2m")
	}
	if p < 0 {
		return errors.New("must not be negative")
	}
	*d = waitDuration(p)
	return nil
}

func (a *stateArgs) bind(fs *flag.FlagSet) {
	a.path = defaultStatePath
	fs.Var(pathFlag{a}, "state", "keep the state in the bbolt file `PATH`, whatever the settings block or "+envPGConnStr+" say")
	fs.Var((*waitDuration)(&a.lockTimeout), "lock-timeout", "how long to wait for another invoiceform process to release the state, a `DURATION` (e.g. 30s); 0 fails at once")
}

// configure decides where the state is. Precedence: -state=PATH (a bbolt file); else
// PostgreSQL when INVOICEFORM_PG_CONN_STR is set or the settings have a backend "pg" block
// (the environment's connection string wins over conn_str; the workspace comes from the
// block, default "default"); else the file invoiceform.state.
func (a *stateArgs) configure(e *env, settings *config.Settings) error {
	var be *config.Backend
	if settings != nil {
		be = settings.Backend
	}
	connStr := e.getenv(envPGConnStr)
	switch {
	case a.pathSet || (connStr == "" && be == nil):
		a.loc = location{path: a.path, name: a.path}
		return nil
	case connStr == "" && be.ConnStr == "":
		return fmt.Errorf("the settings keep the state in PostgreSQL (backend \"pg\" at %s), but give no connection string: set %s (or conn_str in the block)", be.DeclRange, envPGConnStr)
	}
	if connStr == "" {
		connStr = be.ConnStr
		// From the configuration (a variable, perhaps): its password joins the redaction.
		if e.secrets != nil {
			if err := addConnString(e.secrets, fmt.Sprintf("conn_str (%s)", be.ConnStrRange), connStr); err != nil {
				return err
			}
		}
	}
	ws := config.DefaultWorkspace
	if be != nil {
		ws = be.Workspace
	}
	a.loc = location{pg: true, connStr: connStr, workspace: ws,
		name: fmt.Sprintf("%s (workspace %q)", pgstate.RedactConnString(connStr), ws)}
	return nil
}

// configureFromDir reads only the settings block of the configuration directory, for the
// commands that do not load the whole configuration (state, show, apply PLANFILE).
func (a *stateArgs) configureFromDir(e *env) error {
	if a.pathSet {
		return a.configure(e, nil)
	}
	cfg, diags := config.Load(".", config.LoadOptions{SettingsOnly: true, Environ: e.environ})
	if len(diags) > 0 {
		if err := humanPlanView(e, viewArgs{}).Diagnostics(cfg.Files, diags); err != nil {
			return err
		}
		if diags.HasErrors() {
			fmt.Fprintln(e.stderr, "The settings block says where the state is; fix it first (or name a state file with -state=PATH).")
			return exitCode(exitError)
		}
	}
	return a.configure(e, &cfg.Settings)
}

// where names the state for messages.
func (a *stateArgs) where() string { return a.loc.name }

// open opens the state; read-only opens never create or change anything. writers is the
// number of goroutines that will Put at once (0 for the default).
func (a *stateArgs) open(ctx context.Context, e *env, readOnly bool, writers int) (state.Store, error) {
	var (
		s     state.Store
		notes []string
	)
	if a.loc.pg {
		ctx, cancel := context.WithTimeout(ctx, a.lockTimeout+time.Minute)
		defer cancel()
		ps, err := pgstate.Open(ctx, a.loc.connStr, pgstate.Options{ReadOnly: readOnly, LockTimeout: a.lockTimeout, Writers: writers, Workspace: a.loc.workspace})
		if err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return nil, noPGState{a.loc.name, err}
			}
			return nil, err
		}
		s, notes = ps, ps.Notes
	} else {
		// invoiceform serve holds the lock for one write at a time (milliseconds): wait at
		// least that long rather than fail because a callback was being recorded.
		bs, err := boltstate.Open(a.loc.path, boltstate.Options{ReadOnly: readOnly, LockTimeout: max(a.lockTimeout, serveWriteGrace), Writers: writers})
		if err != nil {
			return nil, err
		}
		s, notes = bs, bs.Notes
	}
	for _, n := range notes {
		fmt.Fprintf(e.stderr, "Note: %s\n", n)
	}
	return s, nil
}

// noPGState is a workspace nothing was applied to yet; it matches state.ErrNotFound.
type noPGState struct {
	name string
	err  error
}

func (e noPGState) Error() string {
	return fmt.Sprintf("no state in %s: nothing has been applied here yet", e.name)
}

func (e noPGState) Unwrap() error { return e.err }

// exists reports whether there is a state to change, without creating one.
func (a *stateArgs) exists(ctx context.Context, e *env) (bool, error) {
	if !a.loc.pg {
		_, err := os.Stat(a.loc.path)
		return !errors.Is(err, os.ErrNotExist), nil
	}
	s, err := a.open(ctx, e, true, 0)
	if errors.Is(err, state.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.Close()
}

// openSnapshot opens the state where configure found it and reads one snapshot. The caller
// closes the store; a writable store keeps its lock until then.
func openSnapshot(ctx context.Context, e *env, a *stateArgs, readOnly bool) (state.Store, *state.Snapshot, error) {
	s, err := a.open(ctx, e, readOnly, 0)
	if err != nil {
		return nil, nil, err
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		_ = s.Close()
		return nil, nil, err
	}
	return s, snap, nil
}

// openStateSnapshot is the start of the state subcommands: find the state from the settings
// block (or -state), open it and read one snapshot.
func openStateSnapshot(ctx context.Context, e *env, a *stateArgs, readOnly bool) (state.Store, *state.Snapshot, error) {
	if err := a.configureFromDir(e); err != nil {
		return nil, nil, err
	}
	return openSnapshot(ctx, e, a, readOnly)
}
