package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/diagview"
)

type fmtArgs struct {
	check     bool
	diff      bool
	recursive bool
	noColor   bool
}

func fmtCommand(e *env) *ffcli.Command {
	var a fmtArgs
	fset := newFlagSet(e, "fmt")
	fset.BoolVar(&a.check, "check", false, "change no file; list the files that are not formatted and exit 3 if there are any")
	fset.BoolVar(&a.diff, "diff", false, "print the changes as a unified diff")
	fset.BoolVar(&a.recursive, "recursive", false, "also format *.hcl files in subdirectories")
	fset.BoolVar(&a.noColor, "no-color", false, "never colour diagnostics")
	return &ffcli.Command{
		Name:       "fmt",
		ShortUsage: "invoiceform fmt [-check] [-diff] [-recursive] [PATH...]",
		ShortHelp:  "rewrite configuration files in the canonical format",
		LongHelp: `Rewrites *.hcl files in the canonical HCL layout (indentation, aligned equals signs) and
lists the files it changed. PATH is a file or a directory (default: the current directory);
"-" formats standard input to standard output. A file with syntax errors is reported and left
alone. Exits 0 when done, 1 on errors, and with -check 3 when some file is not formatted.`,
		FlagSet:   fset,
		UsageFunc: usageFunc,
		Exec: func(_ context.Context, args []string) error {
			return runFmt(e, a, args)
		},
	}
}

func runFmt(e *env, a fmtArgs, paths []string) error {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	f := &formatter{e: e, a: a, files: map[string]*hcl.File{}}
	for _, p := range paths {
		if p == "-" {
			f.stdin()
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			f.fail(fmt.Errorf("%s: %v", p, unwrapPathError(err)))
			continue
		}
		if !st.IsDir() {
			f.file(p, st.Mode())
			continue
		}
		f.dir(p)
	}
	diagview.Text(e.stderr, f.files, f.diags, e.width(e.stderr), e.color(e.stderr, a.noColor))
	switch {
	case f.failed || f.diags.HasErrors():
		return exitCode(exitError)
	case a.check && f.unformatted:
		return exitCode(exitUnformatted)
	}
	return nil
}

type formatter struct {
	e           *env
	a           fmtArgs
	files       map[string]*hcl.File
	diags       hcl.Diagnostics
	failed      bool
	unformatted bool
}

func (f *formatter) fail(err error) {
	fmt.Fprintf(f.e.stderr, "Error: %v\n", err)
	f.failed = true
}

func (f *formatter) dir(root string) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			f.fail(err)
			return nil
		}
		if d.IsDir() {
			if path != root && (!f.a.recursive || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), config.Extension) || strings.HasPrefix(d.Name(), ".") || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			f.fail(err)
			return nil
		}
		f.file(path, info.Mode())
		return nil
	})
	if err != nil {
		f.fail(err)
	}
}

// format returns the canonical form of src, or nil after reporting syntax errors.
func (f *formatter) format(name string, src []byte) []byte {
	if d := config.CheckNesting(name, src, false); d != nil {
		f.files[name] = &hcl.File{Body: hcl.EmptyBody(), Bytes: src}
		f.diags = append(f.diags, d)
		return nil
	}
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		f.files[name] = file
		f.diags = append(f.diags, diags...)
		return nil
	}
	return hclwrite.Format(src)
}

func (f *formatter) file(path string, mode fs.FileMode) {
	src, err := config.ReadRegularFile(path, config.MaxFileSize)
	if err != nil {
		f.fail(fmt.Errorf("%s: %v", path, unwrapPathError(err)))
		return
	}
	out := f.format(path, src)
	if out == nil || bytes.Equal(src, out) {
		return
	}
	f.unformatted = true
	fmt.Fprintln(f.e.stdout, path)
	if f.a.diff {
		f.printDiff(path, src, out)
	}
	if f.a.check {
		return
	}
	if err := writeFileAtomic(path, out, mode.Perm()); err != nil {
		f.fail(err)
	}
}

func (f *formatter) stdin() {
	src, err := io.ReadAll(f.e.stdin)
	if err != nil {
		f.fail(fmt.Errorf("reading standard input: %v", err))
		return
	}
	out := f.format("<stdin>", src)
	if out == nil {
		return
	}
	if !bytes.Equal(src, out) {
		f.unformatted = true
	}
	switch {
	case f.a.diff:
		f.printDiff("<stdin>", src, out)
	case !f.a.check:
		f.e.stdout.Write(out)
	}
}

func (f *formatter) printDiff(name string, old, new []byte) {
	fmt.Fprint(f.e.stdout, udiff.Unified("old/"+name, "new/"+name, string(old), string(new)))
}

// writeFileAtomic replaces path with data through a temporary file and a rename, so an
// interrupted fmt never leaves a half-written configuration.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".fmt-*")
	if err != nil {
		return fmt.Errorf("%s: %v", path, unwrapPathError(err))
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %v", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %v", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("%s: %v", path, unwrapPathError(err))
	}
	return nil
}
