package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise the module
// version from the build info is used.
var version = ""

func versionCommand(e *env) *ffcli.Command {
	fs := newFlagSet(e, "version")
	return &ffcli.Command{
		Name:       "version",
		ShortUsage: "invoiceform version",
		ShortHelp:  "print the version",
		LongHelp:   "Prints the version of invoiceform, the commit it was built from when known, and the Go version.",
		FlagSet:    fs,
		UsageFunc:  usageFunc,
		Exec: func(_ context.Context, args []string) error {
			if err := noArgs("version", args); err != nil {
				return err
			}
			return printVersion(e)
		},
	}
}

func printVersion(e *env) error {
	v, rev := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	fmt.Fprintf(e.stdout, "invoiceform %s", v)
	if rev != "" {
		fmt.Fprintf(e.stdout, " (%s)", rev)
	}
	fmt.Fprintf(e.stdout, " %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
