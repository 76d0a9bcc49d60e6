package config_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
)

// today is the fixed date the fixtures are checked against, so date_of_birth rules do not
// depend on when the tests run.
var today = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

var marker = regexp.MustCompile(`#.*?\b(ERROR|WARNING):\s*(.+?)\s*$`)

// expectation is one marked line: a diagnostic of this severity whose summary contains text
// must start on this line of this file.
type expectation struct {
	File     string
	Line     int
	Severity string
	Text     string
}

// TestInvalidFixtures loads every directory under testdata/invalid. Each holds one violation,
// marked on the offending line with `# ERROR: summary`; the test checks that the loader
// reports exactly the marked diagnostics: each on its line, and nothing unmarked.
func TestInvalidFixtures(t *testing.T) {
	dirs, err := filepath.Glob("testdata/invalid/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 40 {
		t.Fatalf("found %d fixtures, want at least 40", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want := markers(t, dir)
			if len(want) == 0 {
				t.Fatalf("fixture %s has no # ERROR: marker", dir)
			}
			_, diags := config.Load(dir, config.LoadOptions{Today: today})
			var got []expectation
			unmatched := map[int]bool{}
			for i := range want {
				unmatched[i] = true
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic without a source range: %s: %s", d.Summary, d.Detail)
					continue
				}
				sev := "ERROR"
				if d.Severity == hcl.DiagWarning {
					sev = "WARNING"
				}
				matched := false
				for i, w := range want {
					if w.File == filepath.Base(d.Subject.Filename) && w.Line == d.Subject.Start.Line && w.Severity == sev && strings.Contains(d.Summary, w.Text) {
						matched = true
						delete(unmatched, i)
					}
				}
				if !matched {
					got = append(got, expectation{filepath.Base(d.Subject.Filename), d.Subject.Start.Line, sev, d.Summary + ": " + d.Detail})
				}
				if d.Detail == "" && d.Severity == hcl.DiagError {
					t.Errorf("%s:%d: %q has no detail to say how to fix it", d.Subject.Filename, d.Subject.Start.Line, d.Summary)
				}
			}
			for _, g := range got {
				t.Errorf("unexpected diagnostic %s:%d %s: %s", g.File, g.Line, g.Severity, g.Text)
			}
			var missing []expectation
			for i := range unmatched {
				missing = append(missing, want[i])
			}
			sort.Slice(missing, func(i, j int) bool { return missing[i].Line < missing[j].Line })
			for _, m := range missing {
				t.Errorf("missing diagnostic %s:%d %s containing %q", m.File, m.Line, m.Severity, m.Text)
			}
			if t.Failed() {
				for _, d := range diags {
					t.Logf("got: %s", d.Error())
				}
			}
		})
	}
}

func markers(t *testing.T, dir string) []expectation {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	var out []expectation
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(src))
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			if m := marker.FindStringSubmatch(sc.Text()); m != nil {
				out = append(out, expectation{filepath.Base(f), line, m[1], m[2]})
			}
		}
	}
	return out
}

// TestExamplesValid loads the shipped examples: they must stay valid.
func TestExamplesValid(t *testing.T) {
	for dir, n := range map[string]int{"../examples/quickstart": 3, "../examples/batch": 1000} {
		cfg, diags := config.Load(dir, config.LoadOptions{Today: today})
		if len(diags) > 0 {
			t.Fatalf("%s: %s", dir, diags.Error())
		}
		if len(cfg.Invoices) != n {
			t.Errorf("%s: %d invoices, want %d", dir, len(cfg.Invoices), n)
		}
	}
}

func TestDuplicateNamesBothPlaces(t *testing.T) {
	_, diags := config.Load("testdata/invalid/duplicate_foreign_id_across_files", config.LoadOptions{Today: today})
	if len(diags) != 1 {
		t.Fatalf("got %d diagnostics, want 1: %v", len(diags), diags)
	}
	d := diags[0]
	want := fmt.Sprintf("invoice.order-2 has foreign_id %q, which invoice.order-1 at %s", "order-1", filepath.Join("testdata/invalid/duplicate_foreign_id_across_files", "main.hcl")+":1,1-18")
	if !strings.Contains(d.Detail, want) {
		t.Errorf("detail %q\ndoes not name both places (want it to contain %q)", d.Detail, want)
	}
	if diff := cmp.Diff("z.hcl", filepath.Base(d.Subject.Filename)); diff != "" {
		t.Errorf("subject file (-want +got):\n%s", diff)
	}
}
