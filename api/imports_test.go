package api_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoImportOfEmulator: only the tests of package api may use the emulator (to run the
// contract tests); the client itself imports nothing of ours.
func TestNoImportOfEmulator(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files found: %v", err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		checked++
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/invoiceform/invoiceform/") {
				t.Errorf("%s imports %s; package api must import nothing of ours", name, path)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no non-test files checked")
	}
}
