package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// maxFileSize bounds what file and templatefile read: data files of a few hundred thousand
// invoices are tens of megabytes; a larger file is almost certainly a mistake.
const maxFileSize = 256 << 20

// fileReader serves the file functions. It reads only inside the configuration directory,
// after resolving symbolic links, and reads each file once however many instances ask.
type fileReader struct {
	dir     string // absolute, symlinks resolved
	written string // absolute, as given: an absolute path may name the directory either way

	mu    sync.Mutex
	cache map[string]fileResult
	// parent, when set, is the load's reader and this one a file's (cacheentry.go): it
	// reads through the parent and records in cache what each read gave.
	parent *fileReader
}

type fileResult struct {
	text string
	err  error
}

func newFileReader(dir string) (*fileReader, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	return &fileReader{dir: real, written: abs, cache: map[string]fileResult{}}, nil
}

// nameOf returns the path a file function read text from, or "" when text is not the whole
// text of a file read (for messages only: it looks through the files read).
func (r *fileReader) nameOf(text string) string {
	if r == nil {
		return ""
	}
	if r.parent != nil {
		return r.parent.nameOf(text)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	name := ""
	for path, res := range r.cache {
		if res.err == nil && res.text == text && (name == "" || path < name) {
			name = path
		}
	}
	return name
}

// read returns the text of path, relative to the configuration directory.
func (r *fileReader) read(path string) (string, error) {
	if r.parent != nil {
		text, err := r.parent.read(path)
		r.mu.Lock()
		r.cache[path] = fileResult{text, err}
		r.mu.Unlock()
		return text, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if res, ok := r.cache[path]; ok {
		return res.text, res.err
	}
	text, err := r.readUncached(path)
	r.cache[path] = fileResult{text, err}
	return text, err
}

func (r *fileReader) readUncached(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("the path is empty")
	}
	p := path
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.dir, p)
	}
	// The path as written is checked before the filesystem is asked anything, so a path
	// outside the directory is refused as such whether or not something exists there; the
	// resolved one is checked again, for symbolic links that lead out.
	if c := filepath.Clean(p); !within(r.dir, c) && !within(r.written, c) {
		return "", &outsideError{path}
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if os.IsNotExist(err) {
			return "", fmt.Errorf("no file exists at %q (paths are relative to the configuration directory)", path)
		}
		return "", fmt.Errorf("cannot read %q: %v", path, err)
	}
	if !within(r.dir, real) {
		return "", &outsideError{path}
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("cannot read %q: %v", path, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("%q is a directory, not a file", path)
	}
	if st.Size() > maxFileSize {
		return "", fmt.Errorf("%q is %d bytes, larger than the %d MiB that file functions read", path, st.Size(), maxFileSize>>20)
	}
	b, err := ReadRegularFile(real, maxFileSize)
	switch {
	case errors.Is(err, ErrNotRegular):
		return "", fmt.Errorf("%q is %s, not a file", path, kind(st.Mode()))
	case err != nil:
		return "", fmt.Errorf("cannot read %q: %v", path, err)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%q is not valid UTF-8 text", path)
	}
	return string(b), nil
}

// within reports whether the clean absolute path p is dir or under it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// outsideError is a file function's path that leads outside the configuration directory.
type outsideError struct{ path string }

func (e *outsideError) Error() string {
	return fmt.Sprintf("%q is outside the configuration directory; file functions read only files inside it", e.path)
}

// functions returns the function table of the language: the go-cty standard library under
// Terraform's names, try and can, and the file functions bound to the configuration directory.
func functions(files *fileReader, b *budget) map[string]function.Function {
	fns := map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       csvDecodeFunc(files),
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"index":           stdlib.IndexFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          stdlib.LengthFunc,
		"log":             stdlib.LogFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"range":           stdlib.RangeFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"regex_replace":   stdlib.RegexReplaceFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strlen":          stdlib.StrlenFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"timeadd":         stdlib.TimeAddFunc,
		"title":           stdlib.TitleFunc,
		"tobool":          stdlib.MakeToFunc(cty.Bool),
		"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":        stdlib.MakeToFunc(cty.Number),
		"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":        stdlib.MakeToFunc(cty.String),
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"try":             tryfunc.TryFunc,
		"can":             tryfunc.CanFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
	}
	fns["file"] = function.New(&function.Spec{
		Description: "Reads a UTF-8 text file inside the configuration directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			text, err := files.read(args[0].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return cty.StringVal(text), nil
		},
	})
	fns["fileexists"] = function.New(&function.Spec{
		Description: "Reports whether a file exists inside the configuration directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			_, err := files.read(args[0].AsString())
			var outside *outsideError
			if errors.As(err, &outside) {
				// Not false: that would tell whether a file exists outside the directory.
				return cty.NilVal, function.NewArgError(0, err)
			}
			return cty.BoolVal(err == nil), nil
		},
	})
	boundFunctions(fns, b)
	// templatefile renders a template file with the given variables and the same functions,
	// except templatefile itself, so templates cannot recurse.
	inner := make(map[string]function.Function, len(fns))
	for k, v := range fns {
		inner[k] = v
	}
	fns["templatefile"] = function.New(&function.Spec{
		Description: "Renders a template file inside the configuration directory with the given variables.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			path := args[0].AsString()
			text, err := files.read(path)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			vars := args[1]
			if vars.IsNull() || !(vars.Type().IsObjectType() || vars.Type().IsMapType()) {
				return cty.NilVal, function.NewArgErrorf(1, "must be an object or map of template variables")
			}
			if d := CheckNesting(path, []byte(text), true); d != nil {
				return cty.NilVal, function.NewArgErrorf(0, "template %s: %s", path, d.Detail)
			}
			tmpl, diags := hclsyntax.ParseTemplate([]byte(text), path, hcl.InitialPos)
			if diags.HasErrors() {
				return cty.NilVal, function.NewArgErrorf(0, "template %s: %s", path, diags.Error())
			}
			bound(tmpl, b)
			ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: inner}
			for it := vars.ElementIterator(); it.Next(); {
				k, v := it.Element()
				ctx.Variables[k.AsString()] = v
			}
			val, diags := tmpl.Value(ctx)
			for _, d := range diags {
				var le *limitError
				if extra, ok := d.Extra.(hclsyntax.FunctionCallDiagExtra); ok && errors.As(extra.FunctionCallError(), &le) {
					return cty.NilVal, le
				}
				if d.Summary == "Evaluation limit exceeded" {
					return cty.NilVal, &limitError{strings.TrimSuffix(d.Detail, limitAdvice)}
				}
			}
			if diags.HasErrors() {
				return cty.NilVal, function.NewArgErrorf(1, "rendering %s: %s", path, diags.Error())
			}
			val, err = convertTo(val, cty.String)
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "template %s does not render to a string: %v", path, err)
			}
			return val, nil
		},
	})
	return fns
}
