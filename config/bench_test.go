package config_test

import (
	"path/filepath"
	"testing"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/internal/manifestgen"
)

func benchLoad(b *testing.B, dir string, want int) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cfg, diags := config.Load(dir, config.LoadOptions{Today: today})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		if len(cfg.Invoices) != want {
			b.Fatalf("%d invoices, want %d", len(cfg.Invoices), want)
		}
	}
}

// BenchmarkLoadCSV100k: 100,000 invoices from for_each over a CSV file.
func BenchmarkLoadCSV100k(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "csv")
	if err := manifestgen.CSV(dir, 100000); err != nil {
		b.Fatal(err)
	}
	benchLoad(b, dir, 100000)
}

// BenchmarkLoadLiteral100k: 100,000 literal invoice blocks across 100 files.
func BenchmarkLoadLiteral100k(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "literal")
	if err := manifestgen.Literal(dir, 100000, 100); err != nil {
		b.Fatal(err)
	}
	benchLoad(b, dir, 100000)
}

// TestManifestGenValid keeps the generator honest at a small size: its output must load.
func TestManifestGenValid(t *testing.T) {
	dir := t.TempDir()
	if err := manifestgen.CSV(filepath.Join(dir, "csv"), 500); err != nil {
		t.Fatal(err)
	}
	if err := manifestgen.Literal(filepath.Join(dir, "lit"), 500, 7); err != nil {
		t.Fatal(err)
	}
	for sub, n := range map[string]int{"csv": 500, "lit": 500} {
		cfg := mustLoad(t, filepath.Join(dir, sub), config.LoadOptions{})
		if len(cfg.Invoices) != n {
			t.Errorf("%s: %d invoices, want %d", sub, len(cfg.Invoices), n)
		}
	}
}

// BenchmarkLoadLiteral100kCached: the same from a warm evaluation cache (every file a hit).
func BenchmarkLoadLiteral100kCached(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "literal")
	if err := manifestgen.Literal(dir, 100000, 100); err != nil {
		b.Fatal(err)
	}
	cacheDir := b.TempDir()
	load := func() config.CacheStats {
		c, err := config.OpenCache(cacheDir, config.CacheOptions{})
		if err != nil {
			b.Fatal(err)
		}
		cfg, diags := config.Load(dir, config.LoadOptions{Today: today, Cache: c})
		if diags.HasErrors() || len(cfg.Invoices) != 100000 {
			b.Fatalf("%d invoices, %v", len(cfg.Invoices), diags)
		}
		return c.Stats()
	}
	load()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st := load(); st.Hits != 100 {
			b.Fatalf("%+v, want every file a hit", st)
		}
	}
}

// BenchmarkLoadLiteral100kCacheEmpty: the same into an empty evaluation cache, every file
// evaluated and its entry written: what filling the cache costs over BenchmarkLoadLiteral100k.
func BenchmarkLoadLiteral100kCacheEmpty(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "literal")
	if err := manifestgen.Literal(dir, 100000, 100); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := config.OpenCache(b.TempDir(), config.CacheOptions{})
		if err != nil {
			b.Fatal(err)
		}
		cfg, diags := config.Load(dir, config.LoadOptions{Today: today, Cache: c})
		if diags.HasErrors() || len(cfg.Invoices) != 100000 || c.Stats().Writes != 100 {
			b.Fatalf("%d invoices, %+v, %v", len(cfg.Invoices), c.Stats(), diags)
		}
	}
}
