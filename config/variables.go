package config

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
}}

func (l *loader) loadVariables(blocks []*hcl.Block) {
	l.sensitive = map[string]bool{}
	l.given = map[string]bool{}
	badDefault := map[string]bool{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable name",
				Detail:   fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name),
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		if prev, ok := l.cfg.Variables[name]; ok {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate variable",
				Detail:   fmt.Sprintf("The variable %q was already declared at %s. Each variable is declared once.", name, prev.DeclRange),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		v := &Variable{Name: name, Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
		l.cfg.Variables[name] = v
		content, diags := b.Body.Content(variableSchema)
		l.diags = append(l.diags, diags...)
		if a, ok := content.Attributes["type"]; ok {
			ty, diags := typeexpr.TypeConstraint(a.Expr)
			l.diags = append(l.diags, diags...)
			if !diags.HasErrors() {
				v.Type = ty
			}
		}
		if a, ok := content.Attributes["description"]; ok {
			val, diags := a.Expr.Value(nil)
			l.diags = append(l.diags, diags...)
			if s, err := convertTo(val, cty.String); err == nil && !s.IsNull() {
				v.Description = s.AsString()
			} else if !diags.HasErrors() {
				l.diags = append(l.diags, attrTypeError(a, "description", "a string"))
			}
		}
		if a, ok := content.Attributes["sensitive"]; ok {
			val, diags := a.Expr.Value(nil)
			l.diags = append(l.diags, diags...)
			if s, err := convertTo(val, cty.Bool); err == nil && !s.IsNull() {
				v.Sensitive = s.True()
			} else if !diags.HasErrors() {
				l.diags = append(l.diags, attrTypeError(a, "sensitive", "true or false"))
			}
		}
		if v.Sensitive {
			l.sensitive[name] = true
		}
		if a, ok := content.Attributes["default"]; ok {
			badDefault[name] = true // until it converts: an error is already reported
			val, diags := a.Expr.Value(nil)
			l.diags = append(l.diags, diags...)
			if !diags.HasErrors() {
				conv, err := convertTo(val, v.Type)
				if err != nil {
					l.diags = append(l.diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Invalid default value for variable",
						Detail:   fmt.Sprintf("The default of %q does not match its type %s: %s.", name, typeexpr.TypeString(v.Type), errText(err)),
						Subject:  a.Expr.Range().Ptr(),
					})
				} else {
					v.Default, v.Value, v.Source = conv, conv, "default"
					delete(badDefault, name)
				}
			}
		}
	}
	l.variableValues()
	for _, name := range sortedKeys(l.cfg.Variables) {
		v := l.cfg.Variables[name]
		if v.Value == cty.NilVal && l.opts.SettingsOnly && !badDefault[name] && !l.given[name] {
			// Unknown: whatever uses it is unknown too, and settings that need it say so.
			v.Value = cty.UnknownVal(v.Type)
			continue
		}
		// After a -var-file that could not be read, a missing value is likely in it: saying
		// so for each variable would bury the one real error.
		if v.Value == cty.NilVal && !badDefault[name] && !l.given[name] && !l.varFileFailed {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("No value for required variable %q", name),
				Detail:   fmt.Sprintf("The variable %q has no default. Set it with -var %s=VALUE, in a -var-file, or with the environment variable %s%s.", name, name, EnvVarPrefix, name),
				Subject:  v.DeclRange.Ptr(),
			})
		}
	}
}

// variableValues applies, lowest precedence first: the environment, -var-file files in order,
// then -var options in order.
func (l *loader) variableValues() {
	for _, kv := range l.opts.Environ {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvVarPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, EnvVarPrefix)
		if v, ok := l.cfg.Variables[name]; ok {
			l.setRaw(v, val, "environment variable "+k)
		}
	}
	for _, path := range l.opts.VarFiles {
		l.loadVarFile(path)
	}
	for _, kv := range l.opts.Vars {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail:   fmt.Sprintf("The option -var %q is not of the form NAME=VALUE, e.g. -var success_url=https://shop.example.com/ok.", kv),
			})
			continue
		}
		v, ok := l.cfg.Variables[name]
		if !ok {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("-var sets %q, but no variable of that name is declared. Declare it with a variable %q block, or check the spelling%s.", name, name, suggestName(name, sortedKeys(l.cfg.Variables))),
			})
			continue
		}
		l.setRaw(v, val, "-var")
	}
}

// setRaw sets a variable from command-line or environment text: a string variable takes the
// text as it is; any other type reads it as an HCL expression, as Terraform does.
func (l *loader) setRaw(v *Variable, raw, source string) {
	if !utf8.ValidString(raw) {
		// A shell passes bytes: a Latin-1 terminal or a binary file in $(...) gives text
		// that would reach the API garbled.
		l.given[v.Name] = true
		i := 0
		for i < len(raw) {
			r, size := utf8.DecodeRuneInString(raw[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("The value given for %q by %s is not UTF-8 text: byte 0x%02x at offset %d. Values must be UTF-8; check the terminal's or the file's encoding.", v.Name, source, raw[i], i),
		})
		return
	}
	var val cty.Value
	if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
		val = cty.StringVal(raw)
	} else {
		l.given[v.Name] = true
		name := "<value for var." + v.Name + ">"
		var expr hclsyntax.Expression
		var diags hcl.Diagnostics
		if d := CheckNesting(name, []byte(raw), false); d != nil {
			diags = hcl.Diagnostics{d}
		} else {
			expr, diags = hclsyntax.ParseExpression([]byte(raw), name, hcl.InitialPos)
		}
		if !diags.HasErrors() {
			val, diags = expr.Value(nil)
		}
		if diags.HasErrors() {
			reason := ""
			if d := diags[0]; d.Summary == "Nested too deeply" {
				reason = " " + d.Detail
			}
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The value given for %q by %s is not a valid %s%s.%s", v.Name, source, typeexpr.TypeString(v.Type), l.quoteUnlessSensitive(v, raw), reason),
			})
			return
		}
	}
	l.setValue(v, val, source, nil)
}

func (l *loader) quoteUnlessSensitive(v *Variable, raw string) string {
	if v.Sensitive {
		return ""
	}
	if len(raw) > maxQuotedValue {
		// A generated value can be megabytes; the start is enough to recognise it.
		cut := maxQuotedValue
		for cut > 0 && !utf8.RuneStart(raw[cut]) {
			cut--
		}
		return fmt.Sprintf(" (got %q... (%d bytes); write it as in HCL, e.g. 12.5, true or [\"a\", \"b\"])", raw[:cut], len(raw))
	}
	return fmt.Sprintf(" (got %q; write it as in HCL, e.g. 12.5, true or [\"a\", \"b\"])", raw)
}

// maxQuotedValue bounds the part of a -var value that a diagnostic quotes, in bytes.
const maxQuotedValue = 200

func (l *loader) setValue(v *Variable, val cty.Value, source string, rng *hcl.Range) {
	l.given[v.Name] = true
	conv, err := convertTo(val, v.Type)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("The value given for %q by %s does not match its type %s: %s.", v.Name, source, typeexpr.TypeString(v.Type), errText(err)),
			Subject:  rng,
		})
		return
	}
	v.Value, v.Source = conv, source
}

func (l *loader) loadVarFile(path string) {
	src, err := ReadRegularFile(path, maxFileSize)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read a variables file",
			Detail:   fmt.Sprintf("-var-file %s: %v", path, err),
		})
		l.varFileFailed = true
		return
	}
	if d := checkUTF8(path, src); d != nil {
		l.cfg.Files[path] = sourceOnly(src)
		l.diags = append(l.diags, d)
		l.varFileFailed = true
		return
	}
	if d := CheckNesting(path, src, false); d != nil {
		l.cfg.Files[path] = sourceOnly(src)
		l.diags = append(l.diags, d)
		l.varFileFailed = true
		return
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	l.diags = append(l.diags, diags...)
	if f != nil {
		l.cfg.Files[path] = f
	}
	if f == nil || diags.HasErrors() {
		l.varFileFailed = true
		return
	}
	attrs, diags := f.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		v, ok := l.cfg.Variables[name]
		if !ok {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("The file sets %q, but no variable of that name is declared; the value is ignored%s.", name, suggestName(name, sortedKeys(l.cfg.Variables))),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		val, diags := a.Expr.Value(nil)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			l.setValue(v, val, "-var-file "+path, a.Expr.Range().Ptr())
		}
	}
}

func (l *loader) varObject() cty.Value {
	vals := make(map[string]cty.Value, len(l.cfg.Variables))
	for name, v := range l.cfg.Variables {
		vals[name] = v.Value
	}
	return cty.ObjectVal(vals)
}

// loadLocals evaluates locals in dependency order, so a local may use others declared
// anywhere, and reports cycles.
func (l *loader) loadLocals(blocks []*hcl.Block) {
	attrs := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		as, diags := b.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		for name, a := range as {
			if prev, ok := attrs[name]; ok {
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate local value",
					Detail:   fmt.Sprintf("local.%s was already defined at %s. Each local value is defined once.", name, prev.Range),
					Subject:  a.NameRange.Ptr(),
				})
				continue
			}
			attrs[name] = a
		}
	}
	vals := map[string]cty.Value{}
	state := map[string]int{} // 0 new, 1 evaluating, 2 done, 3 failed
	var visit func(name string, from *hcl.Attribute) bool
	visit = func(name string, from *hcl.Attribute) bool {
		a, ok := attrs[name]
		if !ok {
			return true // reported by HCL as an unsupported attribute when evaluated
		}
		switch state[name] {
		case 1:
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cycle in local values",
				Detail:   fmt.Sprintf("local.%s depends on itself through local.%s. Break the cycle.", name, from.Name),
				Subject:  from.Range.Ptr(),
			})
			return false
		case 2:
			return true
		case 3:
			return false // reported: what uses it would only echo the error
		}
		state[name] = 1
		okDeps := true
		for _, t := range a.Expr.Variables() {
			if t.RootName() != "local" || len(t) < 2 {
				continue
			}
			if step, ok := t[1].(hcl.TraverseAttr); ok && !visit(step.Name, a) {
				okDeps = false
			}
		}
		state[name] = 2
		if !okDeps {
			state[name] = 3
			return false
		}
		ctx := l.ctx.NewChild()
		ctx.Variables = map[string]cty.Value{"local": cty.ObjectVal(vals)}
		if l.tableNames[name] {
			if kt := l.tableLocal(a.Expr, ctx); kt != nil {
				l.tables[name] = kt // only for_each uses it (tableLocals): not in vals
				return true
			}
		}
		val, diags := evalExpr(a.Expr, ctx)
		if !diags.HasErrors() {
			diags = l.checkValueSize(a.Expr, val)
		}
		l.diags = append(l.diags, l.redact(diags)...)
		if diags.HasErrors() {
			state[name] = 3
			return false
		}
		vals[name] = val
		return true
	}
	for _, name := range sortedKeys(attrs) {
		visit(name, attrs[name])
	}
	l.ctx.Variables["local"] = cty.ObjectVal(vals)
}

var settingsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "endpoint"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}},
}

func (l *loader) loadSettings(blocks []*hcl.Block) {
	for i, b := range blocks {
		if i > 0 {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate settings block",
				Detail:   fmt.Sprintf("Settings were already given at %s; merge them into one settings block.", blocks[0].DefRange),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		l.cfg.Settings.DeclRange = b.DefRange
		content, diags := b.Body.Content(settingsSchema)
		l.diags = append(l.diags, diags...)
		l.loadBackends(content.Blocks)
		if a, ok := content.Attributes["endpoint"]; ok {
			val, diags := a.Expr.Value(l.ctx)
			l.diags = append(l.diags, l.redact(diags)...)
			if diags.HasErrors() {
				continue
			}
			s, err := convertTo(val, cty.String)
			if err != nil || s.IsNull() {
				l.diags = append(l.diags, attrTypeError(a, "endpoint", "a string"))
				continue
			}
			if !s.IsKnown() {
				l.diags = append(l.diags, unknownSetting(a, "endpoint"))
				continue
			}
			l.cfg.Settings.Endpoint = s.AsString()
			l.cfg.Settings.EndpointRange = a.Expr.Range()
			if err := CheckEndpoint(s.AsString()); err != nil {
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid endpoint",
					Detail:   fmt.Sprintf("The endpoint %s. Production is %q; the sandbox is \"https://app.sandbox.cryptoprocessing.com/api/v2\".", err, DefaultEndpoint),
					Subject:  a.Expr.Range().Ptr(),
				})
			}
		}
	}
}

// redact keeps sensitive variable values out of diagnostics: it drops the values HCL would
// print next to an expression that reads a sensitive variable (or any local, which may carry
// one onward), and masks the text of sensitive values that a function quoted in its error.
func (l *loader) redact(diags hcl.Diagnostics) hcl.Diagnostics {
	if len(l.sensitive) == 0 {
		return diags
	}
	for _, d := range diags {
		if d.Expression != nil {
			for _, t := range d.Expression.Variables() {
				if t.RootName() == "local" || (t.RootName() == "var" && len(t) > 1 && l.sensitive[attrName(t[1])]) {
					d.EvalContext = nil
					break
				}
			}
		}
		for name := range l.sensitive {
			v := l.cfg.Variables[name].Value
			if v == cty.NilVal || v.IsNull() || v.Type() != cty.String || len(v.AsString()) < 3 {
				continue
			}
			d.Summary = strings.ReplaceAll(d.Summary, v.AsString(), "(sensitive value)")
			d.Detail = strings.ReplaceAll(d.Detail, v.AsString(), "(sensitive value)")
		}
	}
	return diags
}

func attrName(step hcl.Traverser) string {
	if a, ok := step.(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

func attrTypeError(a *hcl.Attribute, name, want string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Incorrect attribute value type",
		Detail:   fmt.Sprintf("%s must be %s.", name, want),
		Subject:  a.Expr.Range().Ptr(),
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// errText shortens cty conversion errors, which start with a lower-case phrase already.
func errText(err error) string { return strings.TrimSuffix(err.Error(), ".") }
