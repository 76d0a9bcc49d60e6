package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/peterbourgon/ff/v3/ffcli"
	"golang.org/x/term"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

type applyArgs struct {
	planArgs
	autoApprove bool
	parallelism int
	rate        float64
	emulator    bool
	timeout     time.Duration
	maxWait     time.Duration
	budget      time.Duration
}

func applyCommand(e *env) *ffcli.Command {
	var a applyArgs
	fs := newFlagSet(e, "apply")
	a.vars.bind(fs)
	a.state.bind(fs)
	fs.BoolVar(&a.view.json, "json", false, "print one JSON object per line: the plan summary, each event, the final summary")
	fs.BoolVar(&a.view.noColor, "no-color", false, "never colour the output (NO_COLOR does the same)")
	fs.BoolVar(&a.view.showSensitive, "show-sensitive", false, "show email_user and sender_data in the plan instead of (sensitive)")
	fs.BoolVar(&a.detailed, "detailed-exitcode", false, "exit 0 when there was nothing to do, 1 on error, 2 when changes were applied")
	fs.BoolVar(&a.prune, "prune", false, "cancel every open issued invoice that is no longer declared")
	fs.Var(&a.targets, "target", "limit the apply to `FOREIGN_ID` (repeatable)")
	fs.BoolVar(&a.autoApprove, "auto-approve", false, "apply without asking for \"yes\"")
	fs.IntVar(&a.parallelism, "parallelism", apply.DefaultParallelism, "send at most `N` requests at once")
	fs.Float64Var(&a.rate, "rate", 0, "send at most `N` requests per second (a decimal, e.g. 0.5); 0 means no limit")
	fs.BoolVar(&a.emulator, "emulator", false, "apply against an in-process emulator with throwaway credentials and an in-memory state (the real state is never touched)")
	fs.DurationVar(&a.timeout, "request-timeout", api.DefaultTimeout, "how long one request may take, a `DURATION`, before its outcome counts as unknown")
	fs.DurationVar(&a.maxWait, "max-retry-wait", apply.DefaultMaxRetryWait, "the longest wait between two attempts of a request, a `DURATION`, a server's Retry-After included")
	fs.DurationVar(&a.budget, "retry-budget", apply.DefaultRetryBudget, "how long one invoice's retries may go on, a `DURATION` from its first attempt; then it is left pending (or failed, if nothing can have been created)")
	return &ffcli.Command{
		Name:       "apply",
		ShortUsage: "invoiceform apply [plan flags] [-auto-approve] [-parallelism=N] [-rate=N] [-json] [-detailed-exitcode] [-request-timeout=DURATION] [-max-retry-wait=DURATION] [-retry-budget=DURATION] [-emulator] [PLANFILE]",
		ShortHelp:  "issue the planned invoices exactly once, resolve interrupted ones, send the planned cancels",
		LongHelp: `Plans (or reads PLANFILE, a plan saved by "plan -out", after checking that the state has not
moved since and that the configuration here gives that very plan: PLANFILE holds no request
body, and every body is rebuilt from the configuration and sent only if it hashes to the
plan's), shows the plan, asks for "yes" (on a terminal; elsewhere -auto-approve is
required), then applies it. Every create is journalled in the state before it is sent, so an
interrupted or failed run is finished by the next apply without creating any invoice twice.
Credentials come from INVOICEFORM_API_KEY and INVOICEFORM_API_SECRET; the state is bound to the
endpoint and key on the first apply. With -emulator, an in-process emulator and an in-memory
state are used instead, and the credentials are not read.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Sprintf("apply takes at most one plan file, but got %q. Flags go before the file.", args)}
			}
			if a.parallelism < 1 || a.parallelism > 1000 {
				return usageError{fmt.Sprintf("-parallelism=%d: must be between 1 and 1000", a.parallelism)}
			}
			if a.rate < 0 {
				return usageError{"-rate must not be negative"}
			}
			// NaN and Inf parse as floats; a rate near zero would wait for ever after the
			// first request.
			if math.IsNaN(a.rate) || a.rate != 0 && (a.rate < minRate || a.rate > maxRate) {
				return usageError{fmt.Sprintf("-rate=%v: must be 0 (no limit) or between %v and %.0f requests per second", a.rate, minRate, maxRate)}
			}
			if a.timeout <= 0 {
				return usageError{"-request-timeout must be positive"}
			}
			if a.maxWait <= 0 {
				return usageError{"-max-retry-wait must be positive"}
			}
			if a.budget <= 0 {
				return usageError{"-retry-budget must be positive"}
			}
			file := ""
			if len(args) == 1 {
				file = args[0]
				if len(a.targets) > 0 || a.prune {
					return usageError{"a saved plan is applied as it is: -target and -prune belong to the plan command (-var and -var-file load the configuration the plan is checked against)"}
				}
				if a.emulator {
					return usageError{"-emulator plans afresh against its own empty state; it cannot apply a saved plan"}
				}
			}
			v := newApplyView(e, a)
			err := runApply(ctx, e, &a, file, v)
			var code exitCode
			if err != nil && !errors.As(err, &code) {
				v.Error(err)
			}
			return err
		},
	}
}

// The -rate bounds: one request per 100 s at the slowest; at the fastest far beyond what the
// API allows (and within the limiter's integer burst).
const (
	minRate = 0.01
	maxRate = 1e6
)

// applyTarget is where apply sends requests and keeps the state.
type applyTarget struct {
	endpoint string
	client   *api.Client
	store    state.Store
	binding  state.Binding
	cleanup  func()
	// checked: the credentials were checked already, before a new state was created.
	checked bool
	// currencies are the account's, read by the credentials check.
	currencies []api.Currency
}

// credentials reads the API key and secret for the command cmd; the secret goes to the
// client only.
func credentials(e *env, cmd string) (key, secret string, err error) {
	key, secret = e.getenv("INVOICEFORM_API_KEY"), e.getenv("INVOICEFORM_API_SECRET")
	var missing []string
	if key == "" {
		missing = append(missing, "INVOICEFORM_API_KEY")
	}
	if secret == "" {
		missing = append(missing, "INVOICEFORM_API_SECRET")
	}
	if len(missing) > 0 {
		hint := "; try apply -emulator for a local run without them"
		if cmd != "apply" {
			hint = ""
		}
		return "", "", fmt.Errorf("%s needs credentials: set %s (the API key and secret of your CryptoProcessing merchant%s). Nothing was done", cmd, strings.Join(missing, " and "), hint)
	}
	return key, secret, nil
}

// runApply: the plan (saved, or made now against the state), shown; approval; the
// credentials checked; the state bound to the endpoint and key; the run; its summary.
func runApply(ctx context.Context, e *env, a *applyArgs, file string, v apply.View) error {
	key, secret, err := applyCredentials(e, a)
	if err != nil {
		return err
	}
	in, err := readApplyInput(e, a, file, v)
	if err != nil {
		return err
	}
	t, err := openTarget(ctx, e, *a, in.endpoint, key, secret, in.precheck(a))
	if err != nil {
		return err
	}
	defer t.cleanup()
	p, err := apply.Prepare(ctx, t.store, t.binding, in.source(a, t))
	if err != nil {
		return err
	}
	if err := v.Plan(p, in.files()); err != nil {
		return err
	}
	switch {
	case p.HasErrors():
		v.PlanErrors(p.Diagnostics)
		return exitCode(exitError)
	case !p.HasChanges():
		v.NoChanges()
		return nil
	}
	if !a.autoApprove && in.saved == nil { // a saved plan was reviewed when it was made, as in Terraform
		if err := approve(e, p); err != nil {
			return err
		}
	}
	if !t.checked {
		curs, err := checkCredentials(ctx, a, t.client)
		if err != nil {
			return err
		}
		t.currencies = curs
	}
	if err := checkPlanCurrencies(p, t.currencies); err != nil {
		return err
	}
	if err := t.store.Bind(ctx, t.binding); err != nil {
		return err
	}
	res, runErr := execute(ctx, p, t, a, v)
	if err := v.Summary(res, runErr); err != nil {
		return err
	}
	return applyExit(a, res, runErr)
}

// newApplyView picks the view of apply from -json, once.
func newApplyView(e *env, a applyArgs) apply.View {
	if a.view.json {
		return apply.JSONView{JSONView: plan.JSONView{Stdout: e.stdout, ShowSensitive: a.view.showSensitive}, Stderr: e.stderr, Hint: advice}
	}
	v := apply.HumanView{HumanView: humanPlanView(e, a.view), TTY: isTerminal(e.stderr), Hint: advice}
	if a.emulator {
		v.Epilogue = "These invoices live in an in-process emulator that has now stopped; the real state was not touched. Run apply without -emulator, with INVOICEFORM_API_KEY and INVOICEFORM_API_SECRET set, to issue them for real."
	}
	return v
}

// applyCredentials are the API key and secret; -emulator needs none.
func applyCredentials(e *env, a *applyArgs) (key, secret string, err error) {
	if a.emulator {
		return "", "", nil
	}
	return credentials(e, "apply")
}

// applyInput is what an apply starts from: a saved plan, or the loaded configuration.
type applyInput struct {
	saved    *plan.Plan
	file     string          // of the saved plan
	cfg      *config.Config  // always loaded: a saved plan's bodies are rebuilt from it
	diags    hcl.Diagnostics // the configuration's warnings
	endpoint string
}

// readApplyInput reads the saved plan, if any, and loads the configuration (showing its
// diagnostics when it has errors), and finds the state. A saved plan holds no request body:
// apply rebuilds every body from the configuration loaded here, as plan loads it (-var,
// -var-file, INVOICEFORM_VAR_*), and apply.Prepare sends nothing unless they hash to the
// plan's (plan.Verify).
func readApplyInput(e *env, a *applyArgs, file string, v apply.View) (*applyInput, error) {
	var saved *plan.Plan
	if file != "" {
		p, _, err := plan.ReadFile(file)
		if err != nil {
			return nil, err // it names the file
		}
		saved = p
	}
	cfg, ep, diags := loadConfig(e, a.vars)
	if diags.HasErrors() {
		if err := v.Diagnostics(cfg.Files, diags); err != nil {
			return nil, err
		}
		if saved != nil {
			fmt.Fprintf(e.stderr, "The configuration here does not load, so %s cannot be checked against it: nothing was sent.\n", file)
		}
		v.PlanErrors(diags)
		return nil, exitCode(exitError)
	}
	if !a.emulator {
		if err := a.state.configure(e, &cfg.Settings); err != nil {
			return nil, err
		}
	}
	return &applyInput{saved: saved, file: file, cfg: cfg, diags: diags, endpoint: ep}, nil
}

// source says apply.Prepare where the plan comes from.
func (in *applyInput) source(a *applyArgs, t *applyTarget) apply.Source {
	src := apply.Source{Saved: in.saved, File: in.file, Where: a.state.where()}
	if in.saved != nil {
		src.Verify = func(p *plan.Plan, snap *state.Snapshot) error {
			return plan.Verify(p, in.cfg.Invoices, snap)
		}
		return src
	}
	src.Make = func(snap *state.Snapshot) *plan.Plan {
		p := plan.Make(in.cfg.Invoices, snap, plan.Options{Targets: a.targets, Prune: a.prune, Endpoint: t.endpoint, KeyFingerprint: t.binding.KeyFingerprint})
		p.Diagnostics = append(in.diags, p.Diagnostics...) // the config's warnings, then the plan's
		return p
	}
	return src
}

// precheck checks, against the account's currencies, the creates of a plan made against an
// empty state: a saved plan's, or every declared invoice (within -target) that is not a
// cancel.
func (in *applyInput) precheck(a *applyArgs) func([]api.Currency) error {
	return func(held []api.Currency) error {
		if in.saved != nil {
			return checkPlanCurrencies(in.saved, held)
		}
		targets := map[string]bool{}
		for _, t := range a.targets {
			targets[t] = true
		}
		var creates []currencyUse
		for _, inv := range in.cfg.Invoices {
			if inv.Cancel || len(targets) > 0 && !targets[inv.ForeignID] {
				continue
			}
			creates = append(creates, currencyUse{inv.ForeignID, inv.Request.Currency, inv.Request.SenderCurrency})
		}
		return checkCurrencies(creates, held)
	}
}

func (in *applyInput) files() map[string]*hcl.File {
	if in.cfg == nil {
		return map[string]*hcl.File{}
	}
	return in.cfg.Files
}

// checkCredentials proves the key and the secret with calls that change nothing, before
// anything is journalled, and reads the account's currencies, which the plan's creates must
// be in. The in-process emulator's credentials always work; only its currencies are read.
func checkCredentials(ctx context.Context, a *applyArgs, c *api.Client) ([]api.Currency, error) {
	var curs []api.Currency
	err := apply.CheckCredentials(ctx, func(ctx context.Context) error {
		if !a.emulator {
			if _, err := c.Accounts(ctx); err != nil {
				return err
			}
		}
		var err error
		curs, err = c.Currencies(ctx)
		return err
	}, apply.Options{MaxAttempts: 4, MaxRetryWait: a.maxWait, RetryBudget: a.budget})
	switch {
	case err == nil:
		return curs, nil
	case api.OutcomeOf(err) == api.Fatal:
		return nil, fmt.Errorf("credentials check failed, nothing was applied: the API refused the key or the request signature: %w", err)
	}
	return nil, fmt.Errorf("credentials check failed, nothing was applied: %w", err)
}

// execute runs the plan. The first Ctrl-C stops starting requests and is acknowledged at
// once with the number of requests in flight, which finish and are recorded; stopping the
// signal relay then lets a second one end the process at once, leaving those records
// pending for the next apply to resolve (the journal still guarantees no duplicate).
func execute(ctx context.Context, p *plan.Plan, t *applyTarget, a *applyArgs, v apply.View) (*apply.Result, error) {
	runCtx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	go func() {
		<-runCtx.Done()
		stopSignals()
	}()
	// The relay is stopped before the acknowledgement is written: a second Ctrl-C by whoever
	// read it must reach the default handler.
	stopping := func(inFlight int) {
		stopSignals()
		v.Stopping(inFlight)
	}
	hook, flush := v.Progress()
	res, err := apply.Run(runCtx, p, t.store, t.client, apply.Options{Parallelism: a.parallelism, Rate: a.rate, Progress: hook,
		Stopping: stopping, MaxRetryWait: a.maxWait, RetryBudget: a.budget})
	flush()
	return res, err
}

// applyExit is the exit of a run that got as far as its summary.
func applyExit(a *applyArgs, res *apply.Result, runErr error) error {
	switch {
	case runErr != nil:
		return runErr
	case !res.OK():
		return exitCode(exitError)
	case a.detailed && res.Changed():
		return exitCode(exitChanges)
	}
	return nil
}

// openTarget opens the state and the client: the real ones, or with -emulator an in-process
// emulator and an in-memory state.
//
// precheck is run on the account's currencies when they are read before a new state is
// created, so that a plan refused for its currencies leaves no state file behind.
func openTarget(ctx context.Context, e *env, a applyArgs, ep, key, secret string, precheck func([]api.Currency) error) (*applyTarget, error) {
	if a.emulator {
		// Its account holds every currency the emulator knows, GBP and JPY among them.
		srv, err := emulator.New(emulator.Options{Merchants: []emulator.Merchant{
			{Key: emulator.DefaultKey, Secret: emulator.DefaultSecret, Currencies: emulator.KnownCurrencies()}}})
		if err != nil {
			return nil, err
		}
		base, err := srv.Start("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		c, err := api.New(api.Config{Endpoint: base, Key: emulator.DefaultKey, Secret: emulator.DefaultSecret, Timeout: a.timeout})
		if err != nil {
			_ = srv.Close()
			return nil, err
		}
		fmt.Fprintf(e.stderr, "Started an in-process emulator at %s with an in-memory state: nothing here reaches the real API or the real state.\n", base)
		mem := state.NewMemory()
		return &applyTarget{endpoint: base, client: c, store: mem,
			binding: state.Binding{Endpoint: base, KeyFingerprint: state.KeyFingerprint(emulator.DefaultKey)},
			cleanup: func() { _ = mem.Close(); _ = srv.Close() }}, nil
	}
	c, err := api.New(api.Config{Endpoint: ep, Key: key, Secret: secret, Timeout: a.timeout})
	if err != nil {
		return nil, err
	}
	// A state is created only for credentials that work: a new state file (or PostgreSQL
	// workspace) is opened, which creates it, after the check; an existing one is checked
	// against the endpoint and key first, and the credentials after the approval.
	exists, err := a.state.exists(ctx, e)
	if err != nil {
		return nil, err
	}
	var curs []api.Currency
	if !exists {
		if curs, err = checkCredentials(ctx, &a, c); err != nil {
			return nil, err
		}
		if err := precheck(curs); err != nil {
			return nil, err
		}
	}
	s, err := a.state.open(ctx, e, false, apply.StateWriters(a.parallelism))
	if err != nil {
		return nil, err
	}
	return &applyTarget{endpoint: ep, client: c, store: s,
		binding: state.Binding{Endpoint: ep, KeyFingerprint: state.KeyFingerprint(key)},
		cleanup: func() { _ = s.Close() }, checked: !exists, currencies: curs}, nil
}

// approvalQuestion is what apply asks before p: "issue", "cancel", or both, as p does.
func approvalQuestion(p *plan.Plan) string {
	var issue, cancel bool
	for _, c := range p.Changes {
		switch c.Action {
		case plan.Create, plan.Resolve:
			issue = true
		case plan.Cancel:
			cancel = true
		}
	}
	switch {
	case issue && cancel:
		return "Do you want to issue and cancel these invoices?"
	case cancel:
		return "Do you want to cancel these invoices?"
	}
	return "Do you want to issue these invoices?"
}

// approve asks for "yes" on a terminal and refuses elsewhere.
func approve(e *env, p *plan.Plan) error {
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return errors.New("apply asks for approval, but standard input is not a terminal: review the plan above, then use -auto-approve (or apply a saved plan file). Nothing was applied")
	}
	fmt.Fprintf(e.stderr, "\n%s Only \"yes\" is accepted.\n  Enter a value: ", approvalQuestion(p))
	line, _ := bufio.NewReader(f).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errors.New("apply cancelled: the answer was not \"yes\". Nothing was applied")
	}
	return nil
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
