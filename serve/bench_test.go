package serve_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/serve"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
)

// boltPerBatch records each batch as `invoiceform serve` does on a file: it opens the state
// (taking the lock), records the batch in one transaction (one fsync), and closes it.
type boltPerBatch struct{ path string }

func (b boltPerBatch) RecordCallbacks(ctx context.Context, in []state.Incoming) ([]state.Outcome, error) {
	s, err := boltstate.Open(b.path, boltstate.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	out, err := s.RecordCallbacks(ctx, in)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return out, err
}

// BenchmarkServeBolt sends 10,000 signed callbacks (one per invoice, each applied) from 50
// concurrent connections to the serve handler over a loopback HTTP server, recorded in a
// bbolt state file; it reports callbacks/s and the 99th percentile latency of one delivery
// (request sent to 200 received). docs/performance.md has the figures.
func BenchmarkServeBolt(b *testing.B) {
	const callbacks, conns = 10000, 50
	bodies := make([][]byte, callbacks)
	sigs := make([]string, callbacks)
	recs := make([]*state.Record, callbacks)
	for i := range bodies {
		id := fmt.Sprintf("inv-%05d", i)
		req := []byte(`{"foreign_id":"` + id + `","amount":10,"currency":"EUR"}`)
		recs[i] = &state.Record{ForeignID: id, Phase: state.Issued, Body: req, BodyHash: invoice.Hash(req), Status: "created", DetailsKnown: true,
			CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(1, 0).UTC(), IssuedAt: time.Unix(1, 0).UTC()}
		bodies[i] = body(id, "pending", "")
		sigs[i] = sign(bodies[i])
	}
	var lat []time.Duration
	var elapsed time.Duration
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "invoiceform.state")
		s, err := boltstate.Open(path, boltstate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Put(context.Background(), recs...); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		h := serve.New(serve.Options{Key: key, Secret: secret, Recorder: boltPerBatch{path}, Log: slogTo(io.Discard)})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: h}
		go func() { _ = srv.Serve(ln) }()
		url := "http://" + ln.Addr().String() + "/callbacks"
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
		var next atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		var failed atomic.Int64
		b.StartTimer()
		start := time.Now()
		for c := 0; c < conns; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for {
					i := int(next.Add(1)) - 1
					if i >= callbacks {
						break
					}
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i]))
					req.Header.Set("X-Processing-Key", key)
					req.Header.Set("X-Processing-Signature", sigs[i])
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mine = append(mine, time.Since(t0))
					if resp.StatusCode != http.StatusOK {
						failed.Add(1)
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed += time.Since(start)
		b.StopTimer()
		_ = srv.Shutdown(context.Background())
		h.Close()
		client.CloseIdleConnections()
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d callbacks were not answered 200", n)
		}
		s, err = boltstate.Open(path, boltstate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		snap, err := s.Snapshot(context.Background())
		s.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs[:10] {
			if got := snap.Records[r.ForeignID]; got.Status != "pending" || len(got.History) != 1 {
				b.Fatalf("%s: status %q with %d callbacks, want pending with 1", r.ForeignID, got.Status, len(got.History))
			}
		}
		b.StartTimer()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(callbacks*b.N)/elapsed.Seconds(), "callbacks/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
