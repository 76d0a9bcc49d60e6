package diagview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// FormatVersion is the version of the JSON document written by JSON. Minor versions add
// fields; a major version change renames or removes one.
const FormatVersion = "1.0"

// Text writes diagnostics as text with source snippets. width wraps the detail text (0: no
// wrapping); color adds ANSI colours for terminals. Every output line is cut at MaxTextLine
// bytes: HCL's writer quotes whole source lines, and one line of a generated file can hold
// megabytes.
func Text(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	if len(diags) == 0 {
		return nil
	}
	lw := &lineLimiter{w: w, max: MaxTextLine, color: color}
	tw := hcl.NewDiagnosticTextWriter(lw, files, width, color)
	if err := tw.WriteDiagnostics(diags); err != nil {
		return err
	}
	return lw.flush()
}

// MaxTextLine is the longest line Text writes, in bytes, before its cut marker.
const MaxTextLine = 1024

// lineLimiter passes text through, cutting each line after max bytes (at a character
// boundary) and saying how much was left out.
type lineLimiter struct {
	w     io.Writer
	max   int
	color bool
	n     int // bytes written of the current line
	cut   int // bytes dropped of the current line
	err   error
}

func (l *lineLimiter) Write(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	total := len(p)
	for len(p) > 0 {
		nl := bytes.IndexByte(p, '\n')
		line := p
		if nl >= 0 {
			line = p[:nl]
		}
		if room := l.max - l.n; l.cut == 0 && len(line) <= room {
			l.write(line)
			l.n += len(line)
		} else {
			keep := 0
			if l.cut == 0 {
				keep = max(room, 0)
				for keep > 0 && !utf8.RuneStart(line[keep]) {
					keep--
				}
				l.write(line[:keep])
				l.n += keep
			}
			l.cut += len(line) - keep
		}
		if nl < 0 {
			break
		}
		l.endLine()
		l.write([]byte{'\n'})
		p = p[nl+1:]
	}
	return total, l.err
}

func (l *lineLimiter) endLine() {
	if l.cut > 0 {
		reset := ""
		if l.color {
			reset = "\x1b[0m" // the cut may have dropped the code that ends a highlight
		}
		l.write(fmt.Appendf(nil, "%s … (%d more bytes of this line not shown)", reset, l.cut))
	}
	l.n, l.cut = 0, 0
}

func (l *lineLimiter) flush() error {
	if l.cut > 0 {
		l.endLine()
	}
	return l.err
}

func (l *lineLimiter) write(b []byte) {
	if l.err == nil && len(b) > 0 {
		_, l.err = l.w.Write(b)
	}
}

// Document is the JSON form of a set of diagnostics.
type Document struct {
	FormatVersion string       `json:"format_version"`
	Valid         bool         `json:"valid"`
	ErrorCount    int          `json:"error_count"`
	WarningCount  int          `json:"warning_count"`
	Diagnostics   []Diagnostic `json:"diagnostics"`
}

// Diagnostic is one problem.
type Diagnostic struct {
	Severity string   `json:"severity"` // "error" or "warning"
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
	Range    *Range   `json:"range,omitempty"`
	Snippet  *Snippet `json:"snippet,omitempty"`
}

// Range is a span of a source file. Lines and columns count from 1; byte offsets from 0.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Pos is a position in a source file.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// Snippet is the source line where a diagnostic starts.
type Snippet struct {
	Code      string `json:"code"`
	StartLine int    `json:"start_line"`
	// HighlightStartOffset and HighlightEndOffset are byte offsets into Code of the part the
	// diagnostic is about.
	HighlightStartOffset int `json:"highlight_start_offset"`
	HighlightEndOffset   int `json:"highlight_end_offset"`
}

// NewDocument converts diagnostics, in the order given.
func NewDocument(files map[string]*hcl.File, diags hcl.Diagnostics) Document {
	doc := Document{FormatVersion: FormatVersion, Diagnostics: []Diagnostic{}}
	for _, d := range diags {
		jd := Diagnostic{Summary: bound(d.Summary), Detail: bound(d.Detail), Severity: "error"}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			doc.WarningCount++
		} else {
			doc.ErrorCount++
		}
		if s := d.Subject; s != nil {
			jd.Range = &Range{
				Filename: s.Filename,
				Start:    Pos{s.Start.Line, s.Start.Column, s.Start.Byte},
				End:      Pos{s.End.Line, s.End.Column, s.End.Byte},
			}
			if f := files[s.Filename]; f != nil {
				jd.Snippet = snippet(f.Bytes, *s)
			}
		}
		doc.Diagnostics = append(doc.Diagnostics, jd)
	}
	doc.Valid = doc.ErrorCount == 0
	return doc
}

// JSON writes the diagnostics as one indented JSON document.
func JSON(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewDocument(files, diags))
}

// maxSnippet bounds the source line quoted in a snippet, in bytes.
const maxSnippet = 512

func snippet(src []byte, r hcl.Range) *Snippet {
	if r.Start.Byte < 0 || r.Start.Byte > len(src) {
		return nil
	}
	start := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	end := bytes.IndexByte(src[r.Start.Byte:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += r.Start.Byte
	}
	hiEnd := r.End.Byte
	if hiEnd > end || hiEnd < r.Start.Byte {
		hiEnd = end
	}
	code := bytes.TrimRight(src[start:end], "\r")
	if len(code) > maxSnippet {
		// A line of megabytes (a generated value) would drown the output.
		cut := maxSnippet
		for cut > 0 && !utf8.RuneStart(code[cut]) {
			cut--
		}
		code = code[:cut]
	}
	hiStart, hiStop := min(r.Start.Byte-start, len(code)), min(hiEnd-start, len(code))
	return &Snippet{
		Code:                 string(code),
		StartLine:            r.Start.Line,
		HighlightStartOffset: hiStart,
		HighlightEndOffset:   hiStop,
	}
}

// MaxMessage bounds a diagnostic's summary and detail in the JSON document, in bytes. A
// message may quote a value from the configuration, and a value can be megabytes.
const MaxMessage = 4096

func bound(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	cut := MaxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s … (%d more bytes not shown)", s[:cut], len(s)-cut)
}

// Counts returns the number of errors and warnings.
func Counts(diags hcl.Diagnostics) (errors, warnings int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			warnings++
		} else {
			errors++
		}
	}
	return errors, warnings
}
