package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/apply"
	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/plan"
)

type currenciesArgs struct {
	vars    varArgs
	update  bool
	timeout time.Duration
}

func currenciesCommand(e *env) *ffcli.Command {
	var a currenciesArgs
	fs := newFlagSet(e, "currencies")
	a.vars.bind(fs)
	fs.BoolVar(&a.update, "update", false, "rewrite an existing lock file when the account's currencies differ from it")
	fs.DurationVar(&a.timeout, "request-timeout", api.DefaultTimeout, "how long the request may take, a `DURATION`")
	return &ffcli.Command{
		Name:       "currencies",
		ShortUsage: "invoiceform currencies [-update] [-var NAME=VALUE]... [-var-file=FILE]... [-request-timeout=DURATION]",
		ShortHelp:  "read the account's currencies into the lock file " + config.CurrencyLockFile,
		LongHelp: `Reads the currencies of the account (POST /currencies/list, signed with INVOICEFORM_API_KEY
and INVOICEFORM_API_SECRET, at the endpoint apply uses: INVOICEFORM_ENDPOINT, else
settings { endpoint }, else production) and writes them, sorted, to the lock file
` + config.CurrencyLockFile + ` beside the configuration. Commit the file: validate and plan
then check every invoice's currency, sender_currency and amount places against the account,
with no credentials and no network. A lock file that exists is only rewritten with -update;
without it, a difference between the file and the account is shown and the exit code is 1
(so a pipeline can tell that the file is out of date). Sends nothing that changes anything.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs("currencies", args); err != nil {
				return err
			}
			if a.timeout <= 0 {
				return usageError{"-request-timeout must be positive"}
			}
			return runCurrencies(ctx, e, a)
		},
	}
}

func runCurrencies(ctx context.Context, e *env, a currenciesArgs) error {
	key, secret, err := credentials(e, "currencies")
	if err != nil {
		return err
	}
	// Only the settings: the invoices may well be what the new lock file is for.
	opts := a.vars.loadOptions(e)
	opts.SettingsOnly = true
	cfg, diags := config.Load(".", opts)
	ep, epDiags := endpoint(e, cfg)
	diags = append(epDiags, diags...)
	if diags.HasErrors() {
		if err := humanPlanView(e, viewArgs{}).Diagnostics(cfg.Files, diags); err != nil {
			return err
		}
		return exitCode(exitError)
	}
	c, err := api.New(api.Config{Endpoint: ep, Key: key, Secret: secret, Timeout: a.timeout})
	if err != nil {
		return err
	}
	var curs []api.Currency
	err = apply.CheckCredentials(ctx, func(ctx context.Context) error {
		var err error
		curs, err = c.Currencies(ctx)
		return err
	}, apply.Options{MaxAttempts: 4})
	if err != nil {
		if api.OutcomeOf(err) == api.Fatal {
			return fmt.Errorf("the account's currencies could not be read: the API refused the key or the request signature: %w", err)
		}
		return fmt.Errorf("the account's currencies could not be read: %w", err)
	}
	locked := make([]config.LockedCurrency, 0, len(curs))
	for _, cur := range curs {
		if cur.Currency == "" {
			continue
		}
		if cur.Precision < 0 || cur.Precision > 18 {
			return fmt.Errorf("the account's currencies could not be read: %s has precision %d, which is not a number of decimal places (0 to 18); nothing was written", cur.Currency, cur.Precision)
		}
		locked = append(locked, config.LockedCurrency{Code: cur.Currency, Type: cur.Type, Precision: int32(cur.Precision)})
	}
	sort.Slice(locked, func(i, j int) bool { return locked[i].Code < locked[j].Code })
	if len(locked) == 0 {
		return fmt.Errorf("the account at %s lists no currencies: nothing was written", ep)
	}
	data := config.EncodeCurrencyLock(ep, locked)
	name := config.CurrencyLockFile
	old, err := os.ReadFile(filepath.Join(".", name))
	switch {
	case err == nil && bytes.Equal(old, data):
		fmt.Fprintf(e.stdout, "%s is up to date: %s of the account at %s.\n", name, currencyCount(len(locked)), ep)
		return nil
	case err == nil && !a.update:
		fmt.Fprintf(e.stdout, "The account at %s differs from %s:\n%s", ep, name, lockDiff(old, ep, locked))
		fmt.Fprintf(e.stderr, "%s was not changed: run \"invoiceform currencies -update\" to write the account's currencies into it, then commit it.\n", name)
		return exitCode(exitError)
	case err != nil && !os.IsNotExist(err):
		return fmt.Errorf("%s: %w", name, unwrapPathError(err))
	}
	if _, err := config.WriteCurrencyLock(".", data); err != nil {
		return fmt.Errorf("writing %s: %w", name, unwrapPathError(err))
	}
	verb := "Wrote"
	if old != nil {
		verb = "Updated"
	}
	codes := make([]string, len(locked))
	for i, l := range locked {
		codes[i] = l.Code
	}
	fmt.Fprintf(e.stdout, "%s %s: %s of the account at %s (%s).\nCommit it beside the configuration: validate and plan now check every invoice's currency against it.\n",
		verb, name, currencyCount(len(locked)), ep, strings.Join(codes, ", "))
	return nil
}

// lockDiff says how the account's currencies differ from the lock file's text old.
func lockDiff(old []byte, ep string, now []config.LockedCurrency) string {
	lock, _, diags := config.ParseCurrencyLock(config.CurrencyLockFile, old)
	if diags.HasErrors() || lock == nil {
		return "  the file does not read as a lock file\n"
	}
	var b strings.Builder
	if lock.Endpoint != ep {
		fmt.Fprintf(&b, "  endpoint: %s in the file\n", lock.Endpoint)
	}
	seen := map[string]bool{}
	for _, c := range now {
		seen[c.Code] = true
		was, ok := lock.Lookup(c.Code)
		switch {
		case !ok:
			fmt.Fprintf(&b, "  + %s (%s, %d places): the account has it, the file does not\n", c.Code, c.Type, c.Precision)
		case was != c:
			fmt.Fprintf(&b, "  ~ %s: %s, %d places in the file; %s, %d places now\n", c.Code, was.Type, was.Precision, c.Type, c.Precision)
		}
	}
	for _, c := range lock.Currencies {
		if !seen[c.Code] {
			fmt.Fprintf(&b, "  - %s: in the file, no longer in the account\n", c.Code)
		}
	}
	if b.Len() == 0 {
		b.WriteString("  the same currencies, written differently (edited by hand?)\n")
	}
	return b.String()
}

// maxNamed is how many invoices a currency refusal names before counting the rest.
const maxNamed = 5

// checkPlanCurrencies refuses, before anything is sent, a plan that creates an invoice in a
// currency (or sender_currency) the account does not hold, naming the currencies and the
// invoices. held is the account's /currencies/list.
func checkPlanCurrencies(p *plan.Plan, held []api.Currency) error {
	var creates []currencyUse
	for _, c := range p.Changes {
		if c.Action != plan.Create || c.After == nil {
			continue
		}
		u := currencyUse{foreignID: c.ForeignID, currency: c.After.Currency}
		if r := c.After.Request; r != nil {
			u.sender = r.SenderCurrency
		}
		creates = append(creates, u)
	}
	return checkCurrencies(creates, held)
}

// currencyUse is an invoice to be created and its currencies.
type currencyUse struct {
	foreignID, currency, sender string
}

func checkCurrencies(creates []currencyUse, held []api.Currency) error {
	have := make(map[string]bool, len(held))
	codes := make([]string, 0, len(held))
	for _, c := range held {
		have[c.Currency] = true
		codes = append(codes, c.Currency)
	}
	missing := map[string][]string{}
	for _, u := range creates {
		for _, code := range []string{u.currency, u.sender} {
			if code != "" && !have[code] {
				missing[code] = append(missing[code], u.foreignID)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	lacking := make([]string, 0, len(missing))
	for code := range missing {
		lacking = append(lacking, code)
	}
	sort.Strings(lacking)
	sort.Strings(codes)
	var parts []string
	for _, code := range lacking {
		ids := missing[code]
		named := strings.Join(ids[:min(len(ids), maxNamed)], ", ")
		if len(ids) > maxNamed {
			named += fmt.Sprintf(" and %d more", len(ids)-maxNamed)
		}
		parts = append(parts, fmt.Sprintf("%s (%s: %s)", code, plural(len(ids), "invoice"), named))
	}
	return fmt.Errorf("the account does not have the currency %s: its /currencies/list holds %s. Nothing was applied. Remove or change these invoices (or leave them out with -target), or have the currency enabled for the account and run \"invoiceform currencies -update\"",
		strings.Join(parts, "; "), strings.Join(codes, ", "))
}

func currencyCount(n int) string {
	if n == 1 {
		return "1 currency"
	}
	return fmt.Sprintf("%d currencies", n)
}
