package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/peterbourgon/ff/v3/ffcli"
	"golang.org/x/term"

	"github.com/invoiceform/invoiceform/redact"
)

// Exit codes of the command-line contract (DESIGN.md).
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
	// exitUnformatted is fmt -check's answer when a file would change (as terraform fmt).
	exitUnformatted = 3
)

// gcPercent is the garbage collector's GOGC unless the environment sets one: a run is short
// and its heap is mostly the configuration it keeps, so collecting half as often saves about a
// tenth of the CPU of loading 100,000 literal blocks, for about 20% more peak memory
// (README, Performance).
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if path := os.Getenv("INVOICEFORM_CPUPROFILE"); path != "" {
		// For measuring the real binary (README, Performance); not part of the contract.
		if stop, err := startCPUProfile(path); err == nil {
			defer stop()
		} else {
			fmt.Fprintf(os.Stderr, "Warning: INVOICEFORM_CPUPROFILE: %v\n", err)
		}
	}
	code := run(context.Background(), os.Args[1:], &env{
		stdin:   os.Stdin,
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		environ: os.Environ(),
	})
	if code != exitOK {
		stopProfile()
		os.Exit(code)
	}
}

var stopProfile = func() {}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	stopProfile = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
	return stopProfile, nil
}

// env is what a command may touch of the outside world, so tests can run it in-process.
// run wraps stdout and stderr in the redaction of the known secrets (secrets.go).
type env struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
	secrets *redact.Redactor
	// flags holds what the flag package printed while parsing (flagOutput).
	flags flagOutput
}

// flagOutput collects what the flag package prints while the command line is parsed: the
// usage on -help, which run prints, or an error line followed by the whole usage, of which
// run prints the error only, with a pointer to -help.
type flagOutput struct {
	buf bytes.Buffer
	fs  *flag.FlagSet // the flag set that printed last
	// parsed: the command line was parsed; a usage printed now (invoiceform without a
	// command) goes to stderr as it is written.
	parsed bool
}

// flagWriter is one flag set's output into e.flags.
type flagWriter struct {
	e  *env
	fs *flag.FlagSet
}

func (w flagWriter) Write(p []byte) (int, error) {
	if w.e.flags.parsed {
		return w.e.stderr.Write(p)
	}
	w.e.flags.fs = w.fs
	return w.e.flags.buf.Write(p)
}

func (e *env) getenv(name string) string {
	for i := len(e.environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(e.environ[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// color reports whether output to w may use ANSI colours: a terminal, NO_COLOR unset, and no
// -no-color flag.
func (e *env) color(w io.Writer, noColor bool) bool {
	if noColor || e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := underlying(w).(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// underlying is the writer under the redaction, for terminal checks.
func underlying(w io.Writer) io.Writer {
	if rw, ok := w.(*redact.Writer); ok {
		return rw.Underlying()
	}
	return w
}

// width is the terminal width for wrapping diagnostics, or 0 (no wrapping) off a terminal.
func (e *env) width(w io.Writer) uint {
	if f, ok := underlying(w).(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			return uint(cols - 1)
		}
		return 78
	}
	return 0
}

// exitCode carries an exit code through ffcli's error return.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit %d", int(c)) }

// usageError is a mistake on the command line; the message is printed with a hint to -help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run runs the command line args; ctx is the life of the whole run, which every call that
// may block (the network, a lock) takes.
func run(ctx context.Context, args []string, e *env) int {
	secrets, err := environSecrets(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "Error: %s\n", err)
		return exitError
	}
	out, errOut := secrets.Writer(e.stdout), secrets.Writer(e.stderr)
	defer func() {
		_ = out.Flush()
		_ = errOut.Flush()
	}()
	re := *e
	e = &re
	e.stdout, e.stderr, e.secrets = out, errOut, secrets
	root := rootCommand(e)
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = e.stderr.Write(e.flags.buf.Bytes())
			return exitOK
		}
		fmt.Fprintf(e.stderr, "Error: %s\n", flagError(err, e.flags.fs))
		return exitError
	}
	e.flags.parsed = true
	err = root.Run(ctx)
	var code exitCode
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &usage):
		fmt.Fprintf(e.stderr, "Error: %s\n\nRun \"invoiceform -help\" for the commands, or \"invoiceform COMMAND -help\" for one.\n", usage.msg)
		return exitError
	default:
		fmt.Fprintf(e.stderr, "Error: %s\n", withAdvice(err))
		return exitError
	}
}

// newFlagSet makes a flag set that reports errors instead of exiting. What it prints goes
// to e.flags while the command line is parsed, and run decides what reaches stderr: the
// usage on -help, one line and a pointer to -help on a mistake.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(flagWriter{e, fs})
	return fs
}

// flagError is the one-line message for a command line the flag package refused: what was
// wrong, a suggestion for a misspelt flag, and where the flags are listed.
func flagError(err error, fs *flag.FlagSet) string {
	if u := errors.Unwrap(err); u != nil { // ff wraps it in "error parsing commandline arguments"
		err = u
	}
	msg := err.Error()
	cmd := "invoiceform"
	if fs != nil {
		if fs.Name() != "invoiceform" {
			cmd += " " + fs.Name()
		}
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			msg = fmt.Sprintf("%s does not have a flag -%s%s", cmd, name, suggestFlag(name, fs))
		}
	}
	return fmt.Sprintf("%s\n\nRun \"%s -help\" for its flags.", msg, cmd)
}

// suggestFlag is "; did you mean -NAME?" for the flag of fs closest to name, or "".
func suggestFlag(name string, fs *flag.FlagSet) string {
	name = strings.TrimLeft(name, "-")
	if k, _, ok := strings.Cut(name, "="); ok {
		name = k
	}
	best, dist := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		if d := levenshtein.Distance(strings.ToLower(name), f.Name, nil); d < dist {
			best, dist = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean -%s?", best)
}

// noArgs refuses positional arguments for commands that take none.
func noArgs(cmd string, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("%s takes no arguments, but got %q. Flags go before arguments, e.g. invoiceform %s -json.", cmd, args, cmd)}
	}
	return nil
}

// usageFunc prints help in the house style: usage line, prose, then flags as Go prints them.
func usageFunc(c *ffcli.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n", c.ShortUsage)
	if c.LongHelp != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(c.LongHelp))
	}
	if len(c.Subcommands) > 0 {
		b.WriteString("\nCommands:\n")
		for _, s := range c.Subcommands {
			fmt.Fprintf(&b, "  %-10s %s\n", s.Name, s.ShortHelp)
		}
	}
	hasFlags := false
	c.FlagSet.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		b.WriteString("\nFlags:\n")
		out := c.FlagSet.Output()
		var fb strings.Builder
		c.FlagSet.SetOutput(&fb)
		c.FlagSet.PrintDefaults()
		c.FlagSet.SetOutput(out)
		b.WriteString(fb.String())
	}
	return strings.TrimRight(b.String(), "\n")
}
