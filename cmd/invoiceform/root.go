package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/peterbourgon/ff/v3/ffcli"
)

func rootCommand(e *env) *ffcli.Command {
	fs := newFlagSet(e, "invoiceform")
	chdir := fs.String("chdir", "", "switch to directory `DIR` before running the command: the configuration, state and relative paths are read there")
	version := fs.Bool("version", false, "print the version and exit (same as the version command)")
	subs := []*ffcli.Command{
		validateCommand(e),
		fmtCommand(e),
		planCommand(e),
		applyCommand(e),
		showCommand(e),
		stateCommand(e),
		currenciesCommand(e),
		serveCommand(e),
		emulatorCommand(e),
		versionCommand(e),
	}
	root := &ffcli.Command{
		Name:       "invoiceform",
		ShortUsage: "invoiceform [-chdir=DIR] COMMAND [flags] [args]",
		LongHelp: `invoiceform declares CryptoProcessing invoices in HCL files, plans them against a
local state, and issues exactly the missing ones. Run "invoiceform COMMAND -help" for a
command's flags.`,
		FlagSet:     fs,
		Subcommands: subs,
		UsageFunc:   usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if *version {
				return printVersion(e)
			}
			if len(args) == 0 {
				fs.Usage()
				return exitCode(exitError)
			}
			return usageError{fmt.Sprintf("unknown command %q%s", args[0], suggestCommand(args[0], subs))}
		},
	}
	// -chdir must apply before any subcommand reads files: wrap every Exec.
	for _, s := range allCommands(subs) {
		if s.Exec == nil {
			continue
		}
		exec := s.Exec
		s.Exec = func(ctx context.Context, args []string) error {
			if *chdir != "" {
				if err := os.Chdir(*chdir); err != nil {
					return fmt.Errorf("-chdir=%s: %v", *chdir, unwrapPathError(err))
				}
			}
			return exec(ctx, args)
		}
	}
	return root
}

func allCommands(cs []*ffcli.Command) []*ffcli.Command {
	var out []*ffcli.Command
	for _, c := range cs {
		out = append(out, c)
		out = append(out, allCommands(c.Subcommands)...)
	}
	return out
}

func suggestCommand(name string, subs []*ffcli.Command) string {
	for _, s := range subs {
		if levenshtein.Distance(strings.ToLower(name), s.Name, nil) <= 2 {
			return fmt.Sprintf("; did you mean %q?", s.Name)
		}
	}
	return ""
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
