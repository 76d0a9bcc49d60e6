package serve

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/invoiceform/invoiceform/callback"
	"github.com/invoiceform/invoiceform/state"
)

// Recorder writes a batch of callbacks durably (state.CallbackStore, or one that opens and
// closes the state around each batch, as the bbolt backend does).
type Recorder interface {
	RecordCallbacks(ctx context.Context, in []state.Incoming) ([]state.Outcome, error)
}

// ErrBusy is what a Recorder returns (wrapped) when the state is locked by another process
// for longer than it may wait; the answer is 503 with Retry-After. state.ErrLocked is taken
// the same way.
var ErrBusy = errors.New("the state is busy")

// Options configure New.
type Options struct {
	Key, Secret string
	Recorder    Recorder
	Log         *slog.Logger
	// MaxBatch bounds the callbacks of one write; zero means 256.
	MaxBatch int
	// RetryAfter is the Retry-After of a 503; zero means 5 s.
	RetryAfter time.Duration
	// WriteTimeout bounds one batch's write; zero means 30 s.
	WriteTimeout time.Duration
	Now          func() time.Time
}

// Server is the handler. Close stops its writer after the HTTP server has shut down.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	reqs    chan *pending
	done    chan struct{}
	closeMu sync.Once
	reg     *prometheus.Registry

	accepted *prometheus.CounterVec
	refused  *prometheus.CounterVec
	statuses *prometheus.CounterVec
	failures *prometheus.CounterVec
	latency  prometheus.Histogram
	batch    prometheus.Histogram
}

type pending struct {
	in   state.Incoming
	done chan result
}

type result struct {
	outcome state.Outcome
	err     error
}

// New makes the handler and starts its writer.
func New(opts Options) *Server {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 5 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), reqs: make(chan *pending, opts.MaxBatch), done: make(chan struct{}), reg: prometheus.NewRegistry()}
	s.accepted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "invoiceform_callbacks_accepted_total",
		Help: "Callbacks answered 200, by outcome: applied, duplicate, stale (behind the recorded status), unknown (no record has the foreign_id)."}, []string{"outcome"})
	s.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "invoiceform_callbacks_refused_total",
		Help: "Callbacks answered 4xx and not recorded, by reason."}, []string{"reason"})
	s.statuses = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "invoiceform_callback_statuses_total",
		Help: "Statuses recorded by applied callbacks."}, []string{"status"})
	s.failures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "invoiceform_callback_write_failures_total",
		Help: "Callbacks answered 5xx because the state could not be written: busy (503) or error (500)."}, []string{"kind"})
	s.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "invoiceform_state_write_seconds",
		Help: "Time of one state write (a batch of callbacks), lock and fsync included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	s.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "invoiceform_state_write_batch_size",
		Help: "Callbacks per state write.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)})
	s.reg.MustRegister(s.accepted, s.refused, s.statuses, s.failures, s.latency, s.batch)
	s.mux.HandleFunc("/callbacks", s.callbacks)
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	s.mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	go s.loop()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops the writer once every handler has returned (call it after
// http.Server.Shutdown).
func (s *Server) Close() {
	s.closeMu.Do(func() { close(s.reqs) })
	<-s.done
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, err error) {
	reason := callback.ReasonOf(err)
	s.refused.WithLabelValues(string(reason)).Inc()
	// No part of the body: it may hold personal data, and it is not verified.
	s.opts.Log.Warn("callback refused", "reason", string(reason), "remote", r.RemoteAddr, "error", err.Error())
	http.Error(w, http.StatusText(code)+": "+err.Error(), code)
}

func (s *Server) callbacks(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, r, http.StatusMethodNotAllowed, &callback.Error{Reason: callback.ReasonMethod, Detail: "only POST"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, callback.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.refuse(w, r, http.StatusRequestEntityTooLarge, &callback.Error{Reason: callback.ReasonTooLarge, Detail: "the body is over 1 MiB"})
			return
		}
		s.refuse(w, r, http.StatusBadRequest, &callback.Error{Reason: callback.ReasonMalformed, Detail: "the body could not be read"})
		return
	}
	if err := callback.Verify(s.opts.Key, s.opts.Secret, r.Header.Get("X-Processing-Key"), r.Header.Get("X-Processing-Signature"), body); err != nil {
		s.refuse(w, r, http.StatusUnauthorized, err)
		return
	}
	in, err := callback.Decode(body, s.opts.Now())
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, err)
		return
	}
	p := &pending{in: in, done: make(chan result, 1)}
	s.reqs <- p
	res := <-p.done
	switch {
	case errors.Is(res.err, ErrBusy) || errors.Is(res.err, state.ErrLocked):
		s.failures.WithLabelValues("busy").Inc()
		s.opts.Log.Warn("callback not recorded: the state is busy; answered 503", "foreign_id", in.ForeignID, "status", in.Callback.Status)
		w.Header().Set("Retry-After", strconv.Itoa(int(s.opts.RetryAfter.Seconds())))
		http.Error(w, "the state is busy; retry later", http.StatusServiceUnavailable)
		return
	case res.err != nil:
		s.failures.WithLabelValues("error").Inc()
		s.opts.Log.Error("callback not recorded", "foreign_id", in.ForeignID, "status", in.Callback.Status, "error", res.err.Error())
		http.Error(w, "the state could not be written", http.StatusInternalServerError)
		return
	}
	s.accepted.WithLabelValues(res.outcome.String()).Inc()
	if res.outcome == state.Applied {
		s.statuses.WithLabelValues(in.Callback.Status).Inc()
	}
	s.opts.Log.Info("callback recorded", "foreign_id", in.ForeignID, "status", in.Callback.Status, "outcome", res.outcome.String())
	w.WriteHeader(http.StatusOK)
}

// loop writes queued callbacks: it takes one, then whatever else is queued (up to
// MaxBatch), and writes them in one transaction, so concurrent deliveries share a commit.
func (s *Server) loop() {
	defer close(s.done)
	for first := range s.reqs {
		group := []*pending{first}
	drain:
		for len(group) < s.opts.MaxBatch {
			select {
			case p, ok := <-s.reqs:
				if !ok {
					break drain
				}
				group = append(group, p)
			default:
				break drain
			}
		}
		in := make([]state.Incoming, len(group))
		for i, p := range group {
			in[i] = p.in
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
		start := time.Now()
		out, err := s.opts.Recorder.RecordCallbacks(ctx, in)
		cancel()
		s.latency.Observe(time.Since(start).Seconds())
		s.batch.Observe(float64(len(group)))
		if err == nil && len(out) != len(group) {
			err = errors.New("serve: the recorder returned the wrong number of outcomes")
		}
		for i, p := range group {
			if err != nil {
				p.done <- result{err: err}
				continue
			}
			p.done <- result{outcome: out[i]}
		}
	}
}
