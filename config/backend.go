package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var backendSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "conn_str"}, {Name: "workspace"}}}

// workspaceRE is the rule of state/pgstate.CheckWorkspace (config imports nothing of ours).
var workspaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// loadBackends reads the backend blocks of the settings block: at most one, "pg".
func (l *loader) loadBackends(blocks []*hcl.Block) {
	for i, b := range blocks {
		if i > 0 {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate backend block",
				Detail:   fmt.Sprintf("A backend was already given at %s; the state lives in one place.", blocks[0].DefRange),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		if b.Labels[0] != "pg" {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported backend",
				Detail:   fmt.Sprintf("There is no backend %q: the one backend is \"pg\" (PostgreSQL). Without a backend block the state is the local file invoiceform.state.", b.Labels[0]),
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		be := &Backend{Type: "pg", Workspace: DefaultWorkspace, DeclRange: b.DefRange}
		content, diags := b.Body.Content(backendSchema)
		l.diags = append(l.diags, diags...)
		if a, ok := content.Attributes["conn_str"]; ok {
			if s, ok := l.settingString(a, "conn_str"); ok {
				be.ConnStr, be.ConnStrRange = s, a.Expr.Range()
				l.checkConnStr(a, s)
			}
		}
		if a, ok := content.Attributes["workspace"]; ok {
			if s, ok := l.settingString(a, "workspace"); ok {
				be.Workspace, be.WorkspaceRange = s, a.Expr.Range()
				if !workspaceRE.MatchString(s) {
					l.diags = append(l.diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Invalid workspace",
						Detail:   fmt.Sprintf("The workspace %q is not a valid name: use 1 to 63 letters, digits, '_', '.' and '-', starting with a letter or digit.", s),
						Subject:  a.Expr.Range().Ptr(),
					})
				}
			}
		}
		l.cfg.Settings.Backend = be
	}
}

// settingString evaluates a settings attribute that must be a known string.
func (l *loader) settingString(a *hcl.Attribute, name string) (string, bool) {
	val, diags := a.Expr.Value(l.ctx)
	l.diags = append(l.diags, l.redact(diags)...)
	if diags.HasErrors() {
		return "", false
	}
	s, err := convertTo(val, cty.String)
	if err != nil || s.IsNull() {
		l.diags = append(l.diags, attrTypeError(a, name, "a string"))
		return "", false
	}
	if !s.IsKnown() {
		l.diags = append(l.diags, unknownSetting(a, name))
		return "", false
	}
	return s.AsString(), true
}

// unknownSetting is a settings attribute that uses a variable without a value: state
// commands load the settings alone and take no -var.
func unknownSetting(a *hcl.Attribute, name string) *hcl.Diagnostic {
	var vars []string
	for _, t := range a.Expr.Variables() {
		if t.RootName() == "var" && len(t) > 1 {
			n := attrName(t[1])
			vars = append(vars, fmt.Sprintf("%s (%s%s)", n, EnvVarPrefix, n))
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "No value for a setting",
		Detail:   fmt.Sprintf("%s uses a variable that has no value here: set %s in the environment.", name, strings.Join(vars, ", ")),
		Subject:  a.Expr.Range().Ptr(),
	}
}

// checkConnStr checks the form of a PostgreSQL connection string (the driver checks the
// rest when it connects), and warns about a password written into the file itself. Its
// value is never quoted: it may hold a password.
func (l *loader) checkConnStr(a *hcl.Attribute, s string) {
	bad := func(why string) {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid conn_str",
			Detail:   "The PostgreSQL connection string " + why + `. Write a URL such as "postgres://invoiceform@db.example.com:5432/invoices?sslmode=verify-full", or keyword/value pairs such as "host=db.example.com dbname=invoices".`,
			Subject:  a.Expr.Range().Ptr(),
		})
	}
	password := false
	switch {
	case strings.TrimSpace(s) == "":
		bad("is empty")
		return
	case strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			bad("is not a valid URL")
			return
		}
		_, password = u.User.Password()
		password = password || u.Query().Has("password")
	case strings.Contains(s, "://"):
		bad("must start with postgres:// or postgresql://")
		return
	default:
		for _, f := range strings.Fields(s) {
			k, _, ok := strings.Cut(f, "=")
			if !ok && !strings.Contains(s, "'") {
				bad("has a word without \"=\" where a keyword=value pair belongs")
				return
			}
			if strings.TrimSpace(strings.ToLower(k)) == "password" {
				password = true
			}
		}
	}
	if password && len(a.Expr.Variables()) == 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Password in the configuration",
			Detail:   "conn_str holds a password written into the file, which is committed to git. Take it from the environment instead: INVOICEFORM_PG_CONN_STR (which wins over conn_str), PGPASSWORD, or a sensitive variable (INVOICEFORM_VAR_<name>).",
			Subject:  a.Expr.Range().Ptr(),
		})
	}
}
