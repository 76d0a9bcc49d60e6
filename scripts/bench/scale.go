package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/internal/manifestgen"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
)

// target is what issue 17 asks of a scenario: wall time at most wall, peak RSS at most rssMB,
// or (apply) at least rate invoices per second. Zero fields are not asked.
type target struct {
	wall  time.Duration
	rssMB float64
	rate  float64
}

func (t target) String() string {
	var s string
	if t.wall > 0 {
		s = fmt.Sprintf("≤ %.1f s", t.wall.Seconds())
	}
	if t.rssMB > 0 {
		s += fmt.Sprintf(", ≤ %.0f MB", t.rssMB)
	}
	if t.rate > 0 {
		s = fmt.Sprintf("≥ %.0f/s", t.rate)
	}
	return s
}

// scaleScenarios are the rows of issue 17's table at n (1,000,000) and n/10 (100,000);
// applyN invoices are applied without latency.
func (b *bench) scaleScenarios(work string, n, applyN, parallelism int) []scenario {
	small := n / 10
	none := filepath.Join(work, "none.state")
	csvBig := filepath.Join(work, fmt.Sprintf("csv-%d", n))
	csvSmall := filepath.Join(work, fmt.Sprintf("csv-%d", small))
	litSmall := filepath.Join(work, fmt.Sprintf("literal-%d", small))
	fullBig := filepath.Join(work, fmt.Sprintf("full-%d.state", n))
	fullSmall := filepath.Join(work, fmt.Sprintf("full-%d.state", small))
	b.inputs[csvBig] = func() error { return manifestgen.CSV(csvBig, n) }
	b.inputs[csvSmall] = func() error { return manifestgen.CSV(csvSmall, small) }
	b.inputs[litSmall] = func() error { return manifestgen.Literal(litSmall, small, 100) }
	// The states are written by a child process: loading 1,000,000 invoices here would leave
	// this process gigabytes large, and a child's peak RSS (rusage) starts from its parent's
	// at the fork.
	b.inputs[fullBig] = func() error { return writeStateChild(csvBig, fullBig) }
	b.inputs[fullSmall] = func() error { return writeStateChild(csvSmall, fullSmall) }

	// The re-plan scenario changes one of the 100 files before each run: the amount of its
	// first block, to a value no run used before.
	edits := 0
	changed := filepath.Join(litSmall, "invoices_050.hcl")
	amountRE := regexp.MustCompile(`amount             = "[^"]*"`)
	editOne := func() error {
		data, err := os.ReadFile(changed)
		if err != nil {
			return err
		}
		edits++
		loc := amountRE.FindIndex(data)
		if loc == nil {
			return fmt.Errorf("%s: no amount to change", changed)
		}
		out := append(append(append([]byte{}, data[:loc[0]]...), fmt.Sprintf(`amount             = "%d.%02d"`, 7000+edits, edits%100)...), data[loc[1]:]...)
		return os.WriteFile(changed, out, 0o644)
	}

	planFile := filepath.Join(work, fmt.Sprintf("saved-%d.plan", small))
	// The saved plan is bound to an endpoint and key: a shared emulator's, started when the
	// plan file is first made; saved.state does not exist when plan runs (apply creates it).
	saved := filepath.Join(work, "saved.state")
	applyDir := filepath.Join(work, fmt.Sprintf("apply-%d", applyN))
	b.inputs[applyDir] = func() error { return manifestgen.CSV(applyDir, applyN) }
	b.inputs[planFile] = func() error {
		endpoint, stop, err := b.emulator(0)
		if err != nil {
			return err
		}
		b.stops = append(b.stops, stop)
		b.endpoints[saved] = endpoint
		_, err = b.cmd(csvSmall, saved, "plan", "-no-color", "-out="+planFile)()
		return err
	}
	applyState := filepath.Join(work, "apply.state")

	sc := func(name string, nn int, t target, run func() (sample, error), needs ...string) scenario {
		return scenario{name: name, n: nn, target: t, run: run, needs: needs}
	}
	scs := []scenario{
		sc(fmt.Sprintf("plan-csv %s, empty state", count(n)), n, target{wall: 6 * time.Second, rssMB: 2000}, b.cmd(csvBig, none, "plan", "-no-color"), csvBig),
		sc(fmt.Sprintf("plan-csv %s, all recorded", count(n)), n, target{wall: 8 * time.Second, rssMB: 3000}, b.cmd(csvBig, fullBig, "plan", "-no-color"), csvBig, fullBig),
		sc(fmt.Sprintf("plan-csv %s, empty state", count(small)), small, target{}, b.cmd(csvSmall, none, "plan", "-no-color"), csvSmall),
		sc(fmt.Sprintf("plan-csv %s, all recorded", count(small)), small, target{wall: 600 * time.Millisecond}, b.cmd(csvSmall, fullSmall, "plan", "-no-color"), csvSmall, fullSmall),
		sc(fmt.Sprintf("plan-literal %s (100 files), empty state", count(small)), small, target{wall: 2500 * time.Millisecond}, b.cmd(litSmall, none, "plan", "-no-color"), litSmall),
	}
	// The re-plan is run as a pipeline would run it: with the evaluation cache on
	// (INVOICEFORM_CACHE_DIR), kept from the previous run's plan (made once, as an input).
	// The cold row is the first run of such a pipeline: every file evaluated and written.
	warmCache := filepath.Join(work, "eval-cache")
	coldCache := filepath.Join(work, "eval-cache-cold")
	b.inputs[warmCache] = func() error {
		_, err := b.cmdEnv(litSmall, none, []string{"INVOICEFORM_CACHE_DIR=" + warmCache}, "plan", "-no-color")()
		return err
	}
	cold := sc(fmt.Sprintf("plan-literal %s (100 files), empty state, cache on and empty (every entry written)", count(small)), small, target{},
		b.cmdEnv(litSmall, none, []string{"INVOICEFORM_CACHE_DIR=" + coldCache}, "plan", "-no-color"), litSmall)
	cold.setup = func() error { return os.RemoveAll(coldCache) }
	replan := sc(fmt.Sprintf("re-plan-literal %s after one file changed, cache on", count(small)), small, target{wall: 500 * time.Millisecond},
		b.cmdEnv(litSmall, none, []string{"INVOICEFORM_CACHE_DIR=" + warmCache}, "plan", "-no-color"), litSmall, warmCache)
	replan.setup = editOne
	scs = append(scs, cold, replan)
	scs = append(scs, scenario{
		name: fmt.Sprintf("apply-csv %s, -parallelism=%d, no latency, durable state", count(applyN), parallelism), n: applyN, apply: true,
		target: target{rate: 5000},
		setup:  func() error { return os.Remove(applyState) },
		run:    b.apply(applyDir, applyState, 0, parallelism),
		needs:  []string{applyDir},
	})
	scs = append(scs,
		sc(fmt.Sprintf("state snapshot of %s records, fresh process", count(n)), n, target{wall: 1500 * time.Millisecond}, b.snapshot(fullBig, false), csvBig, fullBig),
		sc(fmt.Sprintf("state snapshot of %s records, fresh process, summaries only (new)", count(n)), n, target{wall: 1500 * time.Millisecond}, b.snapshot(fullBig, true), csvBig, fullBig),
		sc(fmt.Sprintf("saved plan of %s: plan -out", count(small)), small, target{wall: 300 * time.Millisecond}, b.cmd(csvSmall, saved, "plan", "-no-color", "-out="+planFile), csvSmall, planFile),
		sc(fmt.Sprintf("saved plan of %s: apply PLANFILE up to the first request", count(small)), small, target{wall: time.Second}, b.checkPlan(csvSmall, saved, planFile), csvSmall, planFile),
	)
	scs[len(scs)-1].setup = func() error { return os.Remove(saved) }
	return scs
}

// writeFullState writes a bbolt state holding every invoice of dir as issued, with the bodies
// the configuration gives: what applying them all would leave, made with Put in batches of
// 10,000 instead of a million API calls.
func writeFullState(dir, path string) error {
	start := time.Now()
	cfg, diags := config.Load(dir, config.LoadOptions{})
	if diags.HasErrors() {
		return diags
	}
	s, err := boltstate.Open(path, boltstate.Options{Writers: 1})
	if err != nil {
		return err
	}
	t := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	batch := make([]*state.Record, 0, 10000)
	for i, inv := range cfg.Invoices {
		batch = append(batch, &state.Record{
			ForeignID: inv.ForeignID, Phase: state.Issued, Body: inv.Body, BodyHash: inv.Hash,
			ID: int64(1000000 + i), URL: fmt.Sprintf("https://pay.example.com/i/%d", 1000000+i),
			Address: "bc1qexampleaddress0000000000000000000000", Status: "created",
			Currency: inv.Request.Currency, Amount: inv.Request.Amount.String(), DetailsKnown: true,
			CreatedAt: t, UpdatedAt: t, IssuedAt: t,
		})
		if len(batch) == cap(batch) || i == len(cfg.Invoices)-1 {
			if err := s.Put(ctx, batch...); err != nil {
				s.Close()
				return err
			}
			batch = batch[:0]
		}
	}
	if err := s.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s records into %s (%d MB) in %.1f s\n", count(len(cfg.Invoices)), path, fi.Size()>>20, time.Since(start).Seconds())
	return nil
}

func writeStateChild(dir, path string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	c := exec.Command(self, "-write-state="+dir, "-state-file="+path)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	return c.Run()
}

// snapshot times opening the state at path and reading one snapshot in a fresh process: this
// program again, in its -snapshot-of mode.
func (b *bench) snapshot(path string, summaries bool) func() (sample, error) {
	return func() (sample, error) {
		self, err := os.Executable()
		if err != nil {
			return sample{}, err
		}
		args := []string{"-snapshot-of=" + path}
		if summaries {
			args = append(args, "-summaries")
		}
		return measure(exec.Command(self, args...), false)
	}
}

// snapshotOf is the -snapshot-of mode: open read-only, snapshot, check the count.
func snapshotOf(path string, summaries bool) error {
	s, err := boltstate.Open(path, boltstate.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer s.Close()
	var snap *state.Snapshot
	if summaries {
		snap, err = s.SnapshotWith(context.Background(), state.SnapshotOptions{Full: func(state.Summary) bool { return false }})
	} else {
		snap, err = s.Snapshot(context.Background())
	}
	if err != nil {
		return err
	}
	if len(snap.Records) == 0 {
		return fmt.Errorf("%s: no records", path)
	}
	return nil
}

// checkPlan times `apply PLANFILE` up to its first request: the configuration is loaded with
// another shop_url, so Verify refuses the plan (exit code 1) just before anything is sent.
func (b *bench) checkPlan(dir, state, planFile string) func() (sample, error) {
	return func() (sample, error) {
		c := exec.Command(b.bin, "-chdir="+dir, "apply", "-no-color", "-auto-approve", "-state="+state, "-var=shop_url=https://changed.example.com", planFile)
		c.Env = append(os.Environ(), "INVOICEFORM_ENDPOINT="+b.endpoints[state], "INVOICEFORM_API_KEY=emulator-key", "INVOICEFORM_API_SECRET=emulator-secret")
		s, err := measure(c, true)
		if err == nil && !strings.Contains(s.stderr, "configuration") {
			err = fmt.Errorf("apply %s was refused, but not by the check of the configuration:\n%s", planFile, tail(s.stderr))
		}
		return s, err
	}
}
