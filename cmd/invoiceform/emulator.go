package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"strings"
	"syscall"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/emulator"
)

func emulatorCommand(e *env) *ffcli.Command {
	var opts emulator.Options
	fs := newFlagSet(e, "emulator")
	opts.Bind(fs)
	return &ffcli.Command{
		Name:       "emulator",
		ShortUsage: "invoiceform emulator [-listen=ADDR] [-key=KEY -secret=SECRET]... [-latency=DURATION] [fault flags]",
		ShortHelp:  "serve a local emulator of the CryptoProcessing API",
		LongHelp: `Serves an in-memory emulator of the CryptoProcessing API v2 (/api/v2) on loopback, faithful
to the documented behaviour, with seeded fault injection and /_emulator/ controls that are not
part of the real API. Without -key/-secret it accepts the public pair emulator-key /
emulator-secret and prints it. A -key without -secret takes its secret from
INVOICEFORM_EMULATOR_SECRET, which keeps it out of the process list. Runs until interrupted
(Ctrl-C or SIGTERM).`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("emulator", args); err != nil {
				return err
			}
			return runEmulator(ctx, e, &opts)
		},
	}
}

func runEmulator(ctx context.Context, e *env, opts *emulator.Options) error {
	if err := opts.SecretFromEnv(e.getenv(emulator.SecretEnv)); err != nil {
		return usageError{err.Error()}
	}
	if err := opts.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if !loopbackListen(opts.Listen) {
		fmt.Fprintf(e.stderr, "Warning: -listen=%s is not a loopback address: anyone who can reach it can create invoices with the credentials and drive the emulator.\n", opts.Listen)
	}
	// Debug: the README promises a line per request (method, path, status, key).
	opts.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Signals are caught before the banner says the emulator is up: a script that stops it
	// as soon as it has read the banner must get a clean shutdown, not a death by signal.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := emulator.New(*opts)
	if err != nil {
		return err
	}
	base, err := srv.Start(opts.Listen)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, srv.Describe(base))
	<-ctx.Done()
	stop()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("emulator: shutting down: %w", err)
	}
	fmt.Fprintln(e.stderr, "emulator stopped")
	return nil
}

// loopbackListen reports whether a listen address binds only loopback ("127.0.0.1:8787",
// "[::1]:0", "localhost:8787"); an empty host (":8787") binds every interface.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
