package importcheck_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/invoiceform/invoiceform"

// A rule says which packages of ours a package's non-test files may import (paths in the
// module; "*" for any), and why.
type rule struct {
	may []string
	why string
}

// rules has one entry per package of the module (a key ending in "/..." covers the
// packages below it). The graph (issue 12): invoice at the bottom; config, api and state
// above it and beside each other; plan above those; apply above plan but not config; cmd
// wires everything.
var rules = map[string]rule{
	"invoice":              {nil, "the invoice and its money, which every layer shares"},
	"config/rules":         {[]string{"invoice"}, "value checks of the configuration language"},
	"config":               {[]string{"invoice", "config/rules"}, "the language knows neither the API nor the state"},
	"api":                  {[]string{"invoice"}, "the client; the emulator is used by its tests only"},
	"state":                {[]string{"invoice"}, "the state model knows no backend"},
	"state/boltstate":      {[]string{"state", "invoice", "internal/hugepages"}, "a backend"},
	"state/pgstate":        {[]string{"state", "invoice"}, "a backend"},
	"state/pgstate/pgtest": {[]string{"state/pgstate"}, "test support: the test server"},
	"state/statetest":      {[]string{"state", "invoice", "internal/proctest"}, "test support: the conformance and crash tests"},
	"diagview":             {nil, "renders diagnostics"},
	"redact":               {nil, "keeps secret values out of the output"},
	"plan":                 {[]string{"config", "state", "diagview", "invoice"}, "planning is pure: it reads config and state and cannot reach the API"},
	"apply":                {[]string{"api", "plan", "state", "invoice", "diagview"}, "apply executes a plan; it does not read configuration"},
	"callback":             {[]string{"api", "state", "invoice"}, "verifies and decodes the API's callbacks"},
	"serve":                {[]string{"callback", "state", "invoice"}, "the callback receiver; it reaches the state only through a recorder"},
	"emulator":             {nil, "written from the API docs apart from api and invoice, so a misreading cannot hide on both sides"},
	"cmd/...":              {[]string{"*"}, "commands wire the packages"},
	"scripts/...":          {[]string{"*"}, "developer tools"},
	"internal/manifestgen": {nil, "a generator's library"},
	"internal/proctest":    {nil, "test support: child processes"},
	"internal/hugepages":   {nil, "memory advice to the kernel"},
	"internal/torture":     {[]string{"emulator", "internal/proctest", "state/pgstate/pgtest"}, "test support: drives the real binary"},
	"internal/importcheck": {nil, "this test"},
	"internal/crosscheck":  {nil, "tests only: properties across config, api, apply and state"},
}

// forbiddenStd are standard packages a package may not import.
var forbiddenStd = map[string][]string{
	"plan": {"net", "net/http"}, // planning cannot reach the API
}

// noTestImports are packages of ours that a package's tests may not import either.
var noTestImports = map[string][]string{
	"emulator": {"api"}, // the emulator's tests check it against the reference, not against api
}

// knownViolations are arrows the rules forbid that exist today, each with the work that
// removes it. An entry whose arrow is gone fails the test, so that it is deleted.
var knownViolations = map[string]string{}

type pkg struct {
	ImportPath                         string
	Imports, TestImports, XTestImports []string
}

func TestImportGraph(t *testing.T) {
	pkgs := list(t)
	seen := map[string]bool{}
	usedViolations := map[string]bool{}
	for _, p := range pkgs {
		name := strings.TrimPrefix(p.ImportPath, module+"/")
		key, r, ok := ruleFor(name)
		if !ok {
			t.Errorf("%s has no import rule: add one to rules in internal/importcheck", name)
			continue
		}
		seen[key] = true
		for _, imp := range p.Imports {
			if slices.Contains(forbiddenStd[name], imp) {
				t.Errorf("%s imports %s: %s", name, imp, r.why)
			}
			dep, ours := strings.CutPrefix(imp, module+"/")
			if !ours || slices.Contains(r.may, "*") || slices.Contains(r.may, dep) {
				continue
			}
			arrow := name + " -> " + dep
			if _, known := knownViolations[arrow]; known {
				usedViolations[arrow] = true
				t.Logf("%s: known violation (%s)", arrow, knownViolations[arrow])
				continue
			}
			t.Errorf("%s imports %s; it may import only %v of ours: %s", name, dep, r.may, r.why)
		}
		for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
			if dep, ours := strings.CutPrefix(imp, module+"/"); ours && slices.Contains(noTestImports[name], dep) {
				t.Errorf("the tests of %s import %s: %s", name, dep, r.why)
			}
		}
	}
	for key := range rules {
		if !seen[key] {
			t.Logf("rule for %s: no such package (yet)", key)
		}
	}
	for arrow, why := range knownViolations {
		if !usedViolations[arrow] {
			t.Errorf("known violation %q (%s) no longer exists: delete its entry", arrow, why)
		}
	}
}

// ruleFor is the rule of the package name (a path in the module) and its key.
func ruleFor(name string) (string, rule, bool) {
	if r, ok := rules[name]; ok {
		return name, r, true
	}
	for key, r := range rules {
		if prefix, ok := strings.CutSuffix(key, "/..."); ok && (name == prefix || strings.HasPrefix(name, prefix+"/")) {
			return key, r, true
		}
	}
	return "", rule{}, false
}

// list is every package of the module, as `go list -json` describes it.
func list(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}
