package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/invoiceform/invoiceform/emulator"
)

// hostileFixture is what every hostile case starts from: a valid configuration, a state
// written by a real apply against the emulator, and a saved plan with three creates.
type hostileFixture struct {
	config []byte // main.hcl
	state  []byte // invoiceform.state after an apply
	plan   []byte // plan -out of the same config against an empty state
	export []byte // state export of the state
	base   string // the emulator's API URL
}

func newHostileFixture(t *testing.T) *hostileFixture {
	t.Helper()
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	fx := &hostileFixture{base: base}
	if fx.config, err = os.ReadFile("../../examples/quickstart/main.hcl"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.hcl"), fx.config)
	for _, args := range [][]string{{"apply", "-auto-approve"}, {"plan", "-state=none.state", "-out=good.plan"}} {
		if r := runHostile(t, dir, base, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.out)
		}
	}
	fx.state = read(t, filepath.Join(dir, "invoiceform.state"))
	fx.plan = read(t, filepath.Join(dir, "good.plan"))
	r := runHostile(t, dir, base, "state", "export")
	if r.code != 0 {
		t.Fatalf("state export: %s", r.out)
	}
	fx.export = []byte(r.stdout)
	return fx
}

type hostileResult struct {
	code        int
	stdout, out string // out: stdout and stderr together
}

// runHostile runs this test binary as invoiceform in dir, with the emulator's endpoint and
// credentials.
func runHostile(t *testing.T, dir, base string, args ...string) hostileResult {
	t.Helper()
	return runBinary(t, dir, []string{"INVOICEFORM_ENDPOINT=" + base,
		"INVOICEFORM_API_KEY=" + emulator.DefaultKey, "INVOICEFORM_API_SECRET=" + emulator.DefaultSecret}, args...)
}

// runBinary runs this test binary as invoiceform in dir, with environ added to the test's
// environment, and a deadline: a hang is a failure too.
func runBinary(t *testing.T, dir string, environ []string, args ...string) hostileResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "INVOICEFORM_TEST_RUN_MAIN=1", "NO_COLOR=1"), environ...)
	var stdout, all bytes.Buffer
	var mu sync.Mutex
	cmd.Stdout = &lockedWriter{mu: &mu, to: []*bytes.Buffer{&stdout, &all}}
	cmd.Stderr = &lockedWriter{mu: &mu, to: []*bytes.Buffer{&all}}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v: still running after 60 s", args)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return hostileResult{code: code, stdout: stdout.String(), out: all.String()}
}

// lockedWriter writes to buffers that stdout and stderr share. (A bare *bytes.Buffer as
// Stderr would be filled by ReadFrom, which races with the other stream's writes.)
type lockedWriter struct {
	mu *sync.Mutex
	to []*bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.to {
		b.Write(p)
	}
	return len(p), nil
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invoiceWith is one valid invoice block with attr set to the HCL expression value.
func invoiceWith(attr, value string) string {
	attrs := map[string]string{"title": `"Order 1"`, "currency": `"EUR"`, "amount": `"10.00"`, "timer": "false",
		"end_user_reference": `"customer-1"`, "url_success": `"https://shop.example.com/ok"`,
		"url_failed": `"https://shop.example.com/failed"`, "email_user": `"buyer@example.com"`}
	attrs[attr] = value
	var b strings.Builder
	b.WriteString("invoice \"order-1\" {\n")
	for _, k := range []string{"title", "currency", "amount", "timer", "end_user_reference", "url_success", "url_failed", "email_user"} {
		b.WriteString("  " + k + " = " + attrs[k] + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// TestHostileInputs runs the real binary on inputs meant to break it: damaged plan and state
// files, configurations that reach outside their directory, enormous and deeply nested
// values, bytes that are not UTF-8, and flags with bad values. Each must end with the exit
// code given (1 for all but the one that is valid), a message that names what is wrong and
// where, no panic, bounded output, and files it was given left as they were. The big inputs
// are made here, not committed.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary about 130 times")
	}
	fx := newHostileFixture(t)
	rng := rand.New(rand.NewPCG(7, 7))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	otherDB := func(t *testing.T, dir string) {
		// Another program's bbolt database: valid bbolt, none of invoiceform's buckets.
		db, err := bolt.Open(filepath.Join(dir, "invoiceform.state"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("widgets"))
			if err != nil {
				return err
			}
			return b.Put([]byte("sprocket"), []byte("42"))
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	alterPlan := func(old, new string) []byte {
		i := bytes.Index(fx.plan, []byte(old))
		if i < 0 {
			t.Fatalf("the plan file has no %q", old)
		}
		b := bytes.Clone(fx.plan)
		copy(b[i:], new)
		return b
	}
	withFiles := func(files map[string][]byte) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			for name, data := range files {
				write(t, filepath.Join(dir, name), data)
			}
		}
	}
	bigSize := 10 << 20
	if raceEnabled {
		bigSize = 1 << 20 // still 64 times the output bound
	}
	big := strings.Repeat("A", bigSize)
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	const badPlan = `p\.plan: not a valid invoiceform plan file \(truncated, altered, or another kind of file\).*\(make a new one with invoiceform plan -out=FILE\)`
	const badState = `state: invoiceform\.state: not a valid invoiceform state \(%s\); the file was left as it is`
	const outside = `is outside the configuration directory; file functions read only files inside it`

	type hcase struct {
		name  string
		setup func(t *testing.T, dir string)
		args  []string
		code  int
		want  []string // regular expressions the output must match
		max   int      // bound on the output in bytes (default 16 KB)
		// env is added to the environment; canaries must appear in no output.
		env, canaries []string
	}
	var cases []hcase
	planCase := func(name string, data []byte, want ...string) {
		for _, cmd := range [][]string{{"show", "p.plan"}, {"show", "-json", "p.plan"}, {"apply", "-state=fresh.state", "p.plan"}} {
			cases = append(cases, hcase{name: "plan file " + name + "/" + strings.Join(cmd, " "),
				setup: withFiles(map[string][]byte{"p.plan": data}), args: cmd, code: 1, want: want})
		}
	}
	planCase("truncated", fx.plan[:len(fx.plan)/2], badPlan, `cut short`)
	planCase("one byte altered", alterPlan(`"order-1001"`, `"order-2001"`), badPlan, `checksum mismatch: the file was altered after it was written`)
	planCase("one byte altered, breaking the JSON", alterPlan(`"format":`, `"format!`), badPlan, `invalid character .* at byte \d+ of \d+`)
	planCase("another program's JSON", []byte(`{"format": "terraform-plan", "version": 4}`), badPlan, `format is "terraform-plan", want "invoiceform-plan"`)
	planCase("a state export", fx.export, badPlan, `format is "invoiceform-state", want "invoiceform-plan"`)
	planCase("a state file", fx.state, badPlan, `invalid character`)
	planCase("random bytes", random, badPlan)
	planCase("empty", nil, badPlan, `cut short`)
	planCase("from a newer invoiceform", alterPlan(`"version":2`, `"version":9`), `plan file was written by a newer invoiceform: version 9`)
	planCase("from an older invoiceform", alterPlan(`"version":2`, `"version":1`), `plan file was written by an older invoiceform: version 1, which held the request bodies.*\(make a new one with invoiceform plan -out=FILE\)`)
	// Edited and re-signed as an attacker would: the file is valid, and apply, which rebuilds
	// the bodies from the configuration, refuses it, naming the invoice.
	for _, keep := range []bool{false, true} {
		resigned, err := resignPlan(fx.plan, "order-1002", "2500", keep)
		if err != nil {
			t.Fatal(err)
		}
		want := `main\.hcl:30: invoice\.order-1002 \(foreign_id order-1002\): the request declared here is not the one planned \(planned EUR 2,500\.00, declared now EUR 250\.00\)`
		if keep {
			want = `main\.hcl:30: invoice\.order-1002 \(foreign_id order-1002\): the plan says EUR 2,500\.00, and planning here gives EUR 250\.00`
		}
		cases = append(cases, hcase{name: fmt.Sprintf("plan file re-signed with another amount (body hash kept: %t)", keep),
			setup: withFiles(map[string][]byte{"main.hcl": fx.config, "p.plan": resigned}), args: []string{"apply", "-state=fresh.state", "p.plan"}, code: 1,
			want: []string{`p\.plan: nothing was sent: the saved plan does not match the configuration here: ` + want, `\(apply a plan made from this very configuration`}})
	}
	cases = append(cases, hcase{name: "plan file missing", args: []string{"show", "p.plan"}, code: 1, want: []string{`p\.plan: no such file or directory`}})

	stateCase := func(name string, setup func(*testing.T, string), want ...string) {
		for _, cmd := range [][]string{{"state", "list"}, {"state", "show", "order-1001"}, {"state", "export"}, {"state", "rm", "order-1001"},
			{"show"}, {"plan"}, {"apply", "-auto-approve"}} {
			cases = append(cases, hcase{name: "state " + name + "/" + strings.Join(cmd, " "),
				setup: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "main.hcl"), fx.config); setup(t, dir) },
				args:  cmd, code: 1, want: want})
		}
	}
	stateCase("of another program", otherDB, regexp.QuoteMeta("a bbolt file without invoiceform's meta; another program's database?"))
	stateCase("of random bytes", withFiles(map[string][]byte{"invoiceform.state": random}), strings.ReplaceAll(badState, "%s", "invalid database"))
	stateCase("of zero length", withFiles(map[string][]byte{"invoiceform.state": nil}), strings.ReplaceAll(badState, "%s", "the file is empty"))
	stateCase("truncated", withFiles(map[string][]byte{"invoiceform.state": fx.state[:8192]}), strings.ReplaceAll(badState, "%s", `truncated: 8192 bytes, want \d+`))
	stateCase("that is a plan file", withFiles(map[string][]byte{"invoiceform.state": fx.plan}), strings.ReplaceAll(badState, "%s", `(file size too small \d+|invalid database)`))

	importCase := func(name string, data []byte, want ...string) {
		cases = append(cases, hcase{name: "state import of " + name, setup: withFiles(map[string][]byte{"backup.json": data}),
			args: []string{"state", "import", "backup.json"}, code: 1,
			want: append([]string{`state import: backup\.json: not a valid invoiceform state`}, want...)})
	}
	importCase("a truncated export", fx.export[:len(fx.export)/2], `not an export document: unexpected EOF`)
	importCase("random bytes", random, `not an export document: invalid character`)
	importCase("an export with a foreign_id edited", bytes.Replace(fx.export, []byte(`"foreign_id": "order-1001"`), []byte(`"foreign_id": "order-9001"`), 1),
		`record "order-9001" holds the request of foreign_id "order-1001"`)
	importCase("an export with a body edited", bytes.Replace(fx.export, []byte(`buyer@example.com`), []byte(`buyer@example.org`), 1),
		`record "order-1001": body_hash does not match the body`)
	importCase("a plan file", fx.plan, `unknown field "created_at"|format is "invoiceform-plan"`)
	importCase("a 10 MB format", []byte(`{"format": "`+strings.Repeat("x", 10<<20)+`"}`), `format is "x{64}\.\.\.", want "invoiceform-state"`)

	configCase := func(name string, files map[string]string, args []string, code int, want ...string) {
		cases = append(cases, hcase{name: "config " + name, args: args, code: code, want: want, setup: func(t *testing.T, dir string) {
			for n, data := range files {
				write(t, filepath.Join(dir, "cfg", n), []byte(data))
			}
			write(t, filepath.Join(dir, "outside.csv"), []byte("id,title\n1,from outside\n"))
			write(t, filepath.Join(dir, "outside.txt"), []byte("from outside"))
			if err := os.Symlink(filepath.Join(dir, "outside.txt"), filepath.Join(dir, "cfg", "link.txt")); err != nil {
				t.Skip("symlinks:", err)
			}
		}})
	}
	validate := []string{"-chdir=cfg", "validate"}
	for _, expr := range []string{`file("../outside.txt")`, `file("link.txt")`, `file("../../../../../../etc/passwd")`, `file("/etc/passwd")`,
		`templatefile("../outside.txt", {})`, `csvdecode(file("../outside.csv"))[0].title`, `fileexists("../outside.txt") ? "a" : "b"`} {
		configCase("reading "+expr, map[string]string{"main.hcl": invoiceWith("title", expr)}, validate, 1,
			`main\.hcl line 2`, regexp.QuoteMeta(outside))
	}
	// The messages of title and email_user give the length; those of currency and amount
	// quote the value.
	for _, attr := range []string{"title", "email_user", "currency", "amount"} {
		configCase("10 MB "+attr, map[string]string{"main.hcl": invoiceWith(attr, `"`+big+`"`)}, validate, 1, `main\.hcl line \d+, in invoice "order-1"`, `more bytes of this line not shown`)
	}
	configCase("10 MB title -json", map[string]string{"main.hcl": invoiceWith("title", `"`+big+`"`)}, []string{"-chdir=cfg", "validate", "-json"}, 1, `"filename": "main\.hcl"`, `title is \d+ characters long`)
	configCase("10 MB currency plan -json", map[string]string{"main.hcl": invoiceWith("currency", `"`+big+`"`)}, []string{"-chdir=cfg", "plan", "-json"}, 1, `"filename": "main\.hcl"`, `more bytes not shown`)
	configCase("10 MB label", map[string]string{"main.hcl": strings.Replace(invoiceWith("title", `"t"`), "order-1", big, 1)}, validate, 1, `Invalid foreign_id`)
	configCase("10 MB line comment", map[string]string{"main.hcl": "# " + big + "\n" + invoiceWith("title", `"t"`) + "oops\n"}, validate, 1, `main\.hcl line 12`)
	configCase("1,000 levels of lists, objects, parentheses", map[string]string{"main.hcl": "locals {\n  a = " + deep("[", "]", 1000) +
		"\n  b = " + deep("{a = ", "}", 1000) + "\n  c = " + deep("(", ")", 1000) + "\n}\n" + invoiceWith("title", `"t"`)}, validate, 0, `The configuration is valid: 1 invoice`)
	for name, expr := range map[string]string{"parentheses": deep("(", ")", 100_000), "lists": deep("[", "]", 100_000), "interpolations": deep(`"${`, `}"`, 100_000)} {
		configCase("100,000 levels of "+name, map[string]string{"main.hcl": invoiceWith("title", expr)}, validate, 1,
			`Error: Nested too deeply`, `main\.hcl line 2`, `at most 2000 levels deep`)
	}
	configCase("100,000 levels of JSON read by jsondecode", map[string]string{"main.hcl": invoiceWith("title", `jsondecode(file("d.json"))`),
		"d.json": strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)}, validate, 1, `main\.hcl line 2`, `Evaluation limit exceeded`, `more than 100 levels deep`)
	configCase("100,000 levels in fmt", map[string]string{"main.hcl": invoiceWith("title", deep("(", ")", 100_000))}, []string{"fmt", "-check", "cfg"}, 1, `Nested too deeply`)
	configCase("invalid UTF-8 in a .hcl file", map[string]string{"main.hcl": invoiceWith("title", "\"caf\xe9\"")}, validate, 1,
		`Invalid character encoding`, `main\.hcl line 2`, `Byte 0xe9 at line 2, column 15 is not UTF-8`)
	configCase("invalid UTF-8 in a -var value", map[string]string{"main.hcl": "variable \"t\" {\n  type = string\n}\n" + invoiceWith("title", "var.t")},
		[]string{"-chdir=cfg", "validate", "-var", "t=caf\xe9"}, 1, `The value given for "t" by -var is not UTF-8 text: byte 0xe9 at offset 3`)
	configCase("invalid UTF-8 in a -var-file", map[string]string{"main.hcl": "variable \"t\" {\n  type = string\n}\n" + invoiceWith("title", "var.t"), "v.tfvars": "t = \"caf\xe9\"\n"},
		[]string{"-chdir=cfg", "validate", "-var-file=v.tfvars"}, 1, `Invalid character encoding`, `v\.tfvars line 1`, `Byte 0xe9 at line 1, column 9`)
	configCase("invalid UTF-8 in a CSV", map[string]string{"main.hcl": invoiceWith("title", `csvdecode(file("t.csv"))[0].title`), "t.csv": "id,title\n1,caf\xe9\n"},
		validate, 1, `main\.hcl line 2`, `"t\.csv" is not valid UTF-8 text`)

	// Files that are not the configuration's to read, and evaluation bombs, with canary
	// secrets in the environment: each command that loads the configuration refuses it, and
	// no canary and nothing of a linked file reaches any output.
	const canaryOutside = "CANARY-outside-file-5e1f"
	canaryEnv := []string{"INVOICEFORM_API_SECRET=CANARY-api-secret-91c4", "INVOICEFORM_PG_CONN_STR=postgres://invoiceform:CANARY-pg-password-3b7d@db.example.com/invoiceform",
		"INVOICEFORM_VAR_canary=CANARY-var-value-0a2e"}
	canaries := []string{"CANARY-api-secret-91c4", "CANARY-pg-password-3b7d", "CANARY-var-value-0a2e", canaryOutside, "PATH="}
	doubling := "locals {\n  a0 = \"0123456789abcdef\"\n"
	for i := 1; i <= 40; i++ {
		doubling += fmt.Sprintf("  a%d = \"${local.a%d}${local.a%d}\"\n", i, i-1, i-1)
	}
	doubling += "}\n"
	type canaryCase struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string
	}
	withConfig := func(files map[string]string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			for n, data := range files {
				write(t, filepath.Join(dir, n), []byte(data))
			}
		}
	}
	link := func(name, target string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "main.hcl"), fx.config)
			write(t, filepath.Join(dir, "..", "outside-"+name), []byte("title = \""+canaryOutside+"\"\n"+canaryOutside+"\n"))
			to := target
			if to == "" {
				to = filepath.Join(dir, "..", "outside-"+name)
			}
			if err := os.Symlink(to, filepath.Join(dir, name)); err != nil {
				t.Skip("symlinks:", err)
			}
		}
	}
	leads := `leads outside the configuration directory`
	for _, c := range []canaryCase{
		{"a .hcl symlink to /proc/self/environ", link("env.hcl", "/proc/self/environ"), []string{`read env\.hcl: a symbolic link that ` + leads}},
		{"a .hcl symlink to a file outside", link("out.hcl", ""), []string{`read out\.hcl: a symbolic link that ` + leads}},
		{"a FIFO named x.hcl", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "main.hcl"), fx.config)
			if err := syscall.Mkfifo(filepath.Join(dir, "x.hcl"), 0o600); err != nil {
				t.Skip("FIFOs:", err)
			}
		}, []string{`read x\.hcl: not a regular file: it is a named pipe`}},
		{"a directory named x.hcl", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "main.hcl"), fx.config)
			if err := os.Mkdir(filepath.Join(dir, "x.hcl"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{`read x\.hcl: not a regular file: it is a directory`}},
		{"setproduct of three range(1024)", withConfig(map[string]string{"main.hcl": "locals {\n  x = setproduct(range(1024), range(1024), range(1024))\n}\n" + invoiceWith("title", `"t"`)}),
			[]string{`Evaluation limit exceeded`, `main\.hcl line 2`, `one call may make at most 1,000,000`}},
		{"three nested for over range(1024)", withConfig(map[string]string{"main.hcl": "locals {\n  x = [for a in range(1024) : [for b in range(1024) : [for c in range(1024) : c]]]\n}\n" + invoiceWith("title", `"t"`)}),
			[]string{`Evaluation limit exceeded`, `main\.hcl line 2`, `for expressions past 1,000,000`}},
		{"deep jsondecode", withConfig(map[string]string{"main.hcl": invoiceWith("title", `jsondecode(file("deep.json"))`), "deep.json": strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)}),
			[]string{`Evaluation limit exceeded`, `main\.hcl line 2`, `more than 100 levels deep`}},
		{"40 doubling locals", withConfig(map[string]string{"main.hcl": doubling + invoiceWith("title", `"t"`)}),
			[]string{`Evaluation limit exceeded`, `main\.hcl line 26`, `past 256 MiB`}},
		{"a huge template", withConfig(map[string]string{"main.hcl": invoiceWith("title", `"%{for a in range(1024)}%{for b in range(1024)}%{for c in range(1024)}0123456789abcdef%{endfor}%{endfor}%{endfor}"`)}),
			[]string{`Evaluation limit exceeded`, `main\.hcl line 2`}},
		{"a number of 300 million digits in a template", withConfig(map[string]string{"main.hcl": invoiceWith("title", `"n${1e300000000}"`)}),
			[]string{`Evaluation limit exceeded`, `main\.hcl line 2`, `numbers may have at most 1,000 digits`}},
		{"huge numbers multiplied", withConfig(map[string]string{"main.hcl": "locals {\n  x = 1e300000000 * 1e300000000\n}\n" + invoiceWith("title", `tostring(local.x)`)}),
			[]string{`Evaluation limit exceeded`, `main\.hcl line 2`, `numbers may have at most 1,000 digits`}},
		{"a huge number in format", withConfig(map[string]string{"main.hcl": invoiceWith("title", `format("%f", 1e300000000)`)}),
			[]string{`Evaluation limit exceeded`, `main\.hcl line 2`}},
	} {
		for _, cmd := range [][]string{{"validate"}, {"plan"}, {"plan", "-markdown"}, {"plan", "-json"}} {
			want := c.want
			if cmd[len(cmd)-1] == "-json" {
				want = nil
				for _, w := range c.want {
					want = append(want, regexp.MustCompile(`main\\\.hcl line (\d+)`).ReplaceAllString(w, `"filename": "main\.hcl"[\s\S]*"line": $1,`))
				}
			}
			cases = append(cases, hcase{name: "canaries " + c.name + "/" + strings.Join(cmd, " "), args: append([]string{"-chdir=cfg"}, cmd...), code: 1,
				want: want, env: canaryEnv, canaries: canaries,
				setup: func(t *testing.T, dir string) { c.setup(t, filepath.Join(dir, "cfg")) }})
		}
	}

	flagCase := func(args []string, want ...string) {
		cases = append(cases, hcase{name: "flags " + strings.Join(args, " "), args: args, code: 1, want: want,
			setup: withFiles(map[string][]byte{"main.hcl": fx.config})})
	}
	flagCase([]string{"apply", "-parallelism=0", "-auto-approve"}, `-parallelism=0: must be between 1 and 1000`)
	flagCase([]string{"apply", "-parallelism=-1", "-auto-approve"}, `-parallelism=-1: must be between 1 and 1000`)
	flagCase([]string{"apply", "-parallelism=abc"}, `invalid value "abc" for flag -parallelism`)
	flagCase([]string{"apply", "-rate=-1", "-auto-approve"}, `-rate must not be negative`)
	flagCase([]string{"apply", "-rate=abc"}, `invalid value "abc" for flag -rate`)
	for _, r := range []string{"NaN", "Inf", "1e-300", "0.001", "1e309", "2e6"} {
		flagCase([]string{"apply", "-rate=" + r, "-auto-approve"}, `-rate=\S+: must be 0 \(no limit\) or between 0\.01 and 1000000 requests per second|invalid value "1e309" for flag -rate: value out of range`)
	}
	flagCase([]string{"plan", "-lock-timeout=xyz"}, `invalid value "xyz" for flag -lock-timeout`)
	flagCase([]string{"state", "list", "-lock-timeout=xyz"}, `invalid value "xyz" for flag -lock-timeout: not a duration`)
	flagCase([]string{"state", "list", "-lock-timeout=-5s"}, `invalid value "-5s" for flag -lock-timeout: must not be negative`)
	flagCase([]string{"apply", "-request-timeout=0", "-auto-approve"}, `-request-timeout must be positive`)
	flagCase([]string{"plan", "-no-such-flag"}, `invoiceform plan does not have a flag -no-such-flag`)
	flagCase([]string{"-chdir=missing", "validate"}, `-chdir=missing: no such file or directory`)
	flagCase([]string{"plan", "-var", "shop_url"}, `Invalid -var option`, `The option -var "shop_url" is not of the form NAME=VALUE`)
	flagCase([]string{"plan", "-var-file=missing.tfvars"}, `Cannot read a variables file`, `-var-file missing\.tfvars: stat missing\.tfvars: no such file or directory`)
	flagCase([]string{"plan", "-state=."}, `state: \.`)
	flagCase([]string{"plan", "-state="}, `invalid value "" for flag -state: must not be empty`)
	flagCase([]string{"state", "list", "-state="}, `invalid value "" for flag -state: must not be empty`)
	flagCase([]string{"no-such-command"}, `no-such-command`)

	// Files that are not files: reading /dev/zero never ends, opening a FIFO blocks.
	fifo := func(name string) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "main.hcl"), fx.config)
			if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
				t.Skip("FIFOs:", err)
			}
		}
	}
	special := func(what string, args []string, setup func(*testing.T, string), want string) {
		cases = append(cases, hcase{name: what + "/" + strings.Join(args, " "), args: args, code: 1, want: []string{want}, setup: setup})
	}
	const device, pipe = `not a regular file: it is a device`, `not a regular file: it is a named pipe \(FIFO\)`
	special("/dev/zero as a plan file", []string{"show", "/dev/zero"}, nil, `read /dev/zero: `+device)
	special("/dev/zero as a plan file", []string{"apply", "/dev/zero"}, nil, `read /dev/zero: `+device)
	special("a FIFO as a plan file", []string{"show", "p.plan"}, fifo("p.plan"), `read p\.plan: `+pipe)
	special("/dev/zero as an export", []string{"state", "import", "/dev/zero"}, nil, `state import: read /dev/zero: `+device)
	special("a FIFO as an export", []string{"state", "import", "backup.json"}, fifo("backup.json"), `state import: read backup\.json: `+pipe)
	special("/dev/zero as a -var-file", []string{"plan", "-var-file=/dev/zero"}, withFiles(map[string][]byte{"main.hcl": fx.config}), `-var-file /dev/zero: read /dev/zero: `+device)
	special("a FIFO as a -var-file", []string{"plan", "-var-file=v.tfvars"}, fifo("v.tfvars"), `read v\.tfvars: `+pipe)
	special("/dev/zero to fmt", []string{"fmt", "/dev/zero"}, nil, `/dev/zero: `+device)
	special("a FIFO as a .hcl file", []string{"validate"}, fifo("pipe.hcl"), `Cannot read a configuration file[\s\S]*read pipe\.hcl: `+pipe)
	special("a .hcl symlink to /dev/zero", []string{"validate"}, func(t *testing.T, dir string) {
		write(t, filepath.Join(dir, "main.hcl"), fx.config)
		if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.hcl")); err != nil {
			t.Skip("symlinks:", err)
		}
	}, `read zero\.hcl: a symbolic link that leads outside the configuration directory`)
	special("a FIFO read by file()", []string{"validate"}, func(t *testing.T, dir string) {
		write(t, filepath.Join(dir, "main.hcl"), []byte(invoiceWith("title", `file("t.txt")`)))
		if err := syscall.Mkfifo(filepath.Join(dir, "t.txt"), 0o600); err != nil {
			t.Skip("FIFOs:", err)
		}
	}, `main\.hcl line 2[\s\S]*"t\.txt" is a named pipe \(FIFO\), not a file`)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.setup != nil {
				c.setup(t, dir)
			}
			before := digests(t, dir)
			start := time.Now()
			r := runBinary(t, dir, append([]string{"INVOICEFORM_ENDPOINT=" + fx.base, "INVOICEFORM_API_KEY=" + emulator.DefaultKey,
				"INVOICEFORM_API_SECRET=" + emulator.DefaultSecret}, c.env...), c.args...)
			if c.env != nil {
				t.Logf("%v: %v", c.args, time.Since(start).Round(time.Millisecond))
			}
			for _, canary := range c.canaries {
				if strings.Contains(r.out, canary) {
					t.Errorf("the output shows %q", canary)
				}
			}
			if r.code != c.code {
				t.Errorf("exit code %d, want %d", r.code, c.code)
			}
			for _, w := range c.want {
				if !regexp.MustCompile(w).MatchString(r.out) {
					t.Errorf("output does not match %q", w)
				}
			}
			if strings.Contains(r.out, "panic") || strings.Contains(r.out, "goroutine ") {
				t.Errorf("a panic or a crash")
			}
			max := c.max
			if max == 0 {
				max = 16 << 10
			}
			if len(r.out) > max {
				t.Errorf("%d bytes of output, want at most %d", len(r.out), max)
			}
			if t.Failed() {
				t.Logf("invoiceform %.200q: exit %d, %d bytes:\n%.3000s", c.args, r.code, len(r.out), r.out)
			}
			// Whatever it was given, it leaves as it was (a state whose mode it tightens aside:
			// every file here is written 0600).
			after := digests(t, dir)
			for name, d := range before {
				if after[name] != d {
					t.Errorf("%s was changed", name)
				}
			}
		})
	}
}

// digests maps each regular file under dir to the SHA-256 of its content.
func digests(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m[path] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
