package main

import (
	"context"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/plan"
)

type showArgs struct {
	state stateArgs
	view  viewArgs
}

func showCommand(e *env) *ffcli.Command {
	var a showArgs
	fs := newFlagSet(e, "show")
	a.state.bind(fs)
	a.view.bind(fs)
	return &ffcli.Command{
		Name:       "show",
		ShortUsage: "invoiceform show [-json | -markdown] [-show-sensitive] [-no-color] [-state=PATH] [PLANFILE]",
		ShortHelp:  "show a saved plan, or without one a summary of the state",
		LongHelp: `With PLANFILE, renders a plan saved by "plan -out" exactly as plan showed it; a truncated
or altered file is refused. Without one, summarises the state: lineage, serial, binding,
records per phase and status, and totals per currency.`,
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
				v := newPlanView(e, a.view)
				v.Saved(p, created)
				return v.Plan(p, nil)
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
