package plan

import (
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/diagview"
)

// View shows plans, and the diagnostics of a configuration that did not load, in one of
// three forms: HumanView, JSONView or MarkdownView. A command picks one from its flags, once,
// and the rendering is the same data (Document) whichever it is.
type View interface {
	// Diagnostics shows the diagnostics of a configuration that did not load.
	Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) error
	// Plan shows p; files are the configuration's, for source snippets (nil for a saved plan).
	Plan(p *Plan, files map[string]*hcl.File) error
	// Saved introduces a plan read from a file, made at created.
	Saved(p *Plan, created time.Time)
}

// HumanView writes the plan as text on Stdout and the diagnostics, with their source
// lines, on Stderr.
type HumanView struct {
	Stdout, Stderr io.Writer
	// Color and StderrColor allow ANSI colours on each stream.
	Color, StderrColor bool
	// Width wraps diagnostics; 0 does not wrap.
	Width         uint
	ShowSensitive bool
}

func (v HumanView) Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) error {
	return diagview.Text(v.Stderr, files, diags, v.Width, v.StderrColor)
}

func (v HumanView) Plan(p *Plan, files map[string]*hcl.File) error {
	d := newDocument(p, ViewOptions{ShowSensitive: v.ShowSensitive, Files: files}, false)
	if err := v.Diagnostics(files, p.Diagnostics); err != nil {
		return err
	}
	return WriteText(v.Stdout, d, TextOptions{Color: v.Color})
}

func (v HumanView) Saved(p *Plan, created time.Time) {
	fmt.Fprintf(v.Stderr, "Plan saved %s against state serial %d, for %s.\n", created.Format("2006-01-02 15:04:05 MST"), p.Serial, p.Binding.Endpoint)
}

// JSONView writes one JSON document on Stdout: the plan (docs/json-plan.md), or the
// diagnostics (docs/json-diagnostics.md) of a configuration that did not load.
type JSONView struct {
	Stdout        io.Writer
	ShowSensitive bool
}

func (v JSONView) Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) error {
	return diagview.JSON(v.Stdout, files, diags)
}

func (v JSONView) Plan(p *Plan, files map[string]*hcl.File) error {
	return WriteJSON(v.Stdout, NewDocument(p, ViewOptions{ShowSensitive: v.ShowSensitive, Files: files}))
}

func (JSONView) Saved(*Plan, time.Time) {}

// MarkdownView writes the plan as a pull-request comment on Stdout, its diagnostics inside.
// The diagnostics of a configuration that did not load are a comment too (a CAUTION box and
// the list), so a pipeline posts Stdout in every case; people get them on Stderr as well, as
// HumanView writes them, with their source lines.
type MarkdownView struct{ HumanView }

func (v MarkdownView) Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) error {
	if err := v.HumanView.Diagnostics(files, diags); err != nil {
		return err
	}
	return WriteMarkdownDiagnostics(v.Stdout, diagview.NewDocument(files, diags).Diagnostics)
}

func (v MarkdownView) Plan(p *Plan, files map[string]*hcl.File) error {
	return WriteMarkdown(v.Stdout, NewDocument(p, ViewOptions{ShowSensitive: v.ShowSensitive, Files: files}))
}

func (MarkdownView) Saved(*Plan, time.Time) {}
