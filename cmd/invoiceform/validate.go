package main

import (
	"context"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/diagview"
)

type validateArgs struct {
	vars    varArgs
	json    bool
	noColor bool
}

func validateCommand(e *env) *ffcli.Command {
	var a validateArgs
	fs := newFlagSet(e, "validate")
	a.vars.bind(fs)
	fs.BoolVar(&a.json, "json", false, "print the result as one JSON document (docs/json-diagnostics.md) on stdout")
	fs.BoolVar(&a.noColor, "no-color", false, "never colour the output (NO_COLOR does the same)")
	return &ffcli.Command{
		Name:       "validate",
		ShortUsage: "invoiceform validate [-json] [-var NAME=VALUE]... [-var-file=FILE]...",
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
			return runValidate(e, a)
		},
	}
}

func runValidate(e *env, a validateArgs) error {
	cfg, _, diags := loadConfig(e, a.vars)
	if err := printDiags(e, cfg.Files, diags, a.json, a.noColor); err != nil {
		return err
	}
	if diags.HasErrors() {
		return exitCode(exitError)
	}
	if !a.json {
		_, warns := diagview.Counts(diags)
		msg := fmt.Sprintf("The configuration is valid: %s.", plural(len(cfg.Invoices), "invoice"))
		if warns > 0 {
			msg = fmt.Sprintf("The configuration is valid: %s, %s.", plural(len(cfg.Invoices), "invoice"), plural(warns, "warning"))
		}
		fmt.Fprintln(e.stdout, msg)
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
