package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Extension is the file name extension of configuration files.
const Extension = ".hcl"

// LoadOptions carries the inputs that do not come from the configuration files.
type LoadOptions struct {
	// Vars are -var values, "NAME=VALUE", in command-line order (later ones win).
	Vars []string
	// VarFiles are -var-file paths, in command-line order.
	VarFiles []string
	// Environ is the environment in os.Environ form, for INVOICEFORM_VAR_<name>.
	Environ []string
	// Today is the date date_of_birth must precede; the zero value means the current date.
	Today time.Time
	// Parallelism bounds the goroutines parsing and evaluating; 0 means GOMAXPROCS.
	Parallelism int
	// SettingsOnly loads the variables, locals and the settings block and skips the invoices,
	// for commands that only need to know where the state is (the state commands). A
	// directory without configuration files is then no error, and a variable without a value
	// is an error only where the settings use it.
	SettingsOnly bool

	// noTables turns off keeping locals as CSV tables (forexpr.go), and done is called
	// with the loader once loaded: for tests that hold the tables to HCL's evaluation.
	noTables bool
	done     func(*loader)

	// Cache, when set, keeps the evaluated invoices of files of invoice blocks alone between
	// loads (cache.go). apply must not pass one: it evaluates everything itself.
	Cache *Cache
}

// EnvVarPrefix prefixes environment variables that set input variables.
const EnvVarPrefix = "INVOICEFORM_VAR_"

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "settings"},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "invoice", LabelNames: []string{"label"}},
}}

// Load reads every *.hcl file of dir (not recursively), evaluates and validates it. It returns
// the configuration and every problem found; when the diagnostics hold errors the
// configuration is partial and must not be used to plan.
func Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	cfg := &Config{Dir: dir, Files: map[string]*hcl.File{}, Variables: map[string]*Variable{}}
	names, err := configFiles(dir)
	if err != nil {
		return cfg, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the configuration directory",
			Detail:   err.Error(),
		}}
	}
	if len(names) == 0 && opts.SettingsOnly {
		return cfg, nil
	}
	if len(names) == 0 {
		return cfg, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The directory %s has no *%s files. Write invoices in files such as invoices%s, or point -chdir at the directory that has them.", displayDir(dir), Extension, Extension),
		}}
	}
	files, err := newFileReader(dir)
	if err != nil {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the configuration directory", Detail: err.Error()}}
	}
	l := &loader{cfg: cfg, opts: opts, files: files, budget: &budget{}, urls: &urlCache{}}
	if l.opts.Parallelism <= 0 {
		l.opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	if l.opts.Today.IsZero() {
		l.opts.Today = time.Now()
	}
	l.readCurrencyLock(dir)
	l.load(names)
	// The syntax trees kept for diagnostics refer to the budget: let go of the decoded
	// values (and texts) it holds for the load.
	l.budget.mu.Lock()
	l.budget.decoded, l.budget.tabled = nil, nil
	l.budget.mu.Unlock()
	diags := l.finish()
	if opts.done != nil {
		opts.done(l)
	}
	return cfg, diags
}

// checkUTF8 reports the first invalid UTF-8 sequence of a file. HCL itself lets invalid bytes
// through in comments, where they would end up in formatted files.
func checkUTF8(name string, src []byte) *hcl.Diagnostic {
	if utf8.Valid(src) {
		return nil
	}
	pos := hcl.InitialPos
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 {
			end := hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: i + 1}
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid character encoding",
				Detail:   fmt.Sprintf("Byte 0x%02x at line %d, column %d is not UTF-8. Configuration files must be UTF-8: re-save the file as UTF-8 in your editor.", src[i], pos.Line, pos.Column),
				Subject:  &hcl.Range{Filename: name, Start: pos, End: end},
			}
		}
		if r == '\n' {
			pos.Line, pos.Column = pos.Line+1, 1
		} else {
			pos.Column++
		}
		i += size
		pos.Byte = i
	}
	return nil
}

// sourceOnly is a file that could not be parsed, kept so that its diagnostic shows the source
// line; its body is empty. Bytes that are not UTF-8 become '?' (one for one, so offsets hold),
// keeping the terminal free of them.
func sourceOnly(src []byte) *hcl.File {
	if !utf8.Valid(src) {
		clean := make([]byte, len(src))
		copy(clean, src)
		for i := 0; i < len(clean); {
			r, size := utf8.DecodeRune(clean[i:])
			if r == utf8.RuneError && size == 1 {
				clean[i] = '?'
			}
			i += size
		}
		src = clean
	}
	return &hcl.File{Body: hcl.EmptyBody(), Bytes: src}
}

func displayDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// configFiles lists the *.hcl files of dir, sorted, as paths joined to dir. Entries that are
// not regular files (a directory named x.hcl, a FIFO, a symbolic link) are listed too: reading
// them refuses them by name.
func configFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), Extension) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		names = append(names, filepath.Join(dir, e.Name()))
	}
	sort.Strings(names)
	return names, nil
}

type loader struct {
	cfg   *Config
	opts  LoadOptions
	files *fileReader
	// budget counts what evaluation makes, against the evaluation limits (limits.go).
	budget *budget
	diags  hcl.Diagnostics
	ctx    *hcl.EvalContext

	// sensitive names the variables whose values must not be shown in diagnostics.
	sensitive map[string]bool
	// given names the variables a value was given for, even if it was invalid.
	given map[string]bool
	urls  *urlCache
	// varFileFailed is set when a -var-file could not be read or parsed.
	varFileFailed bool
	// tableNames are the locals that may be kept as tables, tables those that are: they
	// are used only as for_each, which reads their rows from the table (forexpr.go).
	tableNames map[string]bool
	tables     map[string]*keyedTable
}

// unit is one configuration file on its way through the loader.
type unit struct {
	name string
	src  []byte
	file *hcl.File
	// diags are the problems of reading, parsing and structure (the top-level blocks).
	diags  hcl.Diagnostics
	broken bool // syntax errors: the body is incomplete and is not looked into
	// header is set for files that may hold variable, locals or settings blocks; they are
	// parsed first, as everything else needs them.
	header                                bool
	variables, locals, settings, invoices []*hcl.Block
	// items are the file's invoice blocks, decoded and (but for for_each) evaluated.
	items []item
}

// checkSource refuses a file that is not UTF-8 or nests too deeply for the parser, keeping its
// text for the diagnostic (src is then nil: there is nothing to parse).
func (u *unit) checkSource() {
	d := checkUTF8(u.name, u.src)
	if d == nil {
		d = CheckNesting(u.name, u.src, false)
	}
	if d != nil {
		u.file, u.diags, u.src = sourceOnly(u.src), hcl.Diagnostics{d}, nil
	}
}

// mayHoldHeader reports whether a file may declare variable, locals or settings blocks: it
// cannot without those words. Files of invoice blocks alone, the bulk of a large manifest,
// are then parsed, evaluated and let go of one at a time.
func mayHoldHeader(src []byte) bool {
	return bytes.Contains(src, []byte("variable")) || bytes.Contains(src, []byte("locals")) || bytes.Contains(src, []byte("settings"))
}

func (l *loader) parseUnit(u *unit) {
	if u.src == nil {
		return
	}
	f, diags := parseConfig(u.src, u.name) // fastparse.go
	u.diags = append(u.diags, diags...)
	if f == nil {
		return
	}
	u.file = f
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		bound(body, l.budget)
	}
	if diags.HasErrors() {
		// The body of a file with syntax errors is incomplete: checking it would report
		// errors that are only echoes of the syntax error.
		u.broken = true
		return
	}
	content, diags := f.Body.Content(rootSchema)
	u.diags = append(u.diags, diags...)
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			u.variables = append(u.variables, b)
		case "locals":
			u.locals = append(u.locals, b)
		case "settings":
			u.settings = append(u.settings, b)
		case "invoice":
			u.invoices = append(u.invoices, b)
		}
	}
}

// release drops a file's syntax tree once its invoices are evaluated, keeping the source for
// showing diagnostics; a file with diagnostics keeps its tree, which names the block a
// diagnostic is in.
func (u *unit) release(evalDiags int) {
	if u.file == nil || u.header || len(u.diags) > 0 || evalDiags > 0 {
		return
	}
	u.file = &hcl.File{Body: hcl.EmptyBody(), Bytes: u.src}
	u.invoices = nil
}

func (l *loader) load(names []string) {
	units := make([]*unit, len(names))
	parallel(len(names), l.opts.Parallelism, 1, func(i int) {
		u := &unit{name: names[i]}
		units[i] = u
		src, err := readConfigFile(l.files.dir, names[i])
		if err != nil {
			// No subject: the diagnostic names the file and must show nothing of it.
			u.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read a configuration file", Detail: err.Error()}}
			return
		}
		header := mayHoldHeader(src)
		if l.opts.SettingsOnly && !header {
			// Only invoices: a directory of 100,000 literal blocks takes seconds to parse.
			return
		}
		u.src, u.header = src, header
		if l.opts.Cache != nil && !header {
			return // checked unless the cache has its entry (cacheSession.load)
		}
		u.checkSource()
	})
	var headers, rest []*unit
	for _, u := range units {
		if u.header {
			headers = append(headers, u)
		} else {
			rest = append(rest, u)
		}
	}
	parallel(len(headers), l.opts.Parallelism, 1, func(i int) { l.parseUnit(headers[i]) })

	// Variables, locals and settings: their problems count only when every file parsed.
	var variables, locals, settings []*hcl.Block
	structural := false
	for _, u := range headers {
		structural = structural || u.diags.HasErrors()
		variables = append(variables, u.variables...)
		locals = append(locals, u.locals...)
		settings = append(settings, u.settings...)
	}
	evaluate := !structural
	if evaluate {
		l.loadVariables(variables)
		if !l.diags.HasErrors() {
			l.ctx = &hcl.EvalContext{
				Variables: map[string]cty.Value{"var": l.varObject()},
				Functions: functions(l.files, l.budget),
			}
			l.tables = map[string]*keyedTable{}
			if !l.opts.noTables {
				l.tableNames = tableLocals(headers, rest)
			}
			l.loadLocals(locals)
		}
		if l.diags.HasErrors() {
			evaluate = false
		} else {
			l.loadSettings(settings)
		}
	}
	later := l.diags
	l.diags = nil

	// Every file's invoice blocks; the rest of the files are parsed here too, each let go of
	// as soon as its invoices are evaluated.
	evalUnit := func(l *loader, u *unit) {
		n := 0
		if evaluate && !l.opts.SettingsOnly && !u.broken && !u.diags.HasErrors() {
			u.items = l.evalBlocks(u.invoices)
			for _, it := range u.items {
				n += len(it.diags) + len(it.res.diags)
			}
		}
		u.release(n)
	}
	cache := l.cacheFor(evaluate)
	parallel(len(rest), l.opts.Parallelism, 1, func(i int) {
		if cache != nil {
			cache.load(rest[i], evalUnit)
			return
		}
		if l.opts.Cache != nil {
			rest[i].checkSource() // left for the cache, which is not used (evaluate is false)
		}
		l.parseUnit(rest[i])
		evalUnit(l, rest[i])
	})
	for _, u := range headers {
		evalUnit(l, u)
	}

	for _, u := range units {
		l.diags = append(l.diags, u.diags...)
		if u.file != nil {
			l.cfg.Files[u.name] = u.file
		}
	}
	if l.diags.HasErrors() {
		return // syntax and structure first: the rest would only echo them
	}
	l.diags = append(l.diags, later...)
	if !evaluate || l.opts.SettingsOnly {
		return
	}
	l.finishInvoices(units)
}

// finish orders and trims the diagnostics for reading.
func (l *loader) finish() hcl.Diagnostics {
	diags := compactRepeats(limitDiagnostics(l.diags), 5)
	sort.SliceStable(diags, func(i, j int) bool { return diagLess(diags[i], diags[j]) })
	return diags
}

func diagLess(a, b *hcl.Diagnostic) bool {
	switch {
	case a.Subject == nil && b.Subject == nil:
		return false
	case a.Subject == nil:
		return true
	case b.Subject == nil:
		return false
	}
	if a.Subject.Filename != b.Subject.Filename {
		return a.Subject.Filename < b.Subject.Filename
	}
	return a.Subject.Start.Byte < b.Subject.Start.Byte
}

// compactRepeats keeps at most keep diagnostics for the same mistake in many instances of a
// for_each block (same summary, place and detail) and counts the rest in one more.
func compactRepeats(diags hcl.Diagnostics, keep int) hcl.Diagnostics {
	type key struct {
		summary, detail string
		rng             hcl.Range
	}
	keyOf := func(d *hcl.Diagnostic) (key, bool) {
		inst, ok := d.Extra.(instanceDiag)
		if !ok || d.Subject == nil {
			return key{}, false
		}
		return key{d.Summary, inst.detail, *d.Subject}, true
	}
	counts := map[key]int{}
	out := diags[:0:0]
	for _, d := range diags {
		k, ok := keyOf(d)
		if !ok {
			out = append(out, d)
			continue
		}
		counts[k]++
		if counts[k] <= keep {
			out = append(out, d)
		}
	}
	for _, d := range diags {
		k, ok := keyOf(d)
		if !ok {
			continue
		}
		if n := counts[k]; n > keep {
			counts[k] = 0
			out = append(out, &hcl.Diagnostic{
				Severity: d.Severity,
				Summary:  d.Summary,
				Detail:   fmt.Sprintf("%s This is so in %d more instances of this block.", k.detail, n-keep),
				Subject:  d.Subject,
			})
		}
	}
	return out
}

// parallel calls fn(i) for i in [0,n) on up to workers goroutines, handing out chunk indexes
// at a time.
func parallel(n, workers, chunk int, fn func(i int)) {
	if workers > n/chunk+1 {
		workers = n/chunk + 1
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(int64(chunk))) - chunk
				if start >= n {
					return
				}
				for i := start; i < start+chunk && i < n; i++ {
					fn(i)
				}
			}
		}()
	}
	wg.Wait()
}

// convertTo converts v to ty, unwrapping cty's error into a short message.
func convertTo(v cty.Value, ty cty.Type) (cty.Value, error) {
	// A number beyond MaxNumberDigits would take minutes to write as text; those that
	// expressions make end where they are made, but variables' values arrive here.
	if exp, huge := hugeNumberIn(v); huge {
		return cty.NilVal, &limitError{hugeNumberText(exp)}
	}
	return convert.Convert(v, ty)
}
