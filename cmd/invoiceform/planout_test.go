package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failingWriter takes n bytes, then fails every write.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("write /dev/stdout: broken pipe")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestPlanOutOnlyWhenShown: plan -out writes the plan file while the plan is shown, and puts it
// in place only when the plan was shown whole; when the output fails, no plan file and no
// temporary file is left, and plan exits 1.
func TestPlanOutOnlyWhenShown(t *testing.T) {
	src, err := os.ReadFile("../../examples/quickstart/main.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for _, fail := range []bool{false, true} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		e := &env{stdout: &stdout, stderr: &stderr, environ: []string{"INVOICEFORM_ENDPOINT=https://app.sandbox.cryptoprocessing.com/api/v2"}}
		if fail {
			e.stdout = &failingWriter{n: 10}
		}
		code := run(context.Background(), []string{"-chdir=" + dir, "plan", "-no-color", "-state=none.state", "-out=p.plan"}, e)
		names, _ := filepath.Glob(filepath.Join(dir, "*p.plan*"))
		switch {
		case fail && (code != exitError || len(names) != 0):
			t.Errorf("output failing: exit %d, files %q; want 1 and no plan file\n%s", code, names, stderr.String())
		case fail && !strings.Contains(stderr.String(), "broken pipe"):
			t.Errorf("output failing: stderr does not say why:\n%s", stderr.String())
		case !fail && (code != 0 || len(names) != 1 || filepath.Base(names[0]) != "p.plan" || !strings.Contains(stderr.String(), "Saved the plan")):
			t.Errorf("plan -out: exit %d, files %q; want 0 and p.plan alone\n%s", code, names, stderr.String())
		}
	}
}
