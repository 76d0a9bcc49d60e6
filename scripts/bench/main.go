package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/invoiceform/invoiceform/internal/manifestgen"
)

type sample struct {
	wall, cpu time.Duration
	rssMB     float64
	stderr    string
}

type scenario struct {
	name string
	// n is the number of invoices; apply scenarios also report throughput.
	n int
	// run performs one measured run and returns its sample. setup, when set, runs before
	// every run, outside the measurement.
	setup func() error
	run   func() (sample, error)
	// apply marks an apply scenario, whose throughput is reported; bound is its latency
	// bound (0 without latency).
	apply bool
	bound time.Duration
	// needs names the inputs (manifests, states) the scenario reads; each is made once.
	needs []string
	// target is issue 17's aim for the scenario (-scale), if any.
	target target
}

func main() {
	runs := flag.Int("runs", 3, "runs per scenario (the median is reported)")
	warmup := flag.Int("warmup", 1, "unmeasured runs before each scenario's measured runs (not for apply): the first run after the machine was idle pays for memory the host took back (see docs/performance.md)")
	only := flag.String("only", "", "run only scenarios whose name contains `TEXT`")
	sizes := flag.String("sizes", "10000,100000", "manifest sizes for validate and plan")
	applyN := flag.Int("apply-n", 10000, "invoices applied in the apply scenarios")
	latency := flag.Duration("latency", 20*time.Millisecond, "emulator latency of the latency-bound apply scenario")
	parallelism := flag.Int("parallelism", 32, "apply -parallelism")
	keep := flag.Bool("keep", false, "keep the work directory")
	scale := flag.String("scale", "", "run issue 17's table instead: `1m` (1,000,000 and 100,000 invoices) or a number; -apply-n then defaults to 200000")
	profile := flag.String("profile", "", "write a CPU profile of every binary run into `DIR` (INVOICEFORM_CPUPROFILE)")
	snapOf := flag.String("snapshot-of", "", "(internal) open the state `FILE` read-only, snapshot it and exit")
	summaries := flag.Bool("summaries", false, "(internal) with -snapshot-of: read summaries, not whole records")
	writeState := flag.String("write-state", "", "(internal) write the full state of the manifest in `DIR` to -state-file and exit")
	stateFile := flag.String("state-file", "", "(internal) with -write-state")
	binFlag := flag.String("bin", "", "measure this invoiceform binary instead of building one (a baseline built from another commit)")
	flag.Parse()
	if *writeState != "" {
		if err := writeFullState(*writeState, *stateFile); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	prebuilt = *binFlag
	if *snapOf != "" {
		if err := snapshotOf(*snapOf, *summaries); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	scaleN := 0
	if *scale != "" {
		switch *scale {
		case "1m", "1M":
			scaleN = 1000000
		default:
			if _, err := fmt.Sscan(*scale, &scaleN); err != nil || scaleN < 10 {
				fmt.Fprintln(os.Stderr, "bench: -scale: want 1m or a number of at least 10")
				os.Exit(2)
			}
		}
		applySet := false
		flag.Visit(func(f *flag.Flag) { applySet = applySet || f.Name == "apply-n" })
		if !applySet {
			*applyN = 200000
		}
	}
	profileDir = *profile
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	if err := run(*runs, *warmup, *only, *sizes, *applyN, *latency, *parallelism, *keep, scaleN); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// profileDir, when set, receives a CPU profile of every run of the binary.
var profileDir string

// prebuilt is -bin: the binary to measure, instead of one built from this tree.
var prebuilt string

func run(runs, warmups int, only, sizeList string, applyN int, latency time.Duration, parallelism int, keep bool, scaleN int) error {
	var sizes []int
	for _, s := range strings.Split(sizeList, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		sizes = append(sizes, n)
	}
	if runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	work, err := os.MkdirTemp("", "invoiceform-bench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin := filepath.Join(work, "invoiceform")
	if prebuilt != "" {
		bin = prebuilt
	} else {
		fmt.Fprintln(os.Stderr, "building the binary")
		build := exec.Command("go", "build", "-o", bin, "./cmd/invoiceform")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w (run from the repository root)", err)
		}
	}
	b := &bench{bin: bin, inputs: map[string]func() error{}, endpoints: map[string]string{}}
	defer func() {
		for _, stop := range b.stops {
			stop()
		}
	}()

	var scs []scenario
	if scaleN > 0 {
		sizes = nil
		scs = b.scaleScenarios(work, scaleN, applyN, parallelism)
	}
	for _, n := range sizes {
		csvDir := filepath.Join(work, fmt.Sprintf("csv-%d", n))
		files := 10
		if n >= 100000 {
			files = 100
		}
		litDir := filepath.Join(work, fmt.Sprintf("literal-%d", n))
		full := filepath.Join(work, fmt.Sprintf("full-%d.state", n))
		none := filepath.Join(work, "none.state")
		b.inputs[csvDir] = func() error { return manifestgen.CSV(csvDir, n) }
		b.inputs[litDir] = func() error { return manifestgen.Literal(litDir, n, files) }
		b.inputs[full] = func() error {
			fmt.Fprintf(os.Stderr, "applying %s invoices into %s (the full state)\n", count(n), full)
			if _, err := b.apply(csvDir, full, 0, 64)(); err != nil {
				return fmt.Errorf("making the full state: %w", err)
			}
			return nil
		}
		scs = append(scs,
			scenario{name: fmt.Sprintf("validate-csv %s", count(n)), n: n, run: b.cmd(csvDir, "", "validate"), needs: []string{csvDir}},
			scenario{name: fmt.Sprintf("validate-literal %s (%d files)", count(n), files), n: n, run: b.cmd(litDir, "", "validate"), needs: []string{litDir}},
			scenario{name: fmt.Sprintf("plan-csv %s, empty state", count(n)), n: n, run: b.cmd(csvDir, none, "plan", "-no-color"), needs: []string{csvDir}},
			scenario{name: fmt.Sprintf("plan-csv %s, full state", count(n)), n: n, run: b.cmd(csvDir, full, "plan", "-no-color"), needs: []string{csvDir, full}},
			scenario{name: fmt.Sprintf("plan-literal %s (%d files), empty state", count(n), files), n: n, run: b.cmd(litDir, none, "plan", "-no-color"), needs: []string{litDir}},
		)
	}
	applyDir := filepath.Join(work, fmt.Sprintf("apply-%d", applyN))
	b.inputs[applyDir] = func() error { return manifestgen.CSV(applyDir, applyN) }
	applyState := filepath.Join(work, "apply.state")
	lats := []time.Duration{latency, 0}
	if scaleN > 0 {
		lats = nil
	}
	for _, lat := range lats {
		name := fmt.Sprintf("apply-csv %s, -parallelism=%d, emulator latency %s", count(applyN), parallelism, lat)
		bound := time.Duration(applyN) * lat / time.Duration(parallelism)
		scs = append(scs, scenario{
			name: name, n: applyN, bound: bound, apply: true,
			setup: func() error { return os.Remove(applyState) },
			run:   b.apply(applyDir, applyState, lat, parallelism),
			needs: []string{applyDir},
		})
	}
	if only != "" {
		scs = slices.DeleteFunc(scs, func(s scenario) bool { return !strings.Contains(s.name, only) })
	}
	if len(scs) == 0 {
		return fmt.Errorf("no scenario matches -only=%q", only)
	}
	made := map[string]bool{}
	for _, sc := range scs {
		for _, in := range sc.needs {
			if made[in] {
				continue
			}
			made[in] = true
			fmt.Fprintln(os.Stderr, "making", in)
			if err := b.inputs[in](); err != nil {
				return err
			}
		}
	}

	fmt.Printf("%d runs each after %d unmeasured (apply: none); %s, %d CPUs, %s\n\n", runs, warmups, runtime.Version(), runtime.NumCPU(), cpuModel())
	fmt.Println("| scenario | wall | CPU (user+sys) | peak RSS | throughput | target | ratio to target |")
	fmt.Println("|---|---|---|---|---|---|---|")
	walls, cpus, rsss := map[string]spread{}, map[string]spread{}, map[string]spread{}
	for _, sc := range scs {
		fmt.Fprintln(os.Stderr, "running:", sc.name)
		var ss []sample
		warm := warmups
		if sc.apply {
			warm = 0
		}
		for i := -warm; i < runs; i++ {
			if sc.setup != nil {
				if err := sc.setup(); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
			profileAs = fmt.Sprintf("%s-%d", sc.name, i+1) // warm-up runs: -0, -1, ...
			s, err := sc.run()
			if err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			if i >= 0 {
				ss = append(ss, s)
			}
		}
		wall := med(ss, func(s sample) float64 { return s.wall.Seconds() })
		cpu := med(ss, func(s sample) float64 { return s.cpu.Seconds() })
		rss := med(ss, func(s sample) float64 { return s.rssMB })
		tput := ""
		if sc.apply {
			tput = fmt.Sprintf("%.0f invoices/s", float64(sc.n)/wall.mid)
			if sc.bound > 0 {
				tput += fmt.Sprintf("; %.2f× the bound of %.2f s", wall.mid/sc.bound.Seconds(), sc.bound.Seconds())
			}
		}
		walls[sc.name], cpus[sc.name], rsss[sc.name] = wall, cpu, rss
		fmt.Printf("| %s | %s s | %s s | %s MB | %s | %s | %s |\n", sc.name, wall.format(2), cpu.format(2), rss.format(0), tput, sc.target, ratio(sc, wall, rss))
	}
	if scaleN > 0 {
		// Cost growth from n/10 to n: the CSV plans, empty and all recorded.
		for _, what := range []string{"empty state", "all recorded"} {
			big := fmt.Sprintf("plan-csv %s, %s", count(scaleN), what)
			small := fmt.Sprintf("plan-csv %s, %s", count(scaleN/10), what)
			wb, okB := walls[big]
			ws, okS := walls[small]
			if !okB || !okS {
				continue
			}
			tr, cr, mr := wb.mid/ws.mid, cpus[big].mid/cpus[small].mid, rsss[big].mid/rsss[small].mid
			fmt.Printf("| cost growth %s → %s, plan-csv %s | %.1f× | %.1f× | %.1f× | | ≤ 11× | %.2f / %.2f |\n", count(scaleN/10), count(scaleN), what, tr, cr, mr, tr/11, mr/11)
		}
	}
	return nil
}

// ratio is the measured median over the target (above 1 misses it); for apply, the target
// rate over the measured one.
func ratio(sc scenario, wall, rss spread) string {
	t := sc.target
	var parts []string
	if t.wall > 0 {
		parts = append(parts, fmt.Sprintf("%.2f", wall.mid/t.wall.Seconds()))
	}
	if t.rssMB > 0 {
		parts = append(parts, fmt.Sprintf("%.2f", rss.mid/t.rssMB))
	}
	if t.rate > 0 {
		parts = append(parts, fmt.Sprintf("%.2f", t.rate/(float64(sc.n)/wall.mid)))
	}
	return strings.Join(parts, " / ")
}

type bench struct {
	bin string
	// inputs makes each input a scenario may need, by path.
	inputs map[string]func() error
	// endpoints holds the endpoint each state was applied against; a state is bound to it,
	// so plans against a full state name it too (its emulator has stopped: plan needs none).
	endpoints map[string]string
	// stops stops the emulators started for the whole run.
	stops []func()
}

// cmd runs the binary in dir with args and, unless state is "", -state=state; the output is
// discarded (plan's exit code 0).
func (b *bench) cmd(dir, state string, args ...string) func() (sample, error) {
	return b.cmdEnv(dir, state, nil, args...)
}

// cmdEnv is cmd with env added to the environment.
func (b *bench) cmdEnv(dir, state string, env []string, args ...string) func() (sample, error) {
	argv := append([]string{"-chdir=" + dir}, args...)
	if state != "" {
		argv = append(argv, "-state="+state)
	}
	return func() (sample, error) {
		c := exec.Command(b.bin, argv...)
		extra := env
		if ep, ok := b.endpoints[state]; ok {
			extra = append(slices.Clip(extra), "INVOICEFORM_ENDPOINT="+ep, "INVOICEFORM_API_KEY=emulator-key")
		}
		if len(extra) > 0 {
			c.Env = append(os.Environ(), extra...)
		}
		return measure(c, false)
	}
}

// apply starts an emulator with latency lat and applies dir into the state file state,
// measuring the apply process only.
func (b *bench) apply(dir, state string, lat time.Duration, parallelism int) func() (sample, error) {
	return func() (sample, error) {
		endpoint, stop, err := b.emulator(lat)
		if err != nil {
			return sample{}, err
		}
		defer stop()
		b.endpoints[state] = endpoint
		c := exec.Command(b.bin, "-chdir="+dir, "apply", "-auto-approve", "-no-color", "-state="+state, fmt.Sprintf("-parallelism=%d", parallelism))
		c.Env = append(os.Environ(), "INVOICEFORM_ENDPOINT="+endpoint, "INVOICEFORM_API_KEY=emulator-key", "INVOICEFORM_API_SECRET=emulator-secret")
		return measure(c, false)
	}
}

// emulator starts `invoiceform emulator` on a free loopback port.
func (b *bench) emulator(lat time.Duration) (endpoint string, stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	c := exec.CommandContext(ctx, b.bin, "emulator", "-listen=127.0.0.1:0", fmt.Sprintf("-latency=%s", lat))
	c.Cancel = func() error { return c.Process.Signal(os.Interrupt) }
	c.WaitDelay = 5 * time.Second
	c.Stderr = io.Discard
	out, err := c.StdoutPipe()
	if err != nil {
		cancel()
		return "", nil, err
	}
	if err := c.Start(); err != nil {
		cancel()
		return "", nil, err
	}
	stop = func() { cancel(); _ = c.Wait() }
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, ep, ok := strings.Cut(sc.Text(), "INVOICEFORM_ENDPOINT="); ok {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return strings.TrimSpace(ep), stop, nil
		}
	}
	stop()
	return "", nil, errors.New("the emulator did not print its endpoint")
}

// profileAs names the profile of the next measured run (-profile).
var profileAs string

// measure runs c and reads its resource usage; refused says the run is expected to fail
// (exit code 1), as a check that refuses on purpose does.
func measure(c *exec.Cmd, refused bool) (sample, error) {
	var stderr strings.Builder
	c.Stdout, c.Stderr = io.Discard, &stderr
	if profileDir != "" {
		if c.Env == nil {
			c.Env = os.Environ()
		}
		name := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return '_'
		}, profileAs)
		c.Env = append(c.Env, "INVOICEFORM_CPUPROFILE="+filepath.Join(profileDir, name+".prof"))
	}
	start := time.Now()
	err := c.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if refused {
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			err = nil
		} else if err == nil {
			err = errors.New("expected a refusal (exit code 1), the command succeeded")
		}
	}
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w\n%s", strings.Join(c.Args, " "), err, tail(stderr.String()))
	}
	ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, errors.New("no resource usage for the process (Linux only)")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, cpu: cpu, rssMB: float64(ru.Maxrss) / 1024, stderr: stderr.String()}, nil // Maxrss is in KB
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

type spread struct{ lo, mid, hi float64 }

func (s spread) format(prec int) string {
	if s.lo == s.hi {
		return fmt.Sprintf("%.*f", prec, s.mid)
	}
	return fmt.Sprintf("%.*f (%.*f–%.*f)", prec, s.mid, prec, s.lo, prec, s.hi)
}

func med(ss []sample, f func(sample) float64) spread {
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = f(s)
	}
	slices.Sort(vs)
	return spread{vs[0], vs[len(vs)/2], vs[len(vs)-1]}
}

func count(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
