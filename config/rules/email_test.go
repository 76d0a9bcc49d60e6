package rules_test

import (
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config/rules"
)

func TestCheckEmail(t *testing.T) {
	local64 := strings.Repeat("f", 64)
	// 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 bytes.
	addr254 := local64 + "@" + strings.Repeat("m", 63) + "." + strings.Repeat("m", 63) + "." + strings.Repeat("d", 61)

	tests := []struct {
		name, email, wantErr string
	}{
		// Accepted.
		{"plain", "buyer@example.com", ""},
		{"dots and tag", "first.last+tag@sub.example.co.uk", ""},
		{"every special", "x!#$%&'*+/=?^_`{|}~-@example.com", ""},
		{"unicode local part", "müller@example.de", ""},
		{"IDN domain", "fritz@münchen.de", ""},
		{"short", "a@b.io", ""},
		{"upper case", "Fritz.Mueller@Example.COM", ""},
		{"local part of 64", local64 + "@example.com", ""},
		{"254 bytes", addr254, ""},

		// Rejected; every case carries the personal tokens "fritz" and "muellerhaus", which no
		// message may repeat.
		{"empty", "", "is empty"},
		{"display name", "Fritz Mueller <fritz@muellerhaus.de>", "must be a bare address without a display name or angle brackets"},
		{"angle brackets", "<fritz@muellerhaus.de>", "without a display name or angle brackets"},
		{"space", "fritz @muellerhaus.de", "without whitespace, control or invisible characters (found a space)"},
		{"trailing newline", "fritz@muellerhaus.de\n", "U+000A"},
		{"zero-width space", "fritz@\u200bmuellerhaus.de", "U+200B"},
		{"invalid UTF-8", "fritz\xff@muellerhaus.de", "is not valid UTF-8"},
		{"no @", "fritz.muellerhaus.de", `is missing the "@"`},
		{"two @", "fritz@@muellerhaus.de", `exactly one "@"`},
		{"two addresses", "fritz@muellerhaus.de,fritz2@muellerhaus.de", `exactly one "@"`},
		{"nothing before @", "@muellerhaus.de", `has nothing before the "@"`},
		{"nothing after @", "fritz@", `has nothing after the "@"`},
		{"leading dot", ".fritz@muellerhaus.de", "must not start or end with a dot"},
		{"trailing dot before @", "fritz.@muellerhaus.de", "must not start or end with a dot"},
		{"double dot", "fritz..m@muellerhaus.de", "two dots in a row"},
		{"parenthesis", "fritz(m)@muellerhaus.de", `has '(' before the "@"`},
		{"quoted local part", `"fritz"@muellerhaus.de`, `has '"' before the "@"`},
		{"comma", "fritz,m@muellerhaus.de", `has ',' before the "@"`},
		{"unicode symbol", "fritz€@muellerhaus.de", `has '€' before the "@"`},
		{"local part of 65", "fritz" + strings.Repeat("f", 60) + "@muellerhaus.de", `more than 64 bytes before the "@"`},
		{"255 bytes", "fritz" + addr254[5:] + "d", "is 255 bytes long; the limit is 254"},
		{"localhost", "fritz@localhost", "not localhost"},
		{"sub.localhost", "fritz@muellerhaus.localhost", "not localhost"},
		{"IPv4", "fritz@127.0.0.1", "not an IP address"},
		{"IP literal", "fritz@[127.0.0.1]", "not an IP address"},
		{"IPv6 literal", "fritz@[IPv6:2001:db8::1]", "not an IP address"},
		{"decimal IPv4", "fritz@2130706433", "not an IP address"},
		{"bare IPv6", "fritz@2001:db8::1", "not an IP address"},
		{"numeric top-level", "fritz@muellerhaus.123", "ends in a number"},
		{"no dot", "fritz@muellerhaus", "a domain without a dot"},
		{"trailing dot", "fritz@muellerhaus.de.", "must not end with a dot"},
		{"underscore in domain", "fritz@mueller_haus.de", `has '_' in the domain`},
		{"hyphen", "fritz@-muellerhaus.de", "starts or ends with a hyphen"},
		{"empty label", "fritz@muellerhaus..de", "an empty part in the domain"},
		{"leading dot in domain", "fritz@.muellerhaus.de", "an empty part in the domain"},
		{"long label", "fritz@muellerhaus" + strings.Repeat("s", 60) + ".de", "longer than 63 characters"},
		// Within 254 bytes only an internationalised domain can exceed 253 characters in DNS form.
		{"long IDN domain", "fritz@" + strings.Repeat("ü.", 60) + "de", "longer than 253 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rules.CheckEmail(tt.email)
			if msg := checkErr(err, tt.wantErr); msg != "" {
				t.Errorf("CheckEmail(%q): %s", tt.email, msg)
			}
			if err != nil {
				m := strings.ToLower(err.Error())
				for _, personal := range []string{"fritz", "mueller", "127.0.0.1", "2130706433"} {
					if strings.Contains(m, personal) {
						t.Errorf("CheckEmail(%q) = %q: the message repeats %q from the address", tt.email, err, personal)
					}
				}
			}
		})
	}
}

func TestLooksLikeEmail(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"order-bob@shop.com-1", true},
		{"x+y@z.io", true},
		{"bob@mail.shop.com", true},
		{"inv-2026-03-bob@shop.com", true},
		{"bob@shop.com", true},
		{"müller@straße.de", true},
		{"bob@mail_server.de", true}, // looser than CheckEmail on purpose
		{"a@b.c", true},
		{"ref:bob@x.y;", true},
		{"bob.@x.y", true},
		{"x@@bob@shop.de", true}, // the last "@" qualifies
		{"", false},
		{"order-1234", false},
		{"@shop.com", false},
		{"bob@", false},
		{"bob@localhost", false},
		{"bob@shop.", false},
		{"bob@.com", false},
		{"bob@shop..com", false},
		{"bob @shop.com", false},
		{"bob@ shop.com", false},
		{"bob@@shop.com", false},
		{"user@handle", false},
		{"price@10", false},
	}
	for _, tt := range tests {
		if got := rules.LooksLikeEmail(tt.s); got != tt.want {
			t.Errorf("LooksLikeEmail(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
