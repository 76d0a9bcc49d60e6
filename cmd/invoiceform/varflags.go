package main

import (
	"flag"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/internal/hugepages"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// varArgs are the flags that feed input variables, shared by every command that loads the
// configuration.
type varArgs struct {
	vars     stringList
	varFiles stringList
}

func (a *varArgs) bind(fs *flag.FlagSet) {
	fs.Var(&a.vars, "var", "set an input variable, `NAME=VALUE` (repeatable; later ones win)")
	fs.Var(&a.varFiles, "var-file", "read input variables from an HCL `FILE` of NAME = VALUE lines (repeatable)")
}

func (a *varArgs) loadOptions(e *env) config.LoadOptions {
	return config.LoadOptions{Vars: a.vars, VarFiles: a.varFiles, Environ: e.environ}
}

// loadConfig loads the configuration of the working directory and resolves the endpoint
// (INVOICEFORM_ENDPOINT, else settings, else production), as validate, plan and apply all do.
func loadConfig(e *env, a varArgs) (*config.Config, string, hcl.Diagnostics) {
	return loadConfigCached(e, a, nil)
}

// loadConfigCached is loadConfig with the evaluation cache c (nil for none), for plan and
// validate.
func loadConfigCached(e *env, a varArgs, c *config.Cache) (*config.Config, string, hcl.Diagnostics) {
	opts := a.loadOptions(e)
	opts.Cache = c
	// A large configuration makes a large heap at once: have it made of huge pages.
	hugepages.ReserveFor(".")
	cfg, diags := config.Load(".", opts)
	pruneCache(e, c)
	ep, epDiags := endpoint(e, cfg)
	return cfg, ep, append(epDiags, diags...)
}
