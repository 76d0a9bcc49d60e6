package config

import (
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
	if len(names) == 0 {
		return cfg, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The directory %s has no *%s files. Write invoices in files such as invoices%s, or point -chdir at the directory that has them.", displayDir(dir), Extension, Extension),
		}}
	}
	l := &loader{cfg: cfg, opts: opts}
	if l.opts.Parallelism <= 0 {
		l.opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	if l.opts.Today.IsZero() {
		l.opts.Today = time.Now()
	}
	files, err := newFileReader(dir)
	if err != nil {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the configuration directory", Detail: err.Error()}}
	}
	l.files = files
	l.load(names)
	return cfg, l.finish()
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

// configFiles lists the *.hcl files of dir, sorted, as paths joined to dir.
func configFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), Extension) || strings.HasPrefix(e.Name(), ".") {
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
	diags hcl.Diagnostics
	ctx   *hcl.EvalContext

	// sensitive names the variables whose values must not be shown in diagnostics.
	sensitive map[string]bool
	// given names the variables a value was given for, even if it was invalid.
	given map[string]bool
	// varFileFailed is set when a -var-file could not be read or parsed.
	varFileFailed bool
}

func (l *loader) load(names []string) {
	parsed := make([]*hcl.File, len(names))
	parseDiags := make([]hcl.Diagnostics, len(names))
	parallel(len(names), l.opts.Parallelism, 1, func(i int) {
		src, err := ReadRegularFile(names[i], maxFileSize)
		if err != nil {
			parseDiags[i] = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read a configuration file", Detail: err.Error()}}
			return
		}
		if d := checkUTF8(names[i], src); d != nil {
			parsed[i], parseDiags[i] = sourceOnly(src), hcl.Diagnostics{d}
			return
		}
		if d := CheckNesting(names[i], src, false); d != nil {
			parsed[i], parseDiags[i] = sourceOnly(src), hcl.Diagnostics{d}
			return
		}
		parsed[i], parseDiags[i] = hclsyntax.ParseConfig(src, names[i], hcl.InitialPos)
	})
	var variables, locals, settings, invoices []*hcl.Block
	for i, f := range parsed {
		l.diags = append(l.diags, parseDiags[i]...)
		if f == nil {
			continue
		}
		l.cfg.Files[names[i]] = f
		if parseDiags[i].HasErrors() {
			// The body of a file with syntax errors is incomplete: checking it would report
			// errors that are only echoes of the syntax error.
			continue
		}
		content, diags := f.Body.Content(rootSchema)
		l.diags = append(l.diags, diags...)
		for _, b := range content.Blocks {
			switch b.Type {
			case "variable":
				variables = append(variables, b)
			case "locals":
				locals = append(locals, b)
			case "settings":
				settings = append(settings, b)
			case "invoice":
				invoices = append(invoices, b)
			}
		}
	}
	if l.diags.HasErrors() {
		return
	}
	l.loadVariables(variables)
	if l.diags.HasErrors() {
		return
	}
	l.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": l.varObject()},
		Functions: functions(l.files),
	}
	l.loadLocals(locals)
	if l.diags.HasErrors() {
		return
	}
	l.loadSettings(settings)
	l.loadInvoices(invoices)
}

// finish orders and trims the diagnostics for reading.
func (l *loader) finish() hcl.Diagnostics {
	diags := compactRepeats(l.diags, 5)
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
	return convert.Convert(v, ty)
}
