package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DNS limits (RFC 1035 §2.3.4), counted on the ASCII form of the name.
const (
	maxLabel = 63
	maxHost  = 253
)

// hostFault says what is wrong with a domain name. It is rendered differently for a URL host,
// which may be quoted back, and for the domain of an e-mail address, which may not.
type hostFault int

const (
	hostEmpty hostFault = iota + 1
	hostIP
	hostLocal
	hostEmptyLabel
	hostBadChar
	hostHyphen
	hostLongLabel
	hostNumericTLD
	hostOneLabel
	hostTooLong
)

type hostProblem struct {
	fault hostFault
	host  string // the name as checked (for a URL: without the trailing dot)
	label string // the offending label
	char  rune   // the offending character, for hostBadChar
	n     int    // the offending length, for hostLongLabel and hostTooLong
}

// checkDomain applies the domain-name rules shared by URL hosts and e-mail domains: not an IP
// address in any notation, not localhost, at least two labels, each of letters (any script),
// digits and inner hyphens, at most 63 octets per label and 253 for the name in ASCII form, and
// a top-level label that is not a number. It returns nil when host is a valid domain name.
func checkDomain(host string) *hostProblem {
	if host == "" {
		return &hostProblem{fault: hostEmpty}
	}
	if mayBeIP(host) {
		if _, err := netip.ParseAddr(host); err == nil {
			return &hostProblem{fault: hostIP, host: host}
		}
	}
	lower := strings.ToLower(host)
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return &hostProblem{fault: hostLocal, host: host}
	}
	var room [8]string // most hosts have a few labels: no allocation for them
	labels := splitDots(room[:0], host)
	numeric := 0
	total := len(labels) - 1 // the dots
	for _, l := range labels {
		if l == "" {
			return &hostProblem{fault: hostEmptyLabel, host: host}
		}
		if isNumericLabel(l) {
			numeric++
		}
	}
	// WHATWG URL parsers read a host whose last label is a number as IPv4 ("2130706433",
	// "0x7f.1", "127.1" all mean 127.0.0.1), so such a host is an IP address in disguise.
	if isNumericLabel(labels[len(labels)-1]) {
		if numeric == len(labels) {
			return &hostProblem{fault: hostIP, host: host}
		}
		return &hostProblem{fault: hostNumericTLD, host: host, label: labels[len(labels)-1]}
	}
	for _, l := range labels {
		ascii := true
		for _, r := range l {
			switch {
			case r < utf8.RuneSelf && (isASCIILetter(r) || isASCIIDigit(r) || r == '-'):
			case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)):
				ascii = false
			default:
				return &hostProblem{fault: hostBadChar, host: host, label: l, char: r}
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return &hostProblem{fault: hostHyphen, host: host, label: l}
		}
		n := len(l)
		if !ascii {
			n = len("xn--") + punycodeLen([]rune(strings.ToLower(l)))
		}
		if n > maxLabel {
			return &hostProblem{fault: hostLongLabel, host: host, label: l, n: n}
		}
		total += n
	}
	if len(labels) < 2 {
		return &hostProblem{fault: hostOneLabel, host: host}
	}
	if total > maxHost {
		return &hostProblem{fault: hostTooLong, host: host, n: total}
	}
	return nil
}

// mayBeIP reports whether netip.ParseAddr could accept s: an IPv6 address has a colon, an
// IPv4 address only digits and dots. Every e-mail address and URL of a load has its host
// checked, and ParseAddr allocates the error it returns for a domain name.
func mayBeIP(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !isASCIIDigit(rune(s[i])) {
			return false
		}
	}
	return true
}

// splitDots is strings.Split(s, "."), appended to labels.
func splitDots(labels []string, s string) []string {
	for {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return append(labels, s)
		}
		labels = append(labels, s[:i])
		s = s[i+1:]
	}
}

// isNumericLabel reports whether l is a number as the WHATWG "ends in a number" rule reads it:
// decimal digits, or "0x" followed by hex digits.
func isNumericLabel(l string) bool {
	if len(l) >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X') {
		for i := 2; i < len(l); i++ {
			if !isASCIIDigit(rune(l[i])) && !strings.ContainsRune("abcdefABCDEF", rune(l[i])) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		if !isASCIIDigit(rune(l[i])) {
			return false
		}
	}
	return l != ""
}

// forURL renders p for the host of a URL, quoting what is wrong.
func (p *hostProblem) forURL() error {
	switch p.fault {
	case hostEmpty:
		return errors.New(`has no host; expected "https://" followed by a domain name such as "shop.example.com"`)
	case hostIP:
		return fmt.Errorf("must name a domain, not an IP address (got %q)", p.host)
	case hostLocal:
		return fmt.Errorf("must name a public domain, not localhost (got %q)", p.host)
	case hostEmptyLabel:
		return fmt.Errorf("has host %q, which has an empty label (two dots in a row, or a leading dot)", p.host)
	case hostBadChar:
		return fmt.Errorf("has the host label %q, which contains %q; a domain name allows only letters, digits and hyphens", p.label, p.char)
	case hostHyphen:
		return fmt.Errorf("has the host label %q, which starts or ends with a hyphen", p.label)
	case hostLongLabel:
		return fmt.Errorf("has the host label %q, which is %d characters long in DNS form; the limit is %d", p.label, p.n, maxLabel)
	case hostNumericTLD:
		return fmt.Errorf("has host %q, which ends in the number %q; a domain name ends in a name such as \"com\"", p.host, p.label)
	case hostOneLabel:
		return fmt.Errorf("has host %q, which is not a full domain name; use one with a dot, such as \"shop.example.com\"", p.host)
	default: // hostTooLong
		return fmt.Errorf("has a host %d characters long in DNS form; the limit is %d", p.n, maxHost)
	}
}

// forEmail renders p for the domain of an e-mail address without repeating any of it: the
// address is personal data. A single offending character is shown, since it cannot identify
// anyone and tells the user exactly what to remove.
func (p *hostProblem) forEmail() error {
	switch p.fault {
	case hostEmpty:
		return errors.New(`has nothing after the "@"; expected a domain such as "example.com"`)
	case hostIP:
		return errors.New(`must have a domain name after the "@", not an IP address`)
	case hostLocal:
		return errors.New(`must have a public domain after the "@", not localhost`)
	case hostEmptyLabel:
		return errors.New(`has an empty part in the domain after the "@" (two dots in a row, or a dot at the start or end)`)
	case hostBadChar:
		return fmt.Errorf(`has %q in the domain after the "@"; a domain allows only letters, digits, hyphens and dots`, p.char)
	case hostHyphen:
		return errors.New(`has a domain part after the "@" that starts or ends with a hyphen`)
	case hostLongLabel:
		return fmt.Errorf(`has a domain part after the "@" longer than %d characters`, maxLabel)
	case hostNumericTLD:
		return errors.New(`has a domain after the "@" that ends in a number; it must end in a name such as "com"`)
	case hostOneLabel:
		return errors.New(`has a domain without a dot after the "@"; expected a domain such as "example.com"`)
	default: // hostTooLong
		return fmt.Errorf(`has a domain after the "@" longer than %d characters`, maxHost)
	}
}

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }
func isASCIIDigit(r rune) bool  { return '0' <= r && r <= '9' }

// badRune returns the first whitespace, control or invisible formatting character of s (such
// as a zero-width space or a bidi override, which make two different strings look the same) and
// its byte offset, or ok == false when there is none.
func badRune(s string) (r rune, at int, ok bool) {
	for i, r := range s {
		if r > ' ' && r < 0x7f {
			continue // printable ASCII: the common case, decided without the tables
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return r, i, true
		}
	}
	return 0, 0, false
}

// describeRune names a character that is not visible when printed.
func describeRune(r rune) string {
	if r == ' ' {
		return "a space"
	}
	return fmt.Sprintf("U+%04X", r)
}
