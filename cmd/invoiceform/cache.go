package main

import (
	"flag"
	"fmt"

	"github.com/invoiceform/invoiceform/config"
)

// cacheEnv names the evaluation cache's directory when -cache-dir does not.
const cacheEnv = "INVOICEFORM_CACHE_DIR"

// cacheArgs is -cache-dir, for the commands that may take evaluated files from the cache
// (plan and validate; never apply, which evaluates everything itself).
type cacheArgs struct{ dir string }

func (a *cacheArgs) bind(fs *flag.FlagSet) {
	fs.StringVar(&a.dir, "cache-dir", "", "keep evaluated configuration files in `DIR` and reuse them when nothing they depend on changed (default $"+cacheEnv+"; off when neither is set). The entries hold personal data: keep DIR private")
}

// open returns the cache to load with, or nil when none is asked for. A cache that cannot
// be opened is a warning: the load goes on without it.
func (a cacheArgs) open(e *env) *config.Cache {
	dir := a.dir
	if dir == "" {
		dir = e.getenv(cacheEnv)
	}
	if dir == "" {
		return nil
	}
	c, err := config.OpenCache(dir, config.CacheOptions{})
	if err != nil {
		fmt.Fprintf(e.stderr, "Warning: the evaluation cache is off for this run: %v\n", err)
		return nil
	}
	return c
}

// prune keeps the cache within its size once the load is done.
func pruneCache(e *env, c *config.Cache) {
	if c == nil {
		return
	}
	if err := c.Prune(); err != nil {
		fmt.Fprintf(e.stderr, "Warning: %v\n", err)
	}
}
