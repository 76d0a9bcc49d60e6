package rules

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CheckURL applies the rule of url_success and url_failed (docs/api.md "Creating an invoice", "Currencies"): an absolute
// https URL whose host is a public domain name, not an IP address or localhost. It also refuses
// what the API or a browser would read differently from the user: user info before the host
// (the classic "https://bank.com@evil.example" disguise), percent-encoded hosts, whitespace,
// control and invisible characters. A port and a trailing dot after the host are allowed.
// Internationalised hosts may be written in Unicode; their length is counted in the ASCII
// ("xn--") form that DNS limits. The length limit MaxURL is counted in bytes.
func CheckURL(s string) error {
	if s == "" {
		return errors.New(`is empty; expected an https URL such as "https://shop.example.com/paid"`)
	}
	if len(s) > MaxURL {
		return fmt.Errorf("is %d bytes long; the limit is %d", len(s), MaxURL)
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if r, at, ok := badRune(s); ok {
		if r == ' ' {
			return fmt.Errorf("must not contain spaces (found one at byte %d); write a space in the path or query as %%20", at)
		}
		return fmt.Errorf("must not contain whitespace, control or invisible characters (found %s at byte %d)", describeRune(r), at)
	}
	if err := checkScheme(s); err != nil {
		return err
	}
	authority := s[len("https://"):]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if strings.Contains(authority, "@") {
		// The user info is not quoted back: it may hold a password.
		return errors.New(`must not contain a user name or password before the host ("user:pass@"); remove everything up to and including the "@"`)
	}
	if ip, ok := strings.CutPrefix(authority, "["); ok {
		ip, _, _ = strings.Cut(ip, "]")
		return fmt.Errorf("must name a domain, not an IP address (got %q)", ip)
	}
	if strings.Contains(authority, "%") {
		return fmt.Errorf("has a percent-encoded host %q; write the domain name as plain text", authority)
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("is not a valid URL: %v", err)
	}
	if strings.HasSuffix(u.Host, ":") {
		return errors.New(`has an empty port after the host; remove the ":" or give a port number`)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("has port %q; a port is a number from 1 to 65535", p)
		}
	}
	host := strings.TrimSuffix(u.Hostname(), ".") // a fully qualified "example.com." is fine
	if p := checkDomain(host); p != nil {
		return p.forURL()
	}
	return nil
}

// checkScheme requires s to start with exactly "https://".
func checkScheme(s string) error {
	i := strings.IndexByte(s, ':')
	if i <= 0 || !isScheme(s[:i]) {
		return errors.New(`must be an absolute URL starting with "https://"`)
	}
	scheme := s[:i]
	if !strings.EqualFold(scheme, "https") {
		return fmt.Errorf("must use https (got %q)", scheme)
	}
	if scheme != "https" {
		return fmt.Errorf(`must spell the scheme in lower case, "https" (got %q)`, scheme)
	}
	if !strings.HasPrefix(s, "https://") {
		return errors.New(`must start with "https://" followed by the host`)
	}
	return nil
}

// isScheme reports whether s is a URL scheme (RFC 3986 §3.1). A dot is allowed there, but a
// "scheme" with a dot is almost always a host with a port and no scheme ("shop.example.com:443"),
// so it is not taken for one.
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch {
		case isASCIILetter(c):
		case i > 0 && (isASCIIDigit(c) || c == '+' || c == '-'):
		default:
			return false
		}
	}
	return true
}
