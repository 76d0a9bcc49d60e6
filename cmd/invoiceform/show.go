package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/plan"
)

type showArgs struct {
	vars  varArgs
	state stateArgs
	view  viewArgs
}

func showCommand(e *env) *ffcli.Command {
	var a showArgs
	fs := newFlagSet(e, "show")
	a.vars.bind(fs)
	a.state.bind(fs)
	a.view.bind(fs)
	return &ffcli.Command{
		Name:       "show",
		ShortUsage: "invoiceform show [-json | -markdown] [-show-sensitive] [-no-color] [-state=PATH] [-lock-timeout=DURATION] [-var NAME=VALUE]... [-var-file=FILE]... [PLANFILE]",
		ShortHelp:  "show a saved plan, or without one a summary of the state",
		LongHelp: `With PLANFILE, renders a plan saved by "plan -out" as plan showed it; a truncated or
damaged file is refused. The file holds no request body: in a directory whose configuration
(loaded with -var, -var-file and INVOICEFORM_VAR_* as plan loads it) declares the very bodies
the plan hashed, they are shown (redacted unless -show-sensitive); elsewhere the review data
only (actions, foreign_ids, currencies, amounts, body hashes). Without PLANFILE, summarises
the state: lineage, serial, binding, records per phase and status, and totals per currency.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if err := a.view.check(); err != nil {
				return err
			}
			switch len(args) {
			case 0:
				return runShowState(ctx, e, a, newStateView(e, a.view.json, a.view.markdown))
			case 1:
				p, created, err := plan.ReadFile(args[0])
				if err != nil {
					return err
				}
				files := attachConfig(e, a.vars, p, args[0])
				v := newPlanView(e, a.view)
				v.Saved(p, created)
				return v.Plan(p, files)
			default:
				return usageError{fmt.Sprintf("show takes at most one PLANFILE, got %d arguments", len(args))}
			}
		},
	}
}

func runShowState(ctx context.Context, e *env, a showArgs, v stateView) error {
	if err := a.state.configureFromDir(e); err != nil {
		return err
	}
	snap, exists, err := readSnapshot(ctx, e, a.state)
	if err != nil {
		return err
	}
	return v.Summary(plan.SummarizeState(a.state.where(), snap, exists))
}

// attachConfig gives the saved plan p the declared bodies of the configuration in the
// directory, when there is one and it declares exactly the bodies p hashed (plan.Attach), and
// returns its files for diagnostic snippets. Otherwise p is shown without bodies, and a note
// on stderr says why when a configuration is there but does not fit.
func attachConfig(e *env, vars varArgs, p *plan.Plan, file string) map[string]*hcl.File {
	if names, _ := filepath.Glob("*.hcl"); len(names) == 0 {
		return nil
	}
	cfg, _, diags := loadConfig(e, vars)
	if diags.HasErrors() {
		fmt.Fprintf(e.stderr, "Showing %s without request bodies: the configuration here does not load (invoiceform validate shows why).\n", file)
		return nil
	}
	if err := plan.Attach(p, cfg.Invoices); err != nil {
		fmt.Fprintf(e.stderr, "Showing %s without request bodies: %v.\n", file, err)
		return nil
	}
	return cfg.Files
}
