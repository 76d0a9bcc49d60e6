package apply_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/emulator"
)

// writeForEach declares n invoices with one for_each block, as a large real config would.
func (e *env) writeForEach(n int) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%q", fmt.Sprintf("b-%05d", i))
	}
	hcl := `invoice "order" {
  for_each           = toset([` + strings.Join(ids, ", ") + `])
  foreign_id         = each.key
  title              = "Order ${each.key}"
  currency           = "EUR"
  amount             = "12.34"
  timer              = false
  end_user_reference = "c"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "a@example.com"
}
`
	if err := os.WriteFile(filepath.Join(e.dir, "main.hcl"), []byte(hcl), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// benchApply applies n invoices into a fresh emulator and a fresh bbolt state per iteration
// and reports wall time, creates per second, and CPU time and allocated bytes per invoice.
// The README's figures:
//
//	go test -run '^$' -bench 'BenchmarkApply' -benchtime=1x -benchmem ./apply
func benchApply(b *testing.B, n, parallelism int, latency time.Duration) {
	benchApplyWriters(b, n, parallelism, parallelism, latency)
}

// benchApplyWriters is benchApply with the state opened for writers writers (Options.Writers;
// the command opens it for -parallelism).
func benchApplyWriters(b *testing.B, n, parallelism, writers int, latency time.Duration) {
	var wall time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnvWriters(b, emulator.Options{Latency: emulator.Latency{Min: latency, Max: latency}}, writers)
		e.writeForEach(n)
		p := e.plan()
		c := e.client(emulator.DefaultSecret, 0)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0 := cpuTime()
		b.StartTimer()
		start := time.Now()
		res, err := apply.Run(context.Background(), p, e.store, c, apply.Options{Parallelism: parallelism})
		wall += time.Since(start)
		b.StopTimer()
		cpu := cpuTime() - cpu0
		runtime.ReadMemStats(&ms1)
		if err != nil || len(res.Issued) != n {
			b.Fatalf("%v: issued %d of %d", err, len(res.Issued), n)
		}
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/invoice")
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(n), "alloc-B/invoice")
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/wall.Seconds(), "creates/s")
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/apply")
}

func BenchmarkApply10kLatency20msP32(b *testing.B) { benchApply(b, 10000, 32, 20*time.Millisecond) }
func BenchmarkApply10kNoLatencyP32(b *testing.B)   { benchApply(b, 10000, 32, 0) }

// BenchmarkApply10kNoLatencyP32Writers64: the state opened for StateWriters(32) writers, as
// many as apply's journal and record stages can have waiting at once.
func BenchmarkApply10kNoLatencyP32Writers64(b *testing.B) {
	benchApplyWriters(b, 10000, 32, apply.StateWriters(32), 0)
}
