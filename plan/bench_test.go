package plan_test

import (
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/internal/manifestgen"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

// The benchmarks load 100,000 invoices (for_each over a CSV) once, outside the timer, and
// measure only what plan adds to loading: Make, and Make plus each view.

var bench struct {
	once     sync.Once
	invoices []*config.Invoice
	issued   *state.Snapshot
	err      error
}

func benchInput(b *testing.B) ([]*config.Invoice, *state.Snapshot) {
	bench.once.Do(func() {
		dir := filepath.Join(b.TempDir(), "csv")
		if bench.err = manifestgen.CSV(dir, 100000); bench.err != nil {
			return
		}
		cfg, diags := config.Load(dir, config.LoadOptions{})
		if diags.HasErrors() {
			bench.err = diags
			return
		}
		bench.invoices = cfg.Invoices
		s := &state.Snapshot{Records: make(map[string]*state.Record, len(cfg.Invoices)), Lineage: state.NewLineage(), Serial: 100000}
		t := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
		for _, inv := range cfg.Invoices {
			s.Records[inv.ForeignID] = &state.Record{ForeignID: inv.ForeignID, Phase: state.Issued, Status: "created",
				Body: inv.Body, BodyHash: inv.Hash, DetailsKnown: true, CreatedAt: t, UpdatedAt: t, IssuedAt: t}
		}
		bench.issued = s
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.invoices, bench.issued
}

func benchPlan(b *testing.B, issued bool, view string) {
	invs, snap := benchInput(b)
	if !issued {
		snap = &state.Snapshot{}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := plan.Make(invs, snap, plan.Options{Endpoint: config.DefaultEndpoint})
		if len(p.Changes) != 100000 {
			b.Fatalf("%d changes", len(p.Changes))
		}
		if view == "" {
			continue
		}
		d := plan.NewDocument(p, plan.ViewOptions{})
		var err error
		switch view {
		case "text":
			err = plan.WriteText(io.Discard, d, plan.TextOptions{})
		case "json":
			err = plan.WriteJSON(io.Discard, d)
		case "markdown":
			err = plan.WriteMarkdown(io.Discard, d)
		case "file":
			_, err = plan.Encode(p, time.Time{})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMake100kNoChanges(b *testing.B)     { benchPlan(b, true, "") }
func BenchmarkMake100kCreates(b *testing.B)       { benchPlan(b, false, "") }
func BenchmarkText100kNoChanges(b *testing.B)     { benchPlan(b, true, "text") }
func BenchmarkText100kCreates(b *testing.B)       { benchPlan(b, false, "text") }
func BenchmarkMarkdown100kCreates(b *testing.B)   { benchPlan(b, false, "markdown") }
func BenchmarkJSON100kCreates(b *testing.B)       { benchPlan(b, false, "json") }
func BenchmarkPlanFile100kCreates(b *testing.B)   { benchPlan(b, false, "file") }
func BenchmarkMarkdown100kNoChanges(b *testing.B) { benchPlan(b, true, "markdown") }

// BenchmarkReadPlanFile100k: what show and apply pay to read back a 100,000-create plan.
func BenchmarkReadPlanFile100k(b *testing.B) {
	invs, _ := benchInput(b)
	data, err := plan.Encode(plan.Make(invs, nil, plan.Options{}), time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := plan.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPlanFile100k: what apply pays to check a read 100,000-create plan against
// the configuration (made again, compared, bodies attached) once it is read.
func BenchmarkVerifyPlanFile100k(b *testing.B) {
	invs, _ := benchInput(b)
	data, err := plan.Encode(plan.Make(invs, nil, plan.Options{}), time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, _, err := plan.Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := plan.Verify(p, invs, nil); err != nil {
			b.Fatal(err)
		}
	}
}
