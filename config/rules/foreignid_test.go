package rules_test

import (
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config/rules"
)

func TestCheckForeignID(t *testing.T) {
	const path = "the cancel request puts foreign_id into its URL path (/invoices/{foreign_id}/cancel/)"
	tests := []struct{ name, id, wantErr string }{
		{"plain", "order-0344", ""},
		{"label style", "user_196", ""},
		{"digits", "196", ""},
		{"punctuation", "inv.2026-03:7+a=b~c", ""},
		{"three dots", "...", ""},
		{"unicode", "märz-2026-1", ""},
		{"255 bytes", strings.Repeat("x", 255), ""},
		{"127 two-byte characters and one byte", strings.Repeat("ä", 127) + "x", ""},
		{"empty", "", "must not be empty"},
		{"256 bytes", strings.Repeat("x", 256), "is 256 bytes long; the limit is 255"},
		{"128 two-byte characters", strings.Repeat("ä", 128), "is 256 bytes long; the limit is 255"},
		{"invalid UTF-8", "order-\xff", "is not valid UTF-8"},
		{"space", "order 1", "found a space at byte 5); use - or _ instead"},
		{"tab", "order\t1", "U+0009"},
		{"newline", "order-1\n", "U+000A"},
		{"zero-width space", "order\u200b1", "U+200B"},
		{"slash", "2026/03/1", `must not contain '/': ` + path},
		{"question mark", "order?1", `must not contain '?'`},
		{"hash", "order#1", `must not contain '#'`},
		{"percent", "100%", `must not contain '%'`},
		{"percent escape", "order%2F1", `must not contain '%'`},
		{"backslash", `order\1`, `must not contain '\\'`},
		{"dot", ".", `must not be ".": ` + path},
		{"dot dot", "..", `must not be ".."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := checkErr(rules.CheckForeignID(tt.id), tt.wantErr); msg != "" {
				t.Errorf("CheckForeignID(%q): %s", tt.id, msg)
			}
		})
	}
}

func TestContainsPersonalName(t *testing.T) {
	tests := []struct {
		name  string
		id    string
		names []string
		want  string // "" for no match
	}{
		{"last name", "order-mueller-1", []string{"Friedrich", "Mueller"}, "Mueller"},
		{"first name, other case", "inv-FRIEDRICH-7", []string{"friedrich", "Mueller"}, "friedrich"},
		{"non-ASCII case folding", "müller-2026", []string{"MÜLLER"}, "MÜLLER"},
		{"Kelvin sign folds to k", "order-kelvin", []string{"\u212Aelvin"}, "\u212Aelvin"},
		{"whole multi-word name", "anna maria", []string{"Anna Maria"}, "Anna Maria"},
		{"first word", "annas-order", []string{"Anna Maria"}, "Anna"},
		{"second word", "maria42", []string{"Anna Maria"}, "Maria"},
		{"hyphenated name", "x-lüdenscheidt", []string{"Müller-Lüdenscheidt"}, "Lüdenscheidt"},
		{"apostrophe", "x-brien", []string{"O'Brien"}, "Brien"},
		{"legal name", "acme-2026-03", []string{"ACME Trading GmbH"}, "ACME"},
		{"trailing punctuation", "bob-1", []string{"Bob!"}, "Bob"},
		{"surrounding spaces", "bob-1", []string{"  Bob  "}, "Bob"},
		{"three characters", "ann-1", []string{"Ann"}, "Ann"},
		{"two characters ignored", "an-1", []string{"An"}, ""},
		{"short words ignored", "bo-li-1", []string{"Bo Li"}, ""},
		{"empty name", "order-1", []string{""}, ""},
		{"no names", "order-1", nil, ""},
		{"no match", "order-0344", []string{"Friedrich", "Müller", "Friedrich Müller"}, ""},
		{"decomposed does not match composed", "mu\u0308ller", []string{"Müller"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rules.ContainsPersonalName(tt.id, tt.names...)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("ContainsPersonalName(%q, %q) = %q, %v; want %q, %v", tt.id, tt.names, got, ok, tt.want, tt.want != "")
			}
		})
	}
}

func TestRuneLen(t *testing.T) {
	for s, want := range map[string]int{"": 0, "Invoice": 7, "Müller": 6, "中文": 2, "\xff": 1} {
		if got := rules.RuneLen(s); got != want {
			t.Errorf("RuneLen(%q) = %d, want %d", s, got, want)
		}
	}
	if rules.RuneLen(strings.Repeat("é", rules.MaxTitle)) != rules.MaxTitle {
		t.Errorf("a title of %d accented letters should count %d characters", rules.MaxTitle, rules.MaxTitle)
	}
}

func TestLimits(t *testing.T) {
	for name, got := range map[string]int{
		"MaxTitle": rules.MaxTitle, "MaxDescription": rules.MaxDescription,
		"MaxForeignID": rules.MaxForeignID, "MaxEndUserReference": rules.MaxEndUserReference,
		"MaxSenderField": rules.MaxSenderField, "MaxURL": rules.MaxURL,
	} {
		want := map[string]int{
			"MaxTitle": 50, "MaxDescription": 1000, "MaxForeignID": 255,
			"MaxEndUserReference": 255, "MaxSenderField": 255, "MaxURL": 2048,
		}[name]
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

func TestContainsDate(t *testing.T) {
	for _, tt := range []struct {
		id, date string
		want     bool
	}{
		{"cust-1995-08-17", "1995-08-17", true},
		{"cust-19950817", "1995-08-17", true},
		{"order-1995", "1995-08-17", false},
		{"order-0817", "1995-08-17", false},
		{"cust-1995-08-17", "", false},
		{"cust-1995-08-17", "17.08.1995", false},
	} {
		if got := rules.ContainsDate(tt.id, tt.date); got != tt.want {
			t.Errorf("ContainsDate(%q, %q) = %v, want %v", tt.id, tt.date, got, tt.want)
		}
	}
}
