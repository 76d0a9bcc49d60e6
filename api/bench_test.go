package api_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/emulator"
)

// BenchmarkCreate measures creates per second through the client and the emulator over
// loopback, no latency, 64 workers (the size the transport's pool is built for). Run:
//
//	go test -run=^$ -bench=Create -benchtime=3s ./api/
func BenchmarkCreate(b *testing.B) {
	s, err := emulator.New(emulator.Options{Merchants: []emulator.Merchant{{Key: contractKey, Secret: leakySecret}}})
	if err != nil {
		b.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	c := newClientB(b, base)
	var seq atomic.Int64
	ctx := context.Background()
	b.SetParallelism(64 / max(1, testingProcs()))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := requestFor(fmt.Sprintf("bench-%d", seq.Add(1)))
			if _, err := c.CreateInvoice(ctx, r.Encode()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if n := int64(len(s.Invoices())); n != seq.Load() {
		b.Fatalf("%d creates sent, %d invoices stored", seq.Load(), n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }

func newClientB(b *testing.B, endpoint string) *api.Client {
	c, err := api.New(api.Config{Endpoint: endpoint, Key: contractKey, Secret: leakySecret})
	if err != nil {
		b.Fatal(err)
	}
	return c
}
