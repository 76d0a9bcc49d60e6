package rules_test

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/invoiceform/invoiceform/config/rules"
)

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://shop.example.com/paid", "https://münchen.de/", "https://example.com.:8443/x?y#z",
		"http://x.com", "https://127.0.0.1/", "https://[::1]/", "https://0x7f.1/", "https://localhost/",
		"https://u:p@x.com/", "https://%65x.com/", "https://x.com:/", "https://a..b/", "", "https:",
		"https://xn--mnchen-3ya.de/", "https://" + strings.Repeat("ü", 40) + ".de/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := rules.CheckURL(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("CheckURL(%q) returned an empty message", s)
			}
			return
		}
		if !strings.HasPrefix(s, "https://") || len(s) > rules.MaxURL {
			t.Fatalf("CheckURL accepted %q: not https or too long", s)
		}
		if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			t.Fatalf("CheckURL accepted %q with whitespace or a control character", s)
		}
		u, perr := url.Parse(s)
		if perr != nil {
			t.Fatalf("CheckURL accepted %q, which net/url cannot parse: %v", s, perr)
		}
		host := strings.TrimSuffix(u.Hostname(), ".")
		if u.User != nil || u.Scheme != "https" || u.Opaque != "" {
			t.Fatalf("CheckURL accepted %q: user %v, scheme %q, opaque %q", s, u.User, u.Scheme, u.Opaque)
		}
		if _, ipErr := netip.ParseAddr(host); ipErr == nil {
			t.Fatalf("CheckURL accepted the IP host of %q", s)
		}
		lower := strings.ToLower(host)
		if !strings.Contains(host, ".") || lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
			t.Fatalf("CheckURL accepted the host %q of %q", host, s)
		}
		if len(host) > 253*4 { // a UTF-8 host may be longer than its DNS form, but not by this much
			t.Fatalf("CheckURL accepted a host of %d bytes", len(host))
		}
	})
}

func FuzzCheckEmail(f *testing.F) {
	for _, s := range []string{
		"buyer@example.com", "müller@münchen.de", "x!#$%&'*+/=?^_`{|}~-@example.com", "a@b.io",
		"Name <a@b.io>", "a@@b.io", "@b.io", "a@", ".a@b.io", "a..b@c.io", "a@localhost",
		"a@[1.2.3.4]", "a@b.io.", "a@b_c.io", "", "@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := rules.CheckEmail(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("CheckEmail(%q) returned an empty message", s)
			}
			return
		}
		local, domain, _ := strings.Cut(s, "@")
		if strings.Count(s, "@") != 1 || local == "" || len(local) > 64 || len(s) > 254 {
			t.Fatalf("CheckEmail accepted %q: wrong shape or length", s)
		}
		if strings.ContainsAny(s, "<>\" ,;()[]\\") || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
			t.Fatalf("CheckEmail accepted %q with a character outside the dot-atom", s)
		}
		if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
			t.Fatalf("CheckEmail accepted %q with a misplaced dot", s)
		}
		if !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
			t.Fatalf("CheckEmail accepted the domain of %q", s)
		}
		if !rules.LooksLikeEmail(s) {
			t.Fatalf("CheckEmail accepted %q, but LooksLikeEmail does not see an address in it", s)
		}
		if rules.CheckURL("https://"+domain+"/") != nil {
			t.Fatalf("CheckEmail accepted %q, whose domain CheckURL refuses as a host", s)
		}
	})
}
