package rules_test

import (
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config/rules"
)

func TestCheckURL(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	// 63+1+63+1+63+1+61 = 253 characters.
	host253 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 61)
	long := "https://shop.example.com/"
	long2048 := long + strings.Repeat("p", rules.MaxURL-len(long))

	tests := []struct {
		name, url, wantErr string
	}{
		// Accepted.
		{"plain", "https://shop.example.com/paid", ""},
		{"no path", "https://shop.example.com", ""},
		{"query and fragment", "https://shop.example.com/paid?order=1&x=%20#top", ""},
		{"port", "https://shop.example.com:8443/paid", ""},
		{"port 443", "https://example.com:443", ""},
		{"trailing dot", "https://example.com./paid", ""},
		{"upper-case host", "https://SHOP.Example.COM/", ""},
		{"digit-led label", "https://1and1.example.com/", ""},
		{"hex-like label", "https://0xcafe.0xg.example.com/", ""},
		{"IDN", "https://münchen.de/danke", ""},
		{"IDN CJK", "https://例え.テスト/", ""},
		{"IDN with combining marks", "https://भारत.भारत/", ""},
		{"A-label", "https://xn--mnchen-3ya.de/", ""},
		{"unicode path", "https://example.com/straße", ""},
		{"label of 63", "https://" + label63 + ".com/", ""},
		{"IDN label of 63 in DNS form", "https://" + strings.Repeat("a", 55) + "ü.de/", ""},
		{"IDN label of 63 with many non-ASCII letters", "https://" + strings.Repeat("mü", 28) + ".de/", ""},
		{"CJK label of 63 in DNS form", "https://" + strings.Repeat("例え", 26) + ".jp/", ""},
		{"host of 253", "https://" + host253 + "/", ""},
		{"2048 bytes", long2048, ""},

		// Scheme and shape.
		{"empty", "", "is empty"},
		{"http", "http://shop.example.com/paid", `must use https (got "http")`},
		{"ftp", "ftp://shop.example.com/", `must use https (got "ftp")`},
		{"javascript", "javascript:alert(1)", `must use https (got "javascript")`},
		{"scheme with plus", "git+ssh://shop.example.com/", `must use https (got "git+ssh")`},
		{"scheme with a digit first", "1https://shop.example.com/", `must be an absolute URL`},
		{"upper-case scheme", "HTTPS://shop.example.com/", `lower case, "https" (got "HTTPS")`},
		{"no scheme", "shop.example.com/paid", `must be an absolute URL starting with "https://"`},
		{"host and port, no scheme", "shop.example.com:443/paid", `must be an absolute URL`},
		{"scheme-relative", "//shop.example.com/paid", `must be an absolute URL`},
		{"relative path", "/paid", `must be an absolute URL`},
		{"opaque", "https:shop.example.com", `must start with "https://"`},
		{"one slash", "https:/shop.example.com", `must start with "https://"`},
		{"no host", "https:///paid", "has no host"},
		{"only a dot", "https://./", "has no host"},

		// IP addresses in every notation.
		{"IPv4", "https://127.0.0.1/", `not an IP address (got "127.0.0.1")`},
		{"IPv4 public", "https://93.184.216.34/paid", "not an IP address"},
		{"IPv4 with port", "https://10.0.0.1:8443/", "not an IP address"},
		{"IPv6", "https://[::1]/", `not an IP address (got "::1")`},
		{"IPv6 with port", "https://[2001:db8::1]:443/", `not an IP address (got "2001:db8::1")`},
		{"IPv6 with zone", "https://[fe80::1%25eth0]/", "not an IP address"},
		{"IPv6 without brackets", "https://::1/", "is not a valid URL"},
		{"IPv4 decimal", "https://2130706433/", "not an IP address"},
		{"IPv4 hex", "https://0x7f.1/", "not an IP address"},
		{"IPv4 short", "https://127.1/", "not an IP address"},
		{"IPv4 octal", "https://0177.0.0.1/", "not an IP address"},
		{"IPv4 hex whole", "https://0x7F000001/", "not an IP address"},
		{"numeric top-level label", "https://example.123/", `ends in the number "123"`},
		{"hex top-level label", "https://example.0xff/", `ends in the number "0xff"`},

		// localhost.
		{"localhost", "https://localhost/", "not localhost"},
		{"localhost with port", "https://localhost:8443/", "not localhost"},
		{"localhost upper case, trailing dot", "https://LOCALHOST./", "not localhost"},
		{"sub.localhost", "https://shop.localhost/", "not localhost"},

		// Domain-name rules.
		{"single label", "https://intranet/paid", `has host "intranet", which is not a full domain name`},
		{"underscore", "https://ex_ample.com/", `has the host label "ex_ample", which contains '_'`},
		{"asterisk", "https://*.example.com/", `contains '*'`},
		{"symbol in IDN", "https://€uro.com/", `contains '€'`},
		{"leading hyphen", "https://-shop.example.com/", `has the host label "-shop", which starts or ends with a hyphen`},
		{"trailing hyphen", "https://shop-.example.com/", "starts or ends with a hyphen"},
		{"double dot", "https://shop..example.com/", "has an empty label"},
		{"leading dot", "https://.example.com/", "has an empty label"},
		{"two trailing dots", "https://example.com../", "has an empty label"},
		{"label of 64", "https://" + label63 + "a.com/", "is 64 characters long in DNS form; the limit is 63"},
		{"IDN label of 64 in DNS form", "https://" + strings.Repeat("a", 56) + "ü.de/", "is 64 characters long in DNS form"},
		{"katakana label of 64 in DNS form", "https://" + strings.Repeat("ドメイン", 13) + ".jp/", "is 64 characters long in DNS form"},
		{"host of 254", "https://" + host253 + "b/", "has a host 254 characters long in DNS form; the limit is 253"},
		{"percent-encoded host", "https://%65xample.com/", "has a percent-encoded host"},

		// User info.
		{"user and password", "https://user:hunter2@shop.example.com/", "must not contain a user name or password"},
		{"user", "https://user@shop.example.com/", "must not contain a user name or password"},
		{"disguise", "https://bank.example.com@evil.example/", "must not contain a user name or password"},

		// Ports.
		{"empty port", "https://shop.example.com:/", "has an empty port"},
		{"port 0", "https://shop.example.com:0/", `has port "0"`},
		{"port too big", "https://shop.example.com:65536/", `has port "65536"`},
		{"port not a number", "https://shop.example.com:https/", "is not a valid URL"},

		// Characters and length.
		{"space", "https://shop.example.com/a b", "must not contain spaces (found one at byte 26); write a space in the path or query as %20"},
		{"leading space", " https://shop.example.com/", "must not contain spaces"},
		{"trailing newline", "https://shop.example.com/\n", "found U+000A at byte 25"},
		{"tab", "https://shop.example.com/\tx", "U+0009"},
		{"no-break space", "https://shop.example.com/\u00a0", "U+00A0"},
		{"DEL", "https://shop.example.com/\x7f", "U+007F"},
		{"NUL", "https://shop.example.com/\x00", "U+0000"},
		{"zero-width space", "https://shop\u200b.example.com/", "U+200B"},
		{"bidi override", "https://shop.example.com/\u202egnp.exe", "U+202E"},
		{"invalid UTF-8", "https://shop.example.com/\xff", "is not valid UTF-8"},
		{"2049 bytes", long2048 + "p", "is 2049 bytes long; the limit is 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rules.CheckURL(tt.url)
			if msg := checkErr(err, tt.wantErr); msg != "" {
				t.Errorf("CheckURL(%q): %s", tt.url, msg)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("CheckURL(%q) = %q: the message repeats the password", tt.url, err)
			}
		})
	}
}
