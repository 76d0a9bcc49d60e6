package redact_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/redact"
)

func TestAddRefusesUnsafeSecrets(t *testing.T) {
	var r redact.Redactor
	for _, v := range []string{"P", "xq7", "1234567"} {
		if err := r.Add("S", v); !errors.Is(err, redact.ErrTooShort) || strings.Contains(err.Error(), v) {
			t.Errorf("Add(%q) = %v, want ErrTooShort without the value", v, err)
		}
	}
	if err := r.Add("S", "line\nbreak-secret"); !errors.Is(err, redact.ErrLineBreak) || strings.Contains(err.Error(), "break-secret") {
		t.Errorf("a secret with a line break: %v", err)
	}
	if err := r.Add("S", ""); err != nil {
		t.Errorf("an empty value is no secret: %v", err)
	}
	if got := r.String("Port http://x"); got != "Port http://x" {
		t.Errorf("nothing added, yet %q", got)
	}
}

func TestString(t *testing.T) {
	var r redact.Redactor
	must(t, r.Add("INVOICEFORM_API_SECRET", "s3cr3t-v@lue/+x"))
	must(t, r.Add("INVOICEFORM_PG_CONN_STR", "postgres://u:pa55word!@db.example/x"))
	must(t, r.Add("password", "pa55word!"))
	for in, want := range map[string]string{
		"secret s3cr3t-v@lue/+x in text":            "secret [redacted] in text",
		"twice s3cr3t-v@lue/+xs3cr3t-v@lue/+x":      "twice [redacted][redacted]",
		"query s3cr3t-v%40lue%2F%2Bx":               "query [redacted]",
		"path s3cr3t-v@lue%2F+x":                    "path [redacted]",
		"conn postgres://u:pa55word!@db.example/x.": "conn [redacted].",
		"pw pa55word! alone":                        "pw [redacted] alone",
		"a part: s3cr3t-v@lu is no secret":          "a part: s3cr3t-v@lu is no secret",
		"":                                          "",
	} {
		if got := r.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	if !r.Contains([]byte("x pa55word! y")) || r.Contains([]byte("nothing")) {
		t.Error("Contains is wrong")
	}
}

// TestWriterAcrossWrites: a secret cut across writes, at every cut, is still masked; what is
// held back comes out on Flush.
func TestWriterAcrossWrites(t *testing.T) {
	var r redact.Redactor
	must(t, r.Add("S", "SECRET-canary-12345"))
	text := "before SECRET-canary-12345 middle SECRET-canary-1234 after SECRET-"
	want := r.String(text)
	for cut1 := 0; cut1 <= len(text); cut1++ {
		for _, cut2 := range []int{cut1, min(len(text), cut1+3), len(text)} {
			var out bytes.Buffer
			w := r.Writer(&out)
			for _, part := range []string{text[:cut1], text[cut1:cut2], text[cut2:]} {
				if n, err := w.Write([]byte(part)); err != nil || n != len(part) {
					t.Fatal(n, err)
				}
			}
			must(t, w.Flush())
			if out.String() != want {
				t.Fatalf("cuts %d,%d: %q, want %q", cut1, cut2, out.String(), want)
			}
		}
	}
}

// FuzzWriter: for any secret that can be added and any text written in any pieces, the output
// is the leftmost-longest replacement of the whole text, and no secret is left in it (unless
// the secret shares characters with the mask, which could join with it).
func FuzzWriter(f *testing.F) {
	f.Add("SECRET-canary", "a SECRET-canary b", uint8(3), uint8(7))
	f.Add("abcabcabc", "abcabcabcabcabcabc", uint8(1), uint8(2))
	f.Add("ééééééééé", "xéééééééééx", uint8(5), uint8(9))
	f.Fuzz(func(t *testing.T, secret, text string, c1, c2 uint8) {
		var r redact.Redactor
		if err := r.Add("S", secret); err != nil {
			// (A value of a few characters may occur in any message by chance.)
			if err.Error() == "" || len(secret) >= 4 && strings.Contains(err.Error(), secret) {
				t.Fatalf("refusal %q", err)
			}
			return
		}
		want := r.String(text)
		var out bytes.Buffer
		w := r.Writer(&out)
		a, b := int(c1)%(len(text)+1), int(c2)%(len(text)+1)
		if a > b {
			a, b = b, a
		}
		for _, part := range []string{text[:a], text[a:b], text[b:]} {
			if _, err := w.Write([]byte(part)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("pieces %d,%d: %q, String gives %q", a, b, out.String(), want)
		}
		if secret != "" && !strings.ContainsAny(secret, redact.Mask) && strings.Contains(want, secret) {
			t.Fatalf("%q left in %q", secret, want)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
