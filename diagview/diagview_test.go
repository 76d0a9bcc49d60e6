package diagview_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/invoiceform/invoiceform/diagview"
)

func parse(t *testing.T, name, src string) *hcl.File {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), name, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return f
}

func TestJSONDocument(t *testing.T) {
	src := "a = 1\nbad = \"x\"\n"
	f := parse(t, "main.hcl", src)
	start := strings.Index(src, `"x"`)
	rng := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 2, Column: 7, Byte: start}, End: hcl.Pos{Line: 2, Column: 10, Byte: start + 3}}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagWarning, Summary: "W", Detail: "a warning"},
		{Severity: hcl.DiagError, Summary: "E", Detail: "an error", Subject: &rng},
	}
	var b bytes.Buffer
	if err := diagview.JSON(&b, map[string]*hcl.File{"main.hcl": f}, diags); err != nil {
		t.Fatal(err)
	}
	var got diagview.Document
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := diagview.Document{
		FormatVersion: "1.0", Valid: false, ErrorCount: 1, WarningCount: 1,
		Diagnostics: []diagview.Diagnostic{
			{Severity: "warning", Summary: "W", Detail: "a warning"},
			{Severity: "error", Summary: "E", Detail: "an error",
				Range:   &diagview.Range{Filename: "main.hcl", Start: diagview.Pos{Line: 2, Column: 7, Byte: start}, End: diagview.Pos{Line: 2, Column: 10, Byte: start + 3}},
				Snippet: &diagview.Snippet{Code: `bad = "x"`, StartLine: 2, HighlightStartOffset: 6, HighlightEndOffset: 9}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("document (-want +got):\n%s", diff)
	}
}

func TestJSONEmptyIsValid(t *testing.T) {
	var b bytes.Buffer
	if err := diagview.JSON(&b, nil, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"valid": true`) || !strings.Contains(b.String(), `"diagnostics": []`) {
		t.Errorf("got %s", b.String())
	}
}

func TestSnippetOfHugeLineIsBounded(t *testing.T) {
	src := "title = \"" + strings.Repeat("é", 1<<20) + "\"\n"
	f := parse(t, "big.hcl", src)
	rng := hcl.Range{Filename: "big.hcl", Start: hcl.Pos{Line: 1, Column: 9, Byte: 8}, End: hcl.Pos{Line: 1, Column: 20, Byte: len(src) - 1}}
	doc := diagview.NewDocument(map[string]*hcl.File{"big.hcl": f}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Too long", Subject: &rng}})
	s := doc.Diagnostics[0].Snippet
	if len(s.Code) > 512 || !strings.HasPrefix(s.Code, "title = \"é") || s.HighlightEndOffset > len(s.Code) {
		t.Errorf("snippet not bounded or cut inside a character: %d bytes, highlight %d-%d", len(s.Code), s.HighlightStartOffset, s.HighlightEndOffset)
	}
	if !strings.HasSuffix(s.Code, "é") {
		t.Errorf("snippet cut inside a character: %q", s.Code[len(s.Code)-4:])
	}
}

func TestText(t *testing.T) {
	f := parse(t, "main.hcl", "a = 1\n")
	rng := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 1, Column: 5, Byte: 4}, End: hcl.Pos{Line: 1, Column: 6, Byte: 5}}
	var b bytes.Buffer
	err := diagview.Text(&b, map[string]*hcl.File{"main.hcl": f}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Bad", Detail: "Fix it.", Subject: &rng}}, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Error: Bad", "on main.hcl line 1", "1: a = 1", "Fix it."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "\x1b[") {
		t.Error("colour without color=true")
	}
}

func TestTextOfHugeLineIsBounded(t *testing.T) {
	// A title of 128 KB on one line: HCL's writer would quote all of it.
	for _, color := range []bool{false, true} {
		src := "title = \"" + strings.Repeat("é", 1<<16) + "\"\n"
		f := parse(t, "big.hcl", src)
		rng := hcl.Range{Filename: "big.hcl", Start: hcl.Pos{Line: 1, Column: 9, Byte: 8}, End: hcl.Pos{Line: 1, Column: 20, Byte: len(src) - 1}}
		diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "title is too long", Detail: "Shorten it.", Subject: &rng}}
		var b bytes.Buffer
		if err := diagview.Text(&b, map[string]*hcl.File{"big.hcl": f}, diags, 0, color); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if len(out) > 2*diagview.MaxTextLine {
			t.Fatalf("color=%v: %d bytes of output", color, len(out))
		}
		wants := []string{"title is too long", "on big.hcl line 1", "more bytes of this line not shown", "Shorten it."}
		if !color {
			wants = append(wants, "Error: title is too long", "   1: title = \"é")
		}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("color=%v: output lacks %q:\n%s", color, want, out)
			}
		}
		if !utf8.ValidString(out) {
			t.Errorf("color=%v: line cut inside a character", color)
		}
		for _, line := range strings.Split(out, "\n") {
			if len(line) > diagview.MaxTextLine+100 {
				t.Errorf("color=%v: a line of %d bytes", color, len(line))
			}
		}
	}
}

func TestTextShortLinesUnchanged(t *testing.T) {
	src := "a = 1\nb = \"" + strings.Repeat("x", diagview.MaxTextLine-20) + "\"\n"
	f := parse(t, "main.hcl", src)
	start := strings.Index(src, "b =")
	rng := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 2, Column: 1, Byte: start}, End: hcl.Pos{Line: 2, Column: 2, Byte: start + 1}}
	diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Bad", Detail: "Fix it.", Subject: &rng}}
	var limited, plain bytes.Buffer
	if err := diagview.Text(&limited, map[string]*hcl.File{"main.hcl": f}, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	if err := hcl.NewDiagnosticTextWriter(&plain, map[string]*hcl.File{"main.hcl": f}, 0, false).WriteDiagnostics(diags); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(plain.String(), limited.String()); d != "" {
		t.Errorf("a line under the limit changed (-hcl +diagview):\n%s", d)
	}
}

func TestJSONOfHugeMessageIsBounded(t *testing.T) {
	huge := "The foreign_id \"" + strings.Repeat("é", 1<<20) + "\" is too long."
	doc := diagview.NewDocument(nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: huge, Detail: huge}})
	d := doc.Diagnostics[0]
	for _, s := range []string{d.Summary, d.Detail} {
		if len(s) > diagview.MaxMessage+100 || !strings.HasPrefix(s, "The foreign_id \"é") || !strings.HasSuffix(s, "more bytes not shown)") || !utf8.ValidString(s) {
			t.Errorf("message not bounded, or cut inside a character: %d bytes, ends %q", len(s), s[len(s)-40:])
		}
	}
}
