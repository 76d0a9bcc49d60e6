package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this test binary as the real invoiceform command, in its own
// process, for every `exec invoiceform` of the scripts.
func TestMain(m *testing.M) {
	if os.Getenv("INVOICEFORM_TEST_RUN_MAIN") == "1" {
		// Re-executed by a test that needs the command as a long-running process.
		main()
		os.Exit(0)
	}
	testscript.Main(m, map[string]func(){"invoiceform": main})
}

// TestScripts runs the end-to-end scripts of testdata/script: each is a txtar file with the
// commands, their input files and the expected output. The examples directory is copied into
// each script's work directory as examples/.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			return os.CopyFS(filepath.Join(env.WorkDir, "examples"), os.DirFS("../../examples"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N PROG ARGS... runs PROG and requires exit code N exactly.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N PROG [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				if got != want {
					ts.Fatalf("exit code %d, want %d", got, want)
				}
			},
		},
	})
}
