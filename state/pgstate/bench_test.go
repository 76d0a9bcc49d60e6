package pgstate_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// BenchmarkPut100kFrom32 is boltstate's benchmark of the same name against PostgreSQL:
// 100,000 records, one per Put, from 32 goroutines as apply's workers do, each committed
// when Put returns; group commits share the round trips and the WAL flushes.
func BenchmarkPut100kFrom32(b *testing.B) {
	for _, writers := range []int{32, 0} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) { benchPut(b, 100_000, writers) })
	}
}

func benchPut(b *testing.B, n, writers int) {
	cs := pgtest.ConnString(b)
	for b.Loop() {
		b.StopTimer()
		s, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: pgtest.Workspace(b, cs), Writers: writers})
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
					if i > int64(n) {
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
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkSnapshot reads a workspace of 10,000 and 100,000 records read-only, whole (as
// plan did) and as summaries with one record in a hundred read whole (as plan does when
// nearly every invoice is unchanged).
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchSnapshot(b, n, nil) })
		b.Run(fmt.Sprint(n, "-summaries"), func(b *testing.B) {
			benchSnapshot(b, n, func(s state.Summary) bool { return strings.HasSuffix(s.ForeignID, "00") })
		})
	}
}

func benchSnapshot(b *testing.B, n int, full func(state.Summary) bool) {
	cs := pgtest.ConnString(b)
	ws := pgtest.Workspace(b, cs)
	s, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: ws})
	if err != nil {
		b.Fatal(err)
	}
	snap := &state.Snapshot{Records: map[string]*state.Record{}, Lineage: state.NewLineage()}
	for i := range n {
		r := statetest.FullRecord(fmt.Sprintf("bench-%07d", i))
		snap.Records[r.ForeignID] = r
	}
	if err := s.Import(context.Background(), snap); err != nil {
		b.Fatal(err)
	}
	s.Close()
	r, err := pgstate.Open(context.Background(), cs, pgstate.Options{ReadOnly: true, Workspace: ws})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ResetTimer()
	for b.Loop() {
		got, err := r.SnapshotWith(context.Background(), state.SnapshotOptions{Full: full})
		if err != nil || len(got.Records) != n {
			b.Fatal(err, len(got.Records))
		}
	}
}
