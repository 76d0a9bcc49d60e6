package plan_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps plan pure (DESIGN.md): of ours it imports only config, state and the
// diagnostics view, and it imports no networking package, so planning cannot reach the API.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"github.com/invoiceform/invoiceform/config":   true,
		"github.com/invoiceform/invoiceform/invoice":  true,
		"github.com/invoiceform/invoiceform/state":    true,
		"github.com/invoiceform/invoiceform/diagview": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		checked++
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/invoiceform/invoiceform/") && !allowed[path] {
				t.Errorf("%s imports %s", name, path)
			}
			if path == "net" || strings.HasPrefix(path, "net/http") {
				t.Errorf("%s imports %s: plan must not use the network", name, path)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d files checked", checked)
	}
}
