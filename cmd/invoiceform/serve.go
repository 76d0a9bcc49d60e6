package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/serve"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
	"github.com/invoiceform/invoiceform/state/pgstate"
)

// serveLockTimeout is serve's default -lock-timeout: how long one write waits for the bbolt
// state's lock before the callback is answered 503.
const serveLockTimeout = 2 * time.Second

func serveCommand(e *env) *ffcli.Command {
	var a stateArgs
	a.lockTimeout = serveLockTimeout
	fs := newFlagSet(e, "serve")
	a.bind(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "listen on `ADDR` (host:port)")
	cert := fs.String("tls-cert", "", "serve HTTPS with the certificate chain in `FILE` (PEM); with -tls-key")
	key := fs.String("tls-key", "", "the private key of -tls-cert, a PEM `FILE`")
	return &ffcli.Command{
		Name:       "serve",
		ShortUsage: "invoiceform serve [-listen=ADDR] [-tls-cert=FILE -tls-key=FILE] [-state=PATH] [-lock-timeout=DURATION]",
		ShortHelp:  "receive the API's signed callbacks and record each invoice's status",
		LongHelp: `Receives the callbacks CryptoProcessing sends on every status change of an invoice (POST
/callbacks), checks each (X-Processing-Key, the HMAC-SHA512 signature of the raw body, at most
1 MiB, the documented shape) and records its status in the state, answering 200 only once the
write is durable. GET /healthz answers ok; GET /metrics gives Prometheus metrics.

Credentials come from INVOICEFORM_API_KEY and INVOICEFORM_API_SECRET. The state is found as for
the other commands (-state, the settings block, INVOICEFORM_PG_CONN_STR). On a bbolt file, serve
takes the lock only for each write, waiting up to -lock-timeout (default 2s) and answering 503
with Retry-After when it cannot, so plan, apply and state list work while it runs. On
PostgreSQL it never takes the workspace's lock; several serve processes may share a workspace.
SIGINT or SIGTERM stops it within seconds. See docs/serve.md.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("serve", args); err != nil {
				return err
			}
			if (*cert == "") != (*key == "") {
				return usageError{"-tls-cert and -tls-key go together"}
			}
			return runServe(ctx, e, a, *listen, *cert, *key)
		},
	}
}

// boltRecorder opens the state file for each batch of callbacks and closes it after, so the
// lock is held only while one transaction commits.
type boltRecorder struct {
	path    string
	timeout time.Duration
	log     *slog.Logger
}

func (b boltRecorder) RecordCallbacks(ctx context.Context, in []state.Incoming) ([]state.Outcome, error) {
	s, err := boltstate.Open(b.path, boltstate.Options{LockTimeout: b.timeout})
	if err != nil {
		return nil, err
	}
	for _, n := range s.Notes {
		b.log.Info(n)
	}
	out, err := s.RecordCallbacks(ctx, in)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return out, err
}

func runServe(ctx context.Context, e *env, a stateArgs, listen, cert, key string) error {
	apiKey, secret := e.getenv("INVOICEFORM_API_KEY"), e.getenv("INVOICEFORM_API_SECRET")
	if apiKey == "" || secret == "" {
		return errors.New("serve needs INVOICEFORM_API_KEY and INVOICEFORM_API_SECRET: the callbacks are signed with the secret of that key")
	}
	if err := a.configureFromDir(e); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	var rec serve.Recorder
	if a.loc.pg {
		octx, cancel := context.WithTimeout(ctx, time.Minute)
		ps, err := pgstate.Open(octx, a.loc.connStr, pgstate.Options{Callbacks: true, Workspace: a.loc.workspace})
		cancel()
		if err != nil {
			return err
		}
		defer ps.Close()
		for _, n := range ps.Notes {
			fmt.Fprintf(e.stderr, "Note: %s\n", n)
		}
		rec = ps
	} else {
		rec = boltRecorder{path: a.loc.path, timeout: a.lockTimeout, log: log}
	}
	h := serve.New(serve.Options{Key: apiKey, Secret: secret, Recorder: rec, Log: log})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if cert != "" {
			errc <- srv.ServeTLS(ln, cert, key)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	scheme := "http"
	if cert != "" {
		scheme = "https"
	}
	fmt.Fprintf(e.stderr, "Listening on %s://%s/callbacks, recording into %s\n", scheme, ln.Addr(), a.where())
	select {
	case err := <-errc:
		h.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	h.Close()
	fmt.Fprintln(e.stderr, "Stopped.")
	if err != nil {
		return fmt.Errorf("serve: shutting down: %w", err)
	}
	return nil
}
