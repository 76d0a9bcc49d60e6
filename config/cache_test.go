package config_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
)

// cacheFiles is a configuration whose invoice files see variables, locals, a sensitive
// variable, file functions, templates, numbers, sender data and cancel: everything a cached
// file's key must cover.
var cacheFiles = map[string]string{
	"main.hcl": `
variable "shop" {
  default = "https://shop.example.com"
}
variable "amount" {
  default = "106.75"
}
variable "token" {
  default   = "tok-123"
  sensitive = true
}
locals {
  ref = "cust"
}
`,
	"a.hcl": `
invoice "a-1" {
  title              = "A ${local.ref}"
  currency           = "EUR"
  amount             = var.amount
  timer              = false
  end_user_reference = "${local.ref}-1"
  url_success        = "${var.shop}/ok"
  url_failed         = "${var.shop}/failed"
  email_user         = "a@example.com"
}

invoice "a-2" {
  foreign_id         = "a-two"
  title              = "A two"
  description        = "for ${upper(local.ref)}"
  currency           = "USD"
  amount             = 12.5
  timer              = true
  type               = "fill_or_kill"
  end_user_reference = "c-2"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "b@example.com"
  sender_type        = "natural"
  sender_data {
    first_name    = "Ana"
    last_name     = "Lima"
    date_of_birth = "1990-02-03"
  }
}
`,
	"b.hcl": `
invoice "b-1" {
  title              = trimspace(file("note.txt"))
  currency           = "EUR"
  amount             = "7"
  timer              = false
  end_user_reference = fileexists("absent.txt") ? "yes" : "no"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "c@example.com"
}
`,
	"c.hcl": `
# no invoices at all
`,
	"d.hcl": `
invoice "d-1" {
  title              = "D"
  currency           = "EUR"
  amount             = "1.5"
  timer              = false
  end_user_reference = "d"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "d@example.com"
  cancel             = true
}
`,
	"note.txt": "Note one\n",
}

// cacheRestFiles is how many files of cacheFiles are looked up in the cache.
const cacheRestFiles = 4

func toolBytes(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

// cachedLoad loads dir with a cache in cacheDir (opened afresh, as a new process would) and
// returns what the load did with it.
func cachedLoad(t *testing.T, dir, cacheDir, tool string, opts config.LoadOptions) (*config.Config, hcl.Diagnostics, config.CacheStats) {
	t.Helper()
	c, err := config.OpenCache(cacheDir, config.CacheOptions{Tool: toolBytes(tool)})
	if err != nil {
		t.Fatal(err)
	}
	opts.Cache = c
	if opts.Today.IsZero() {
		opts.Today = today
	}
	cfg, diags := config.Load(dir, opts)
	return cfg, diags, c.Stats()
}

// sameConfig compares two loads: diagnostics, every file's text, and every invoice whole
// (its exported fields, its foreign_id's range and where each field is set).
func sameConfig(t *testing.T, got, want *config.Config, gotDiags, wantDiags hcl.Diagnostics) {
	t.Helper()
	if d := cmp.Diff(diagTexts(wantDiags), diagTexts(gotDiags)); d != "" {
		t.Errorf("diagnostics differ (-cold +cached):\n%s", d)
	}
	if len(got.Files) != len(want.Files) {
		t.Errorf("%d files, want %d", len(got.Files), len(want.Files))
	}
	for name, f := range want.Files {
		if g, ok := got.Files[name]; !ok || !bytes.Equal(g.Bytes, f.Bytes) {
			t.Errorf("file %s: missing or different", name)
		}
	}
	type view struct {
		Inv    *config.Invoice
		Ranges map[string]hcl.Range
		ID     hcl.Range
	}
	views := func(invs []*config.Invoice) []view {
		var out []view
		for _, inv := range invs {
			r, id := config.InvoiceRanges(inv)
			out = append(out, view{inv, r, id})
		}
		return out
	}
	amounts := cmp.Comparer(func(a, b invoice.Amount) bool { return a.String() == b.String() && a.Cmp(b) == 0 })
	if d := cmp.Diff(views(want.Invoices), views(got.Invoices), amounts, cmp.AllowUnexported(config.Invoice{}),
		cmp.FilterPath(func(p cmp.Path) bool {
			// The representation of the ranges differs; what they say is compared in Ranges.
			f, ok := p.Last().(cmp.StructField)
			return ok && (f.Name() == "ranges" || f.Name() == "spans" || f.Name() == "idRange")
		}, cmp.Ignore())); d != "" {
		t.Errorf("invoices differ (-cold +cached):\n%s", d)
	}
}

func diagTexts(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		s := d.Summary + ": " + d.Detail
		if d.Subject != nil {
			s = d.Subject.String() + ": " + s
		}
		out = append(out, s)
	}
	return out
}

func coldLoad(t *testing.T, dir string, opts config.LoadOptions) (*config.Config, hcl.Diagnostics) {
	t.Helper()
	if opts.Today.IsZero() {
		opts.Today = today
	}
	return config.Load(dir, opts)
}

// TestCacheHit: a load from the cache gives exactly the configuration a load without it
// gives, and takes every file of invoice blocks from it.
func TestCacheHit(t *testing.T) {
	dir := writeDir(t, cacheFiles)
	cacheDir := filepath.Join(t.TempDir(), "cache")
	want, wantDiags := coldLoad(t, dir, config.LoadOptions{})
	if wantDiags.HasErrors() || len(want.Invoices) != 4 {
		t.Fatalf("cold load: %d invoices, %v", len(want.Invoices), wantDiags)
	}

	got, diags, st := cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{})
	if st != (config.CacheStats{Misses: cacheRestFiles, Writes: cacheRestFiles}) {
		t.Errorf("first load: %+v, want every file a miss and written", st)
	}
	sameConfig(t, got, want, diags, wantDiags)

	got, diags, st = cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{})
	if st != (config.CacheStats{Hits: cacheRestFiles}) {
		t.Errorf("second load: %+v, want every file a hit", st)
	}
	sameConfig(t, got, want, diags, wantDiags)
	for _, inv := range got.Invoices {
		if !invoice.HashMatches(inv.Body, inv.Hash) || !bytes.Equal(inv.Body, inv.Request.Encode()) {
			t.Errorf("%s: body, request and hash disagree", inv.Address)
		}
	}

	// Personal data: entries 0600 in a directory of 0700.
	sub := filepath.Join(cacheDir, "v1")
	if fi, err := os.Stat(sub); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v, %v; want mode 0700", fi.Mode(), err)
	}
	entries, _ := filepath.Glob(filepath.Join(sub, "*.entry"))
	if len(entries) != cacheRestFiles {
		t.Errorf("%d entries, want %d", len(entries), cacheRestFiles)
	}
	for _, e := range entries {
		if fi, err := os.Stat(e); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", e, fi.Mode(), err)
		}
	}
}

// TestCacheMisses: a change in any input of a file's evaluation misses its entry, and the
// load then gives what a load without the cache gives. Each case changes one input of a
// warm cache.
func TestCacheMisses(t *testing.T) {
	lock := config.EncodeCurrencyLock("https://app.cryptoprocessing.com/api/v2", []config.LockedCurrency{
		{Code: "EUR", Type: "fiat", Precision: 2}, {Code: "USD", Type: "fiat", Precision: 2}})
	lockNoUSD := config.EncodeCurrencyLock("https://app.cryptoprocessing.com/api/v2", []config.LockedCurrency{
		{Code: "EUR", Type: "fiat", Precision: 2}})
	tests := []struct {
		name   string
		change func(t *testing.T, dir string, opts *config.LoadOptions, tool *string)
		// misses is how many of the files miss; errors, that the load fails.
		misses int
		errors bool
	}{
		{"nothing", func(*testing.T, string, *config.LoadOptions, *string) {}, 0, false},
		{"a file's bytes", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			edit(t, dir, "d.hcl", `"1.5"`, `"1.6"`)
		}, 1, false},
		{"a comment in a file", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			edit(t, dir, "c.hcl", "no invoices", "no invoice")
		}, 1, false},
		{"a file's name", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			if err := os.Rename(filepath.Join(dir, "d.hcl"), filepath.Join(dir, "e.hcl")); err != nil {
				t.Fatal(err)
			}
		}, 1, false},
		{"a variable's default", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			edit(t, dir, "main.hcl", `"106.75"`, `"106.80"`)
		}, cacheRestFiles, false},
		{"a variable no file uses", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			edit(t, dir, "main.hcl", `"tok-123"`, `"tok-456"`)
		}, cacheRestFiles, false},
		{"a variable made sensitive", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			edit(t, dir, "main.hcl", `default = "https://shop.example.com"`, "default = \"https://shop.example.com\"\n  sensitive = true")
		}, cacheRestFiles, false},
		{"a variable's type", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			edit(t, dir, "main.hcl", `default = "106.75"`, "default = 106.75")
		}, cacheRestFiles, false},
		{"a local", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			edit(t, dir, "main.hcl", `ref = "cust"`, `ref = "client"`)
		}, cacheRestFiles, false},
		{"-var", func(_ *testing.T, _ string, opts *config.LoadOptions, _ *string) {
			opts.Vars = []string{"amount=99.5"}
		}, cacheRestFiles, false},
		{"-var of the same value", func(_ *testing.T, _ string, opts *config.LoadOptions, _ *string) {
			opts.Vars = []string{"amount=106.75"}
		}, 0, false},
		{"an environment variable", func(_ *testing.T, _ string, opts *config.LoadOptions, _ *string) {
			opts.Environ = []string{config.EnvVarPrefix + "shop=https://other.example.com"}
		}, cacheRestFiles, false},
		{"-var-file", func(t *testing.T, dir string, opts *config.LoadOptions, _ *string) {
			p := filepath.Join(t.TempDir(), "v.vars")
			if err := os.WriteFile(p, []byte(`amount = "3"`), 0o600); err != nil {
				t.Fatal(err)
			}
			opts.VarFiles = []string{p}
		}, cacheRestFiles, false},
		{"today's date", func(_ *testing.T, _ string, opts *config.LoadOptions, _ *string) {
			opts.Today = today.AddDate(0, 0, 1)
		}, cacheRestFiles, false},
		{"today's date, a birth date on it", func(_ *testing.T, _ string, opts *config.LoadOptions, _ *string) {
			opts.Today = time.Date(1990, 2, 3, 9, 0, 0, 0, time.UTC)
		}, cacheRestFiles, true},
		{"the time of day", func(_ *testing.T, _ string, opts *config.LoadOptions, _ *string) {
			opts.Today = today.Add(time.Hour)
		}, 0, false},
		{"a lock file added", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			write(t, dir, config.CurrencyLockFile, string(lock))
		}, cacheRestFiles, false},
		{"a lock file without a currency used", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			write(t, dir, config.CurrencyLockFile, string(lockNoUSD))
		}, cacheRestFiles, true},
		{"a file read by file()", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			write(t, dir, "note.txt", "Note two\n")
		}, 1, false},
		{"a file fileexists() did not find", func(t *testing.T, dir string, _ *config.LoadOptions, _ *string) {
			write(t, dir, "absent.txt", "here now")
		}, 1, false},
		{"the executable", func(_ *testing.T, _ string, _ *config.LoadOptions, tool *string) {
			*tool = "tool-2"
		}, cacheRestFiles, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, cacheFiles)
			cacheDir := t.TempDir()
			if _, diags, st := cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{}); diags.HasErrors() || st.Writes != cacheRestFiles {
				t.Fatalf("warming: %+v, %v", st, diags)
			}
			var opts config.LoadOptions
			tool := "tool-1"
			tt.change(t, dir, &opts, &tool)
			want, wantDiags := coldLoad(t, dir, opts)
			if wantDiags.HasErrors() != tt.errors {
				t.Fatalf("cold load: errors %v, want %v: %v", wantDiags.HasErrors(), tt.errors, wantDiags)
			}
			got, diags, st := cachedLoad(t, dir, cacheDir, tool, opts)
			if st.Misses != int64(tt.misses) || st.Hits != int64(cacheRestFiles-tt.misses) {
				t.Errorf("%+v, want %d misses and %d hits", st, tt.misses, cacheRestFiles-tt.misses)
			}
			sameConfig(t, got, want, diags, wantDiags)
		})
	}
}

func edit(t *testing.T, dir, name, old, new string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s has no %q", name, old)
	}
	write(t, dir, name, strings.Replace(string(data), old, new, 1))
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCacheCorruptEntries: an entry that is not whole, not ours or not for its key is a miss,
// is written again, and the load gives what it gives without the cache.
func TestCacheCorruptEntries(t *testing.T) {
	crc := crc32.MakeTable(crc32.Castagnoli)
	reseal := func(data []byte) []byte {
		binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.Checksum(data[:len(data)-4], crc))
		return data
	}
	tests := []struct {
		name    string
		corrupt func(data []byte, other []byte) []byte
	}{
		{"empty", func([]byte, []byte) []byte { return nil }},
		{"truncated", func(d, _ []byte) []byte { return d[:len(d)-10] }},
		{"only the header", func(d, _ []byte) []byte { return d[:48] }},
		{"a byte flipped", func(d, _ []byte) []byte { d[len(d)/2] ^= 0x20; return d }},
		{"the checksum flipped", func(d, _ []byte) []byte { d[len(d)-1] ^= 1; return d }},
		{"extended", func(d, _ []byte) []byte { return append(d, 0) }},
		{"another format", func(d, _ []byte) []byte { d[7]++; return reseal(d) }},
		{"another file's entry", func(_, o []byte) []byte { return o }},
		{"another key, resealed", func(d, _ []byte) []byte { d[8] ^= 1; return reseal(d) }},
		{"a length past the end, resealed", func(d, _ []byte) []byte { d[48] = 0xff; d[49] = 0xff; return reseal(d) }},
		{"garbage", func(d, _ []byte) []byte { return bytes.Repeat([]byte{0xff}, len(d)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, cacheFiles)
			cacheDir := t.TempDir()
			want, wantDiags := coldLoad(t, dir, config.LoadOptions{})
			cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{})
			entries, _ := filepath.Glob(filepath.Join(cacheDir, "v1", "*.entry"))
			if len(entries) != cacheRestFiles {
				t.Fatalf("%d entries", len(entries))
			}
			var datas [][]byte
			for _, e := range entries {
				d, err := os.ReadFile(e)
				if err != nil {
					t.Fatal(err)
				}
				datas = append(datas, d)
			}
			for i, e := range entries {
				other := datas[(i+1)%len(datas)]
				if err := os.WriteFile(e, tt.corrupt(bytes.Clone(datas[i]), bytes.Clone(other)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, diags, st := cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{})
			if st.Hits != 0 || st.Misses != cacheRestFiles || st.Writes != cacheRestFiles {
				t.Errorf("%+v, want every entry a miss, written again", st)
			}
			sameConfig(t, got, want, diags, wantDiags)
			_, _, st = cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{})
			if st.Hits != cacheRestFiles {
				t.Errorf("after rewriting: %+v, want every file a hit", st)
			}
		})
	}
}

// TestCacheNotKept: files whose evaluation raised a diagnostic, or that have a for_each
// block, are not kept, and neither are files that are not UTF-8 or nest too deeply (checked,
// with the cache on, only when there is no entry); a load from a warm cache reports the same
// problems.
func TestCacheNotKept(t *testing.T) {
	files := map[string]string{
		"main.hcl": cacheFiles["main.hcl"] + `
locals {
  ids = toset(["x", "y"])
}`,
		"each.hcl": `
invoice "e" {
  for_each           = local.ids
  foreign_id         = "e-${each.key}"
  title              = "E"
  currency           = "EUR"
  amount             = "2"
  timer              = false
  end_user_reference = "e"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "e@example.com"
}
`,
		"warn.hcl": `
invoice "w" {
  title              = "W"
  currency           = "EUR"
  amount             = "2"
  timer              = false
  end_user_reference = "w"
  url_success        = "http://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "w@example.com"
}
`,
	}
	files["utf8.hcl"] = "# caf\xe9\n"
	files["deep.hcl"] = "invoice \"deep\" {\n  title = " + strings.Repeat("[", config.MaxNesting+1) + strings.Repeat("]", config.MaxNesting+1) + "\n}\n"
	dir := writeDir(t, files)
	want, wantDiags := coldLoad(t, dir, config.LoadOptions{})
	for _, want := range []string{"Invalid character encoding", "nest"} {
		if !strings.Contains(strings.Join(diagTexts(wantDiags), "\n"), want) {
			t.Errorf("no diagnostic with %q: %v", want, wantDiags)
		}
	}
	cacheDir := t.TempDir()
	for i := 0; i < 2; i++ {
		got, diags, st := cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{})
		if st.Writes != 0 || st.Hits != 0 {
			t.Errorf("load %d: %+v, want nothing kept", i, st)
		}
		sameConfig(t, got, want, diags, wantDiags)
	}
	if len(wantDiags) == 0 {
		t.Errorf("warn.hcl raised no diagnostic: the test tests nothing")
	}
}

// TestCacheLimits: a hit charges the evaluation limits what the file's evaluation charged,
// so a configuration that goes past one without the cache goes past it with it.
func TestCacheLimits(t *testing.T) {
	block := func(label string, n int) string {
		return `
invoice "` + label + `" {
  title              = "T${length([for i in range(1000) : [for j in range(` + itoa(n) + `) : j]])}"
  currency           = "EUR"
  amount             = "2"
  timer              = false
  end_user_reference = "r"
  url_success        = "https://shop.example.com/ok"
  url_failed         = "https://shop.example.com/failed"
  email_user         = "x@example.com"
}
`
	}
	dir := writeDir(t, map[string]string{
		"main.hcl": `locals {
  big = length([for i in range(1000) : [for j in range(500) : j]])
}`,
		"a.hcl": block("a", 400),
	})
	cacheDir := t.TempDir()
	if _, diags, st := cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{}); diags.HasErrors() || st.Writes != 1 {
		t.Fatalf("warming: %+v, %v", st, diags)
	}
	write(t, dir, "b.hcl", block("b", 200))
	_, wantDiags := coldLoad(t, dir, config.LoadOptions{})
	if !strings.Contains(wantDiags.Error(), "Evaluation limit exceeded") {
		t.Fatalf("without the cache: %v, want the iterations limit exceeded", wantDiags)
	}
	_, diags, st := cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{})
	// a.hcl is a hit, unless b.hcl went first and a.hcl's charges went past the limit:
	// then it is evaluated again, and reports it.
	if !strings.Contains(diags.Error(), "Evaluation limit exceeded") {
		t.Errorf("with the cache: %+v, %v; want the iterations limit exceeded", st, diags)
	}
}

// TestCacheExecutable: without a Tool, the key holds the running executable's bytes, read
// once; the cache works with it.
func TestCacheExecutable(t *testing.T) {
	dir := writeDir(t, cacheFiles)
	cacheDir := t.TempDir()
	for i, want := range []config.CacheStats{{Misses: cacheRestFiles, Writes: cacheRestFiles}, {Hits: cacheRestFiles}} {
		c, err := config.OpenCache(cacheDir, config.CacheOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, diags := config.Load(dir, config.LoadOptions{Today: today, Cache: c}); diags.HasErrors() {
			t.Fatal(diags)
		}
		if c.Stats() != want {
			t.Errorf("load %d: %+v, want %+v", i, c.Stats(), want)
		}
	}
}

// TestCachePrune: Prune keeps the most recently used entries within MaxBytes and leaves
// other files alone.
func TestCachePrune(t *testing.T) {
	dir := writeDir(t, cacheFiles)
	cacheDir := t.TempDir()
	cachedLoad(t, dir, cacheDir, "tool-1", config.LoadOptions{})
	sub := filepath.Join(cacheDir, "v1")
	entries, _ := filepath.Glob(filepath.Join(sub, "*.entry"))
	var total int64
	old := time.Now().Add(-time.Hour)
	for i, e := range entries {
		fi, err := os.Stat(e)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		// The first is the least recently used.
		if err := os.Chtimes(e, old.Add(time.Duration(i)*time.Minute), old.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	write(t, sub, "keep.txt", "not an entry")
	first, _ := os.Stat(entries[0])
	c, err := config.OpenCache(cacheDir, config.CacheOptions{Tool: toolBytes("tool-1"), MaxBytes: total - 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Prune(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(sub, "*.entry"))
	if len(left) != len(entries)-1 || first == nil {
		t.Fatalf("%d entries left, want %d", len(left), len(entries)-1)
	}
	if _, err := os.Stat(entries[0]); !os.IsNotExist(err) {
		t.Errorf("the least recently used entry is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sub, "keep.txt")); err != nil {
		t.Errorf("a file that is not an entry was deleted: %v", err)
	}
}

// FuzzCacheEntry: no payload makes the entry reader panic or hand out an invoice whose ranges
// point outside what it was given.
func FuzzCacheEntry(f *testing.F) {
	dir := writeDir(f, cacheFiles)
	cacheDir := f.TempDir()
	c, err := config.OpenCache(cacheDir, config.CacheOptions{Tool: toolBytes("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	if _, diags := config.Load(dir, config.LoadOptions{Today: today, Cache: c}); diags.HasErrors() {
		f.Fatal(diags)
	}
	entries, _ := filepath.Glob(filepath.Join(cacheDir, "v1", "*.entry"))
	for _, e := range entries {
		d, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d[48 : len(d)-4])
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		invs, ok := config.DecodeCacheEntry(payload, "x.hcl")
		if !ok {
			return
		}
		for _, inv := range invs {
			ranges, _ := config.InvoiceRanges(inv)
			for _, r := range ranges {
				if r.Filename != "x.hcl" {
					t.Fatalf("a range in %q", r.Filename)
				}
			}
			_ = inv.Request.Amount.String()
		}
	})
}

// TestCacheUnused: when variables fail nothing is evaluated and the cache is not used; the
// files it would have checked are checked all the same.
func TestCacheUnused(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"main.hcl": "variable \"n\" {\n  type    = number\n  default = \"not a number\"\n}\n",
		"a.hcl":    cacheFiles["d.hcl"],
		"utf8.hcl": "# caf\xe9\n",
	})
	want, wantDiags := coldLoad(t, dir, config.LoadOptions{})
	if !strings.Contains(strings.Join(diagTexts(wantDiags), "\n"), "Invalid character encoding") {
		t.Fatalf("no encoding error: %v", wantDiags)
	}
	got, diags, st := cachedLoad(t, dir, t.TempDir(), "tool-1", config.LoadOptions{})
	if st != (config.CacheStats{}) {
		t.Errorf("%+v, want the cache unused", st)
	}
	sameConfig(t, got, want, diags, wantDiags)
}
