package emulator_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoImportOfAPI keeps the emulator, tests included, independent of package api: the two
// are written separately from the reference so a misreading cannot hide on both sides.
func TestNoImportOfAPI(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files found: %v", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "github.com/invoiceform/invoiceform/api" || strings.HasPrefix(path, "github.com/invoiceform/invoiceform/api/") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
