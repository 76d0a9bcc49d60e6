package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

type showArgs struct {
	state stateArgs
	view  viewArgs
}

func showCommand(e *env) *ffcli.Command {
	var a showArgs
	fs := newFlagSet(e, "show")
	a.state.bind(fs)
	a.view.bind(fs)
	return &ffcli.Command{
		Name:       "show",
		ShortUsage: "invoiceform show [-json | -markdown] [-show-sensitive] [-no-color] [-state=PATH] [PLANFILE]",
		ShortHelp:  "show a saved plan, or without one a summary of the state",
		LongHelp: `With PLANFILE, renders a plan saved by "plan -out" exactly as plan showed it; a truncated
or altered file is refused. Without one, summarises the state: lineage, serial, binding,
records per phase and status, and totals per currency.`,
		FlagSet:   fs,
		UsageFunc: usageFunc,
		Exec: func(_ context.Context, args []string) error {
			if err := a.view.check(); err != nil {
				return err
			}
			switch len(args) {
			case 0:
				return runShowState(e, a)
			case 1:
				p, created, err := plan.ReadFile(args[0])
				if err != nil {
					return err
				}
				if !a.view.json && !a.view.markdown {
					fmt.Fprintf(e.stderr, "Plan saved %s against state serial %d, for %s.\n", created.Format("2006-01-02 15:04:05 MST"), p.Serial, p.Binding.Endpoint)
				}
				return showPlan(e, p, a.view, nil)
			default:
				return usageError{fmt.Sprintf("show takes at most one PLANFILE, got %d arguments", len(args))}
			}
		},
	}
}

// stateSummary is `show -json` without a plan file (README, "Planning").
type stateSummary struct {
	Path    string        `json:"path"`
	Exists  bool          `json:"exists"`
	Lineage string        `json:"lineage"`
	Serial  uint64        `json:"serial"`
	Binding state.Binding `json:"binding"`
	Records int           `json:"records"`
	Phases  []phaseCount  `json:"phases"`
	Totals  []stateTotal  `json:"totals"`
}

type phaseCount struct {
	Phase  state.Phase `json:"phase"`
	Status string      `json:"status,omitempty"`
	Count  int         `json:"count"`
}

// stateTotal sums the amounts of one phase in one currency: the API's amount, or the
// requested one while it is unknown.
type stateTotal struct {
	Phase    state.Phase `json:"phase"`
	Currency string      `json:"currency"`
	Count    int         `json:"count"`
	Total    string      `json:"total"`
	total    invoice.Amount
}

func summarise(path string, snap *state.Snapshot, exists bool) *stateSummary {
	s := &stateSummary{Path: path, Exists: exists, Lineage: snap.Lineage, Serial: snap.Serial, Binding: snap.Binding,
		Records: len(snap.Records), Phases: []phaseCount{}, Totals: []stateTotal{}}
	phases := map[[2]string]int{}
	totals := map[[2]string]*stateTotal{}
	for _, r := range snap.Records {
		phases[[2]string{string(r.Phase), r.Status}]++
		currency, a, ok := recordMoney(r)
		if !ok {
			continue
		}
		k := [2]string{string(r.Phase), currency}
		t := totals[k]
		if t == nil {
			t = &stateTotal{Phase: r.Phase, Currency: currency}
			totals[k] = t
		}
		t.Count++
		t.total = t.total.Add(a)
	}
	for k, n := range phases {
		s.Phases = append(s.Phases, phaseCount{state.Phase(k[0]), k[1], n})
	}
	sort.Slice(s.Phases, func(i, j int) bool {
		a, b := s.Phases[i], s.Phases[j]
		return a.Phase < b.Phase || a.Phase == b.Phase && a.Status < b.Status
	})
	for _, t := range totals {
		t.Total = t.total.String()
		s.Totals = append(s.Totals, *t)
	}
	sort.Slice(s.Totals, func(i, j int) bool {
		a, b := s.Totals[i], s.Totals[j]
		return a.Phase < b.Phase || a.Phase == b.Phase && a.Currency < b.Currency
	})
	return s
}

func runShowState(e *env, a showArgs) error {
	if err := a.state.configureFromDir(e); err != nil {
		return err
	}
	snap, exists, err := readSnapshot(e, a.state)
	if err != nil {
		return err
	}
	s := summarise(a.state.where(), snap, exists)
	switch {
	case a.view.json:
		return writeJSON(e.stdout, s)
	case a.view.markdown:
		return writeStateMarkdown(e.stdout, s)
	}
	if !exists {
		fmt.Fprintf(e.stdout, "No state at %s: nothing has been applied here yet.\n", s.Path)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "state:\t%s\n", s.Path)
	fmt.Fprintf(tw, "lineage:\t%s\n", s.Lineage)
	fmt.Fprintf(tw, "serial:\t%d\n", s.Serial)
	fmt.Fprintf(tw, "endpoint:\t%s\n", dash(s.Binding.Endpoint))
	fmt.Fprintf(tw, "key fingerprint:\t%s\n", dash(s.Binding.KeyFingerprint))
	fmt.Fprintf(tw, "records:\t%d\n", s.Records)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Phases) > 0 {
		fmt.Fprintln(e.stdout)
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PHASE\tSTATUS\tCOUNT")
		for _, p := range s.Phases {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", p.Phase, dash(p.Status), p.Count)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(s.Totals) > 0 {
		fmt.Fprintln(e.stdout)
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "PHASE\tCURRENCY\tCOUNT\tTOTAL\t")
		for _, t := range s.Totals {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t\n", t.Phase, t.Currency, t.Count, invoice.FormatMoney(t.Currency, t.total))
		}
		return tw.Flush()
	}
	return nil
}

func writeStateMarkdown(w io.Writer, s *stateSummary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### invoiceform state\n\n")
	if !s.Exists {
		fmt.Fprintf(&b, "No state: nothing has been applied here yet.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "Lineage `%s`, serial %d, endpoint `%s`, key fingerprint `%s`: %d records.\n\n", s.Lineage, s.Serial, dash(s.Binding.Endpoint), dash(s.Binding.KeyFingerprint), s.Records)
	b.WriteString("| Phase | Status | Count |\n|---|---|--:|\n")
	for _, p := range s.Phases {
		fmt.Fprintf(&b, "| %s | %s | %d |\n", p.Phase, dash(p.Status), p.Count)
	}
	if len(s.Totals) > 0 {
		b.WriteString("\n| Phase | Currency | Count | Total |\n|---|---|--:|--:|\n")
		for _, t := range s.Totals {
			fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", t.Phase, t.Currency, t.Count, invoice.FormatMoney(t.Currency, t.total))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
