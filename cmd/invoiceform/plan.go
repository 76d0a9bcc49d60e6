package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

// viewArgs choose how a plan is shown; plan and show share them.
type viewArgs struct {
	json, markdown, noColor, showSensitive bool
}

func (a *viewArgs) bind(fs interface {
	BoolVar(*bool, string, bool, string)
}) {
	fs.BoolVar(&a.json, "json", false, "print the plan as one JSON document (docs/json-plan.md)")
	fs.BoolVar(&a.markdown, "markdown", false, "print the plan as a pull-request comment in Markdown (always under 60,000 characters)")
	fs.BoolVar(&a.noColor, "no-color", false, "never colour the output (NO_COLOR does the same)")
	fs.BoolVar(&a.showSensitive, "show-sensitive", false, "show email_user and sender_data instead of (sensitive); never in a public pull request")
}

func (a *viewArgs) check() error {
	if a.json && a.markdown {
		return usageError{"-json and -markdown cannot be used together"}
	}
	return nil
}

type planArgs struct {
	vars     varArgs
	cache    cacheArgs
	state    stateArgs
	view     viewArgs
	out      string
	detailed bool
	prune    bool
	targets  stringList
}

func planCommand(e *env) *ffcli.Command {
	var a planArgs
	fs := newFlagSet(e, "plan")
	a.vars.bind(fs)
	a.cache.bind(fs)
	a.state.bind(fs)
	a.view.bind(fs)
	fs.StringVar(&a.out, "out", "", "save the plan to `FILE` (mode 0600; no request body and no personal data, but amounts and ids: keep it private)")
	fs.BoolVar(&a.detailed, "detailed-exitcode", false, "exit 0 when there are no changes, 1 on error, 2 when there are changes")
	fs.BoolVar(&a.prune, "prune", false, "plan a cancel for every open issued invoice that is no longer declared")
	fs.Var(&a.targets, "target", "limit the plan to `FOREIGN_ID` (repeatable)")
	return &ffcli.Command{
		Name:       "plan",
		ShortUsage: "invoiceform plan [-out=FILE] [-json | -markdown] [-detailed-exitcode] [-var NAME=VALUE]... [-var-file=FILE]... [-cache-dir=DIR] [-target=FOREIGN_ID]... [-prune] [-state=PATH] [-lock-timeout=DURATION] [-no-color] [-show-sensitive]",
		ShortHelp:  "show what apply would do: the diff between the configuration and the state",
		LongHelp: `Loads the configuration, reads the state (read-only: a shared lock on a file, no lock in
PostgreSQL; a missing state is an empty one and is not created) and shows each invoice apply
would create, cancel or resolve, the conflicts that stop it, and totals per currency. Needs no
credentials and no API access.
The endpoint is INVOICEFORM_ENDPOINT, else settings { endpoint }, else production; the plan
records it, and the fingerprint of INVOICEFORM_API_KEY when that is set.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("plan", args); err != nil {
				return err
			}
			if err := a.view.check(); err != nil {
				return err
			}
			return runPlan(ctx, e, a, newPlanView(e, a.view))
		},
	}
}

// endpoint is the API endpoint a command works against: INVOICEFORM_ENDPOINT wins over the
// settings block, so the same reviewed config can be pointed at the emulator or the sandbox
// without editing it; plan files record the endpoint and apply refuses a plan made for
// another, so the override can never silently redirect a reviewed plan.
func endpoint(e *env, cfg *config.Config) (string, hcl.Diagnostics) {
	if ep := e.getenv("INVOICEFORM_ENDPOINT"); ep != "" {
		if err := config.CheckEndpoint(ep); err != nil {
			return "", hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid INVOICEFORM_ENDPOINT",
				Detail:   fmt.Sprintf("The endpoint in INVOICEFORM_ENDPOINT %s.", err),
			}}
		}
		return ep, nil
	}
	if cfg != nil && cfg.Settings.Endpoint != "" {
		return cfg.Settings.Endpoint, nil
	}
	return config.DefaultEndpoint, nil
}

// keyFingerprint is the fingerprint of INVOICEFORM_API_KEY, or "" when it is not set. The
// secret is never read: plan needs no credentials.
func keyFingerprint(e *env) string {
	if k := e.getenv("INVOICEFORM_API_KEY"); k != "" {
		return state.KeyFingerprint(k)
	}
	return ""
}

// readSnapshot reads the state read-only; a missing state file is an empty state, and is not
// created.
func readSnapshot(ctx context.Context, e *env, a stateArgs) (*state.Snapshot, bool, error) {
	return readSnapshotWith(ctx, e, a, state.SnapshotOptions{})
}

// readSnapshotWith is readSnapshot reading what opts asks for (state.SnapshotWith).
func readSnapshotWith(ctx context.Context, e *env, a stateArgs, opts state.SnapshotOptions) (*state.Snapshot, bool, error) {
	s, err := a.open(ctx, e, true, 0)
	if errors.Is(err, state.ErrNotFound) {
		return &state.Snapshot{Records: map[string]*state.Record{}}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer s.Close()
	snap, err := state.SnapshotWith(ctx, s, opts)
	if err != nil {
		return nil, false, err
	}
	return snap, true, nil
}

// planSnapshotOptions are what plan reads of the state; TestPlanSummaries compares plan's
// output with what it is when every record is read whole.
var planSnapshotOptions = plan.SnapshotOptions

func runPlan(ctx context.Context, e *env, a planArgs, v plan.View) error {
	cfg, ep, diags := loadConfigCached(e, a.vars, a.cache.open(e))
	if diags.HasErrors() {
		if err := v.Diagnostics(cfg.Files, diags); err != nil {
			return err
		}
		return exitCode(exitError)
	}
	if err := a.state.configure(e, &cfg.Settings); err != nil {
		return err
	}
	opts := plan.Options{Targets: a.targets, Prune: a.prune, Endpoint: ep, KeyFingerprint: keyFingerprint(e)}
	// Unchanged invoices are read as summaries: the plan is the same, and at 1,000,000 records
	// their bodies are most of the snapshot.
	snap, _, err := readSnapshotWith(ctx, e, a.state, planSnapshotOptions(cfg.Invoices, opts))
	if err != nil {
		return err
	}
	p := plan.Make(cfg.Invoices, snap, opts)
	p.Diagnostics = append(diags, p.Diagnostics...) // the config's warnings, then the plan's
	// The plan file is encoded and written, under a temporary name, while the plan is shown:
	// at 100,000 invoices each takes tens of milliseconds, and there is a core for each. It is
	// put in place only once the plan was shown whole.
	var saving chan savedPlan
	if a.out != "" && !p.HasErrors() {
		saving = make(chan savedPlan, 1)
		go func() { saving <- savePlan(e, a.out, p) }()
	}
	viewErr := v.Plan(p, cfg.Files)
	if saving != nil {
		saved := <-saving
		if viewErr != nil || saved.err != nil {
			if saved.file != nil {
				saved.file.Discard()
			}
			return cmp.Or(viewErr, saved.err)
		}
		if err := saved.file.Commit(); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Saved the plan to %s (mode 0600: no request body and no personal data, but amounts and ids; keep it private). Apply exactly this plan with \"invoiceform apply %s\" in a checkout of this same configuration: apply rebuilds every body from it and sends nothing unless they hash to the plan's.\n", a.out, a.out)
	}
	if viewErr != nil {
		return viewErr
	}
	if p.HasErrors() {
		if a.out != "" {
			fmt.Fprintf(e.stderr, "The plan was not saved to %s: it has errors, and apply could not use it.\n", a.out)
		}
		return exitCode(exitError)
	}
	if a.detailed && p.HasChanges() {
		return exitCode(exitChanges)
	}
	return nil
}

// savedPlan is a plan file written beside its path, or why it was not.
type savedPlan struct {
	file *plan.TempFile
	err  error
}

// savePlan encodes p and writes it beside path under a temporary name.
func savePlan(e *env, path string, p *plan.Plan) savedPlan {
	f, err := plan.EncodeTemp(path, p, time.Now(), func(data []byte) error {
		if e.secrets.Contains(data) {
			// Only a configuration that copies a secret into an id or a warning can do this;
			// masking it would break the file's checksum, so it is not written at all.
			return fmt.Errorf("the plan was not saved to %s: it would hold a secret value of the environment (an id or a message of the configuration quotes it)", path)
		}
		return nil
	})
	return savedPlan{file: f, err: err}
}

// newPlanView picks the view of a plan from -json and -markdown, once.
func newPlanView(e *env, v viewArgs) plan.View {
	switch {
	case v.json:
		return plan.JSONView{Stdout: e.stdout, ShowSensitive: v.showSensitive}
	case v.markdown:
		return plan.MarkdownView{HumanView: humanPlanView(e, v)}
	}
	return humanPlanView(e, v)
}

// humanPlanView writes for people: colour and wrapping as the terminal allows.
func humanPlanView(e *env, v viewArgs) plan.HumanView {
	return plan.HumanView{Stdout: e.stdout, Stderr: e.stderr, Color: e.color(e.stdout, v.noColor),
		StderrColor: e.color(e.stderr, v.noColor), Width: e.width(e.stderr), ShowSensitive: v.showSensitive}
}
