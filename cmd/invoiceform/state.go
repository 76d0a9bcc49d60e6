package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

func stateCommand(e *env) *ffcli.Command {
	fs := newFlagSet(e, "state")
	subs := []*ffcli.Command{stateListCommand(e), stateShowCommand(e), stateRmCommand(e), stateAdoptCommand(e), stateExportCommand(e), stateImportCommand(e)}
	return &ffcli.Command{
		Name:       "state",
		ShortUsage: "invoiceform state COMMAND [flags] [args]",
		ShortHelp:  "inspect and manage the state: list, show, rm, adopt, export, import",
		LongHelp: `The state is the only record of which invoices were issued: the API cannot list them. It is
the file invoiceform.state in the configuration directory, or a PostgreSQL workspace when the
settings block has backend "pg" or INVOICEFORM_PG_CONN_STR is set (these commands read only
the settings block of the configuration; adopt reads the invoices too). These commands read it,
forget records, adopt invoices the state did not create, and back it up or move it between
backends. Every one takes -state=PATH (a file, whatever the settings say)
and -lock-timeout=DURATION.`,
		FlagSet:     fs,
		Subcommands: subs,
		UsageFunc:   usageFunc,
		Exec: func(_ context.Context, args []string) error {
			if len(args) == 0 {
				fs.Usage()
				return exitCode(exitError)
			}
			return usageError{fmt.Sprintf("unknown state command %q%s", args[0], suggestCommand(args[0], subs))}
		},
	}
}

func stateListCommand(e *env) *ffcli.Command {
	var a stateArgs
	var asJSON, unknown bool
	var format string
	fs := newFlagSet(e, "state list")
	a.bind(fs)
	fs.BoolVar(&asJSON, "json", false, "print a JSON array of records (README, \"State\") instead of a table; same as -format=json")
	fs.StringVar(&format, "format", "table", "table, json, or csv (RFC 4180: foreign_id, status, currency, amount, url, issued_at, paid_at)")
	fs.BoolVar(&unknown, "unknown", false, "list the verified callbacks for foreign_ids the state has no record of, instead of the records")
	return &ffcli.Command{
		Name:       "list",
		ShortUsage: "invoiceform state list [-json | -format=table|json|csv] [-unknown] [-state=PATH] [-lock-timeout=DURATION]",
		ShortHelp:  "list the records: foreign_id, phase, status, amount, API id, issued time, payment URL",
		LongHelp: `Lists every record of the state, sorted by foreign_id. The amount is the API's answer or,
for a pending record, the amount requested; the status is the last accepted callback's (or the
create answer's). -format=csv writes RFC 4180 CSV for mail merges and accounting: a header row,
then foreign_id, status, currency, amount, url, issued_at, paid_at; no personal data; a text
cell starting with = + - @ is prefixed with ' so that spreadsheets do not run it as a formula.
-unknown lists instead the callbacks invoiceform serve verified for foreign_ids the state does
not know (table or -json). Without a state file it says so and exits 0: nothing has been
applied here yet.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("state list", args); err != nil {
				return err
			}
			switch {
			case asJSON && format != "table" && format != "json":
				return usageError{"-json and -format=" + format + " cannot be used together"}
			case asJSON:
				format = "json"
			case format != "table" && format != "json" && format != "csv":
				return usageError{fmt.Sprintf("-format must be table, json or csv, not %q", format)}
			case unknown && format == "csv":
				return usageError{"-unknown has no CSV form: use the table or -json"}
			}
			if unknown {
				return runStateListUnknown(ctx, e, a, format == "json")
			}
			if format == "csv" {
				return runStateListCSV(ctx, e, a)
			}
			return runStateList(ctx, e, a, newStateView(e, format == "json", false))
		},
	}
}

func runStateList(ctx context.Context, e *env, a stateArgs, v stateView) error {
	s, snap, err := openStateSnapshot(ctx, e, &a, true)
	if errors.Is(err, state.ErrNotFound) {
		return v.List(a.where(), nil, false)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	return v.List(a.where(), plan.ListState(snap), true)
}

// runStateListCSV writes the records as CSV; without a state, the header row alone (and the
// note on stderr), so that a mail merge reads an empty list rather than fails.
func runStateListCSV(ctx context.Context, e *env, a stateArgs) error {
	s, snap, err := openStateSnapshot(ctx, e, &a, true)
	if errors.Is(err, state.ErrNotFound) {
		fmt.Fprintf(e.stderr, "No state at %s: nothing has been applied here yet.\n", a.where())
		return plan.WriteStateListCSV(e.stdout, nil)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	return plan.WriteStateListCSV(e.stdout, plan.ListState(snap))
}

// runStateListUnknown lists the unknown callbacks, oldest first.
func runStateListUnknown(ctx context.Context, e *env, a stateArgs, asJSON bool) error {
	s, snap, err := openStateSnapshot(ctx, e, &a, true)
	if errors.Is(err, state.ErrNotFound) {
		fmt.Fprintf(e.stderr, "No state at %s: nothing has been applied here yet.\n", a.where())
		snap, err = &state.Snapshot{}, nil
	} else if err != nil {
		return err
	} else {
		defer s.Close()
	}
	unknown := snap.Unknown
	if unknown == nil {
		unknown = []*state.UnknownCallback{}
	}
	if asJSON {
		return writeJSON(e.stdout, unknown)
	}
	if len(unknown) == 0 {
		fmt.Fprintf(e.stderr, "No unknown callbacks in %s.\n", a.where())
		return nil
	}
	return plan.WriteUnknownText(e.stdout, unknown)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func stateShowCommand(e *env) *ffcli.Command {
	var a stateArgs
	var asJSON, sensitive bool
	fs := newFlagSet(e, "state show")
	a.bind(fs)
	fs.BoolVar(&asJSON, "json", false, "print the record as JSON (the form of state export)")
	fs.BoolVar(&sensitive, "show-sensitive", false, "show email_user and sender_data instead of (sensitive)")
	return &ffcli.Command{
		Name:       "show",
		ShortUsage: "invoiceform state show [-json] [-show-sensitive] [-state=PATH] FOREIGN_ID",
		ShortHelp:  "show one record, with the request that was sent",
		LongHelp: `Shows everything the state knows of one invoice: its phase, the API's answer, timestamps and
the exact request body, with the personal data (email_user, sender_data) shown as
"(sensitive)" unless -show-sensitive is given.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Sprintf("state show takes one FOREIGN_ID, got %d arguments", len(args))}
			}
			return runStateShow(ctx, e, a, args[0], newStateView(e, asJSON, false), sensitive)
		},
	}
}

func runStateShow(ctx context.Context, e *env, a stateArgs, id string, v stateView, sensitive bool) error {
	s, snap, err := openStateSnapshot(ctx, e, &a, true)
	if err != nil {
		return err
	}
	defer s.Close()
	r := snap.Records[id]
	if r == nil {
		return fmt.Errorf("no record with foreign_id %q in %s; \"invoiceform state list\" lists them", id, a.where())
	}
	if !sensitive {
		r = r.Redacted()
	}
	return v.Record(r)
}

func stateRmCommand(e *env) *ffcli.Command {
	var a stateArgs
	fs := newFlagSet(e, "state rm")
	a.bind(fs)
	return &ffcli.Command{
		Name:       "rm",
		ShortUsage: "invoiceform state rm [-state=PATH] [-lock-timeout=DURATION] FOREIGN_ID...",
		ShortHelp:  "forget records (the invoices stay issued at the API)",
		LongHelp: `Removes records from the state. This does not cancel anything: the invoices remain issued at
CryptoProcessing, and invoiceform will no longer know of them. All or nothing: if any
FOREIGN_ID is not in the state, nothing is removed and the command exits 1.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) == 0 {
				return usageError{"state rm needs at least one FOREIGN_ID"}
			}
			return runStateRm(ctx, e, a, args)
		},
	}
}

func runStateRm(ctx context.Context, e *env, a stateArgs, ids []string) error {
	if err := a.configureFromDir(e); err != nil {
		return err
	}
	// A missing state is not created just to find that nothing is in it.
	if ok, err := a.exists(ctx, e); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("no state at %s: nothing has been applied here yet", a.where())
	}
	// The exclusive lock is held from the snapshot to the Delete: no other process can change
	// the records between the check and the removal.
	s, snap, err := openSnapshot(ctx, e, &a, false)
	if err != nil {
		return err
	}
	defer s.Close()
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var missing []string
	for _, id := range ids {
		if snap.Records[id] == nil {
			missing = append(missing, fmt.Sprintf("%q", id))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not in %s: %s; nothing was removed", a.where(), strings.Join(missing, ", "))
	}
	if err := s.Delete(ctx, ids...); err != nil {
		return err
	}
	pending := 0
	for _, id := range ids {
		r := snap.Records[id]
		what := string(r.Phase)
		if r.ID != 0 {
			what += fmt.Sprintf(", invoice id %d", r.ID)
		}
		if r.Phase == state.Pending {
			pending++
		}
		fmt.Fprintf(e.stdout, "Removed %s (%s)\n", id, what)
	}
	fmt.Fprintf(e.stderr, "Warning: %s forgotten. The invoices remain issued at CryptoProcessing (rm cancels nothing), and invoiceform no longer knows of them.\n", plural(len(ids), "record"))
	if pending > 0 {
		fmt.Fprintf(e.stderr, "Warning: %d of them %s pending: the invoice may or may not have been created.\n", pending, map[bool]string{true: "was", false: "were"}[pending == 1])
	}
	return nil
}

func stateAdoptCommand(e *env) *ffcli.Command {
	var a stateArgs
	var va varArgs
	fs := newFlagSet(e, "state adopt")
	a.bind(fs)
	va.bind(fs)
	return &ffcli.Command{
		Name:       "adopt",
		ShortUsage: "invoiceform state adopt [-var NAME=VALUE]... [-var-file=FILE]... [-state=PATH] [-lock-timeout=DURATION] FOREIGN_ID...",
		ShortHelp:  "record declared invoices that exist at the API but not in the state (after a lost state)",
		LongHelp: `Records declared invoices as issued, on your word that they exist at CryptoProcessing: the
recovery path after a state was lost, or for invoices another tool created. apply never does
this on its own: "already taken" for an invoice this state did not send fails the invoice.

Each FOREIGN_ID must be declared in the configuration here (loaded with -var and -var-file as
plan does); its record keeps the declared request, so plan shows it unchanged. What stays
unknown: the API's invoice id, payment URL and status, and whether the invoice at the API has
the declared amount and currency — invoiceform did not create it and the API cannot be asked.
All or nothing: if any FOREIGN_ID is undeclared or already in the state, nothing is recorded
and the command exits 1. Nothing is sent to the API.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) == 0 {
				return usageError{"state adopt needs at least one FOREIGN_ID"}
			}
			return runStateAdopt(ctx, e, a, va, args)
		},
	}
}

func runStateAdopt(ctx context.Context, e *env, a stateArgs, va varArgs, ids []string) error {
	cfg, _, diags := loadConfig(e, va)
	if diags.HasErrors() {
		if err := humanPlanView(e, viewArgs{}).Diagnostics(cfg.Files, diags); err != nil {
			return err
		}
		return exitCode(exitError)
	}
	if err := a.configure(e, &cfg.Settings); err != nil {
		return err
	}
	declared := make(map[string]*config.Invoice, len(cfg.Invoices))
	for _, inv := range cfg.Invoices {
		declared[inv.ForeignID] = inv
	}
	var adoptees []apply.Adoptee
	var undeclared []string
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		inv := declared[id]
		if inv == nil {
			undeclared = append(undeclared, fmt.Sprintf("%q", id))
			continue
		}
		adoptees = append(adoptees, apply.Adoptee{ForeignID: id, Address: inv.Address, Body: inv.Body})
	}
	if len(undeclared) > 0 {
		return fmt.Errorf("not declared in the configuration: %s; only a declared invoice can be adopted (its record keeps the declared request); nothing was adopted", strings.Join(undeclared, ", "))
	}
	s, err := a.open(ctx, e, false, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	recs, err := apply.Adopt(ctx, s, adoptees, time.Now())
	if err != nil {
		return err
	}
	for i, r := range recs {
		money := ""
		if cur, amt, ok := invoice.Money(r.Body); ok {
			money = ", " + cur + " " + invoice.FormatMoney(cur, amt)
		}
		fmt.Fprintf(e.stdout, "Adopted %s (%s%s): recorded as issued, details unknown\n", r.ForeignID, adoptees[i].Address, money)
	}
	fmt.Fprintf(e.stderr, "Warning: %s recorded on your word, not the API's: the invoice id, payment URL and status, and whether the API holds the declared amount and currency, are unknown. invoiceform did not create %s.\n",
		plural(len(recs), "invoice"), map[bool]string{true: "it", false: "them"}[len(recs) == 1])
	return nil
}

func stateExportCommand(e *env) *ffcli.Command {
	var a stateArgs
	fs := newFlagSet(e, "state export")
	a.bind(fs)
	return &ffcli.Command{
		Name:       "export",
		ShortUsage: "invoiceform state export [-state=PATH] [-lock-timeout=DURATION] > backup.json",
		ShortHelp:  "write the whole state as JSON to standard output",
		LongHelp: `Writes the whole state, request bodies included, as one JSON document (format
"invoiceform-state", version 1) to standard output: a backup, or the way to move a state to
another file or backend with "state import". It holds personal data: keep it as private as the
state itself.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("state export", args); err != nil {
				return err
			}
			s, snap, err := openStateSnapshot(ctx, e, &a, true)
			if err != nil {
				return err
			}
			defer s.Close()
			return state.WriteExport(e.stdout, snap)
		},
	}
}

func stateImportCommand(e *env) *ffcli.Command {
	var a stateArgs
	fs := newFlagSet(e, "state import")
	a.bind(fs)
	return &ffcli.Command{
		Name:       "import",
		ShortUsage: "invoiceform state import [-state=PATH] [-lock-timeout=DURATION] FILE",
		ShortHelp:  "load a state export into an empty or missing state",
		LongHelp: `Reads a document written by "state export" (FILE, or - for standard input) into the state,
keeping its lineage, serial and binding. Only into a state that is missing or empty: an import
never merges, so it can never overwrite what was issued.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Sprintf("state import takes one FILE, got %d arguments", len(args))}
			}
			return runStateImport(ctx, e, a, args[0])
		},
	}
}

// maxExportSize bounds the export files state import reads; 100,000 records take about
// 100 MB.
const maxExportSize = 4 << 30

func runStateImport(ctx context.Context, e *env, a stateArgs, file string) error {
	in := e.stdin
	if file != "-" {
		// A regular file only: /dev/zero would be read until memory runs out.
		data, err := config.ReadRegularFile(file, maxExportSize)
		if err != nil {
			return fmt.Errorf("state import: %w", err)
		}
		in = bytes.NewReader(data)
	}
	snap, err := state.ReadExport(in)
	if err != nil {
		return fmt.Errorf("state import: %s: %w", file, err)
	}
	if err := a.configureFromDir(e); err != nil {
		return err
	}
	s, err := a.open(ctx, e, false, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Import(ctx, snap); err != nil {
		if errors.Is(err, state.ErrNotEmpty) {
			hint := "use -state=NEW_PATH"
			if a.loc.pg {
				hint = "name a new workspace in settings { backend \"pg\" { workspace = ... } }, or -state=NEW_PATH for a file"
			}
			return fmt.Errorf("%s: %w; import only into a missing or empty state (%s)", a.where(), err, hint)
		}
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Imported %s into %s (lineage %s, serial %d).\n", plural(len(snap.Records), "record"), a.where(), snap.Lineage, snap.Serial)
	return nil
}
