package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/pgstate/pgtest"
)

// summaryCase is one invoice of TestPlanSummaries: its record (phase, status, whether the
// API's amount is known), whether a block declares it, and with cancel = true.
type summaryCase struct {
	id            string
	phase         state.Phase // "" for no record
	status        string
	adopted       bool
	declared      bool
	cancel        bool
	currency, amt string
}

var summaryCases = []summaryCase{
	{"d-created", state.Issued, "created", false, true, false, "EUR", "10.5"},
	{"d-adopted", state.Issued, "", true, true, false, "BTC", "0.015"},
	{"d-pending-status", state.Issued, "pending", false, true, false, "USD", "7"},
	{"d-processing", state.Issued, "processing", false, true, false, "EUR", "120"},
	{"d-confirmed", state.Issued, "confirmed", false, true, false, "EUR", "40"},
	{"d-confirmed-adopted", state.Issued, "confirmed", true, true, false, "USD", "12.25"},
	{"d-failed", state.Issued, "failed", false, true, false, "BTC", "0.5"},
	{"d-cancelled", state.Cancelled, "cancelled", false, true, false, "EUR", "3"},
	{"d-cancelled-status", state.Issued, "cancelled", false, true, false, "EUR", "4"},
	{"d-pending", state.Pending, "", true, true, false, "EUR", "99.99"},
	{"d-cancel-created", state.Issued, "created", false, true, true, "EUR", "250"},
	{"d-cancel-adopted", state.Issued, "", true, true, true, "USD", "5"},
	{"d-cancel-done", state.Cancelled, "cancelled", false, true, true, "EUR", "6"},
	{"d-cancel-confirmed", state.Issued, "confirmed", false, true, true, "EUR", "8"},
	{"d-cancel-pending", state.Pending, "", true, true, true, "EUR", "9"},
	{"n-new", "", "", false, true, false, "EUR", "1234.5"},
	{"n-new-cancel", "", "", false, true, true, "EUR", "2"},
	{"u-created", state.Issued, "created", false, false, false, "EUR", "11"},
	{"u-adopted", state.Issued, "", true, false, false, "BTC", "0.25"},
	{"u-processing", state.Issued, "processing", false, false, false, "USD", "13"},
	{"u-confirmed", state.Issued, "confirmed", false, false, false, "EUR", "14"},
	{"u-failed", state.Issued, "failed", false, false, false, "EUR", "15"},
	{"u-cancelled", state.Cancelled, "cancelled", false, false, false, "EUR", "16"},
	{"u-pending", state.Pending, "", true, false, false, "USD", "17"},
}

// summaryConfig writes the blocks of the cases that pass keep into dir/main.hcl, after head.
func summaryConfig(t *testing.T, dir, head string, keep func(summaryCase) bool) {
	t.Helper()
	var b strings.Builder
	b.WriteString(head)
	for _, c := range summaryCases {
		if !keep(c) {
			continue
		}
		fmt.Fprintf(&b, "invoice %q {\n  title = \"Order %s\"\n  currency = %q\n  amount = %q\n  timer = false\n  end_user_reference = \"cust-1\"\n  url_success = \"https://shop.example.com/ok\"\n  url_failed = \"https://shop.example.com/failed\"\n  email_user = \"buyer@example.com\"\n", c.id, c.id, c.currency, c.amt)
		if c.cancel {
			b.WriteString("  cancel = true\n")
		}
		b.WriteString("}\n")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// summaryRecords are the records of the cases, with the bodies the blocks give.
func summaryRecords(t *testing.T) []*state.Record {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "all")
	summaryConfig(t, dir, "", func(summaryCase) bool { return true })
	cfg, diags := config.Load(dir, config.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	at := time.Date(2026, 11, 24, 3, 4, 5, 0, time.UTC)
	var recs []*state.Record
	for i, c := range summaryCases {
		if c.phase == "" {
			continue
		}
		inv := cfg.Invoices[i]
		r := &state.Record{ForeignID: c.id, Phase: c.phase, Status: c.status, Body: inv.Body, BodyHash: inv.Hash, CreatedAt: at, UpdatedAt: at}
		if c.phase != state.Pending {
			r.ID, r.IssuedAt = int64(7000+i), at
		}
		if !c.adopted {
			// The API's amount: another than the request's, so the totals show which was taken.
			r.Currency, r.Amount, r.DetailsKnown, r.URL = c.currency, c.amt+"1", true, "https://pay.example.com/"+c.id
		}
		recs = append(recs, r)
	}
	return recs
}

// TestPlanSummaries: plan reads the records of unchanged invoices as summaries
// (plan.SnapshotOptions), and what it prints and saves is byte for byte what it is with
// every record read whole, from a bbolt file and from PostgreSQL, for every phase, status,
// adoption, declaration, -prune and -target.
func TestPlanSummaries(t *testing.T) {
	recs := summaryRecords(t)
	declared := func(c summaryCase) bool { return c.declared }
	runs := [][]string{
		{"plan", "-no-color"}, {"plan", "-json"}, {"plan", "-markdown"}, {"plan", "-no-color", "-out=saved.plan"},
		{"plan", "-no-color", "-prune"}, {"plan", "-json", "-prune"}, {"plan", "-markdown", "-prune", "-out=saved.plan"},
		{"plan", "-json", "-target=d-adopted", "-target=u-created", "-target=d-cancel-adopted"},
		{"plan", "-no-color", "-detailed-exitcode", "-target=d-confirmed-adopted", "-target=d-created"},
	}
	backends := []struct {
		name  string
		setup func(t *testing.T) (dir string, stateArgs, environ []string)
	}{
		{"bbolt", func(t *testing.T) (string, []string, []string) {
			dir := t.TempDir()
			summaryConfig(t, dir, "", declared)
			path := filepath.Join(t.TempDir(), "invoiceform.state")
			s, err := boltstate.Open(path, boltstate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Put(context.Background(), recs...); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return dir, []string{"-state=" + path}, testEnviron()
		}},
		{"postgres", func(t *testing.T) (string, []string, []string) {
			cs := pgtest.ConnString(t)
			ws := pgtest.Workspace(t, cs)
			dir := t.TempDir()
			summaryConfig(t, dir, "settings {\n  backend \"pg\" {\n    workspace = \""+ws+"\"\n  }\n}\n", declared)
			s, err := pgstate.Open(context.Background(), cs, pgstate.Options{Workspace: ws})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Put(context.Background(), recs...); err != nil {
				t.Fatal(err)
			}
			return dir, nil, append(testEnviron(), envPGConnStr+"="+cs)
		}},
	}
	created := regexp.MustCompile(`"created_at":"[^"]*"`)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			dir, stateArgs, environ := be.setup(t)
			t.Chdir(dir)
			summaries := 0
			defer func() { planSnapshotOptions = plan.SnapshotOptions }()
			outputs := func(args []string, whole bool) string {
				planSnapshotOptions = func(invs []*config.Invoice, opts plan.Options) state.SnapshotOptions {
					if whole {
						return state.SnapshotOptions{}
					}
					o := plan.SnapshotOptions(invs, opts)
					return state.SnapshotOptions{Full: func(s state.Summary) bool {
						full := o.Full(s)
						if !full {
							summaries++
						}
						return full
					}}
				}
				_ = os.Remove("saved.plan")
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), append(args, stateArgs...), &env{stdout: &stdout, stderr: &stderr, environ: environ})
				out := fmt.Sprintf("exit %d\n--- stdout\n%s\n--- stderr\n%s", code, stdout.String(), stderr.String())
				if data, err := os.ReadFile("saved.plan"); err == nil {
					// The time it was saved is for people only, outside every checksum.
					out += "\n--- saved.plan\n" + created.ReplaceAllString(string(data), `"created_at":"-"`)
				}
				return out
			}
			for _, args := range runs {
				want := outputs(args, true)
				got := outputs(args, false)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%q with summaries (-whole +summaries):\n%s", args, diff)
				}
				if !strings.Contains(want, "exit 0") && !strings.Contains(want, "exit 2") {
					t.Errorf("%q: %s", args, want)
				}
			}
			if summaries == 0 {
				t.Error("no record was read as a summary: the test proves nothing")
			}
		})
	}
}
