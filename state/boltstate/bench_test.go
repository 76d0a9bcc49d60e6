package boltstate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
	"github.com/invoiceform/invoiceform/state/statetest"
)

const benchRecords = 100_000

// BenchmarkPut100kFrom32 puts 100,000 records one per Put from 32 goroutines, as apply's
// workers do: every Put is durable when it returns, batches share the fsyncs. Options.Writers
// told the truth (32) lets a batch commit as soon as every worker joined it; left at its
// default (64), each batch waits out the 1 ms delay.
func BenchmarkPut100kFrom32(b *testing.B) {
	for _, writers := range []int{32, 0} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) { benchPut(b, writers) })
	}
}

func benchPut(b *testing.B, writers int) {
	for b.Loop() {
		b.StopTimer()
		s, err := boltstate.Open(filepath.Join(b.TempDir(), "invoiceform.state"), boltstate.Options{Writers: writers})
		if err != nil {
			b.Fatal(err)
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		b.StartTimer()
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > benchRecords {
						return
					}
					if err := s.Put(context.Background(), statetest.FullRecord(fmt.Sprintf("bench-%07d", i))); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkSnapshot100k reads a state of 100,000 records, as plan does.
func BenchmarkSnapshot100k(b *testing.B) { benchSnapshot(b, benchRecords) }

// BenchmarkSnapshot10k is the same with 10,000 records, to compare with state/pgstate.
func BenchmarkSnapshot10k(b *testing.B) { benchSnapshot(b, 10_000) }

func benchSnapshot(b *testing.B, benchRecords int) {
	path := filepath.Join(b.TempDir(), "invoiceform.state")
	s, err := boltstate.Open(path, boltstate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < benchRecords; i += 1000 {
		rs := make([]*state.Record, 0, 1000)
		for j := i; j < i+1000; j++ {
			rs = append(rs, statetest.FullRecord(fmt.Sprintf("bench-%07d", j)))
		}
		if err := s.Put(context.Background(), rs...); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	s, err = boltstate.Open(path, boltstate.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for b.Loop() {
		snap, err := s.Snapshot(context.Background())
		if err != nil || len(snap.Records) != benchRecords {
			b.Fatal(err, len(snap.Records))
		}
	}
}

// BenchmarkSnapshotFile snapshots the state file named by $BOLTSTATE_BENCH_FILE (such as the
// 1,000,000-record state scripts/bench -scale=1m -keep writes), whole and as summaries; it is
// skipped without one. For profiles: -benchtime=1x -cpuprofile / -memprofile.
func BenchmarkSnapshotFile(b *testing.B) {
	path := os.Getenv("BOLTSTATE_BENCH_FILE")
	if path == "" {
		b.Skip("set BOLTSTATE_BENCH_FILE to a state file")
	}
	for _, summaries := range []bool{false, true} {
		b.Run(fmt.Sprintf("summaries=%t", summaries), func(b *testing.B) {
			s, err := boltstate.Open(path, boltstate.Options{ReadOnly: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			opts := state.SnapshotOptions{}
			if summaries {
				opts.Full = func(state.Summary) bool { return false }
			}
			b.ReportAllocs()
			for b.Loop() {
				snap, err := s.SnapshotWith(context.Background(), opts)
				if err != nil || len(snap.Records) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
