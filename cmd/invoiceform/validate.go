package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/diagview"
	"github.com/invoiceform/invoiceform/plan"
)

type validateArgs struct {
	vars    varArgs
	cache   cacheArgs
	json    bool
	noColor bool
}

func validateCommand(e *env) *ffcli.Command {
	var a validateArgs
	fs := newFlagSet(e, "validate")
	a.vars.bind(fs)
	a.cache.bind(fs)
	fs.BoolVar(&a.json, "json", false, "print the result as one JSON document (docs/json-diagnostics.md) on stdout")
	fs.BoolVar(&a.noColor, "no-color", false, "never colour the output (NO_COLOR does the same)")
	return &ffcli.Command{
		Name:       "validate",
		ShortUsage: "invoiceform validate [-json] [-var NAME=VALUE]... [-var-file=FILE]... [-cache-dir=DIR]",
		ShortHelp:  "check the configuration: syntax, values and every API rule",
		LongHelp: `Loads every *.hcl file of the directory, evaluates it and checks each invoice against
the rules of the CryptoProcessing API. Reads no state and uses no network. Exits 0 when the
configuration is valid (warnings are printed but do not fail), 1 otherwise.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(_ context.Context, args []string) error {
			if err := noArgs("validate", args); err != nil {
				return err
			}
			return runValidate(e, a, newValidateView(e, a))
		},
	}
}

func runValidate(e *env, a validateArgs, v validateView) error {
	cfg, _, diags := loadConfigCached(e, a.vars, a.cache.open(e))
	if err := v.Diagnostics(cfg.Files, diags); err != nil {
		return err
	}
	if diags.HasErrors() {
		return exitCode(exitError)
	}
	_, warns := diagview.Counts(diags)
	v.Valid(len(cfg.Invoices), warns)
	return nil
}

// validateView shows validate's result: the diagnostics, and for people a closing line.
type validateView interface {
	Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) error
	// Valid says that the configuration is valid.
	Valid(invoices, warnings int)
}

func newValidateView(e *env, a validateArgs) validateView {
	if a.json {
		return jsonValidateView{plan.JSONView{Stdout: e.stdout}}
	}
	return humanValidateView{humanPlanView(e, viewArgs{noColor: a.noColor})}
}

type humanValidateView struct{ plan.HumanView }

func (v humanValidateView) Valid(invoices, warns int) {
	msg := fmt.Sprintf("The configuration is valid: %s.", plural(invoices, "invoice"))
	if warns > 0 {
		msg = fmt.Sprintf("The configuration is valid: %s, %s.", plural(invoices, "invoice"), plural(warns, "warning"))
	}
	fmt.Fprintln(v.Stdout, msg)
}

// jsonValidateView's document holds the counts already.
type jsonValidateView struct{ plan.JSONView }

func (jsonValidateView) Valid(int, int) {}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
