package rules

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLocalPart is the longest part before the "@" (RFC 5321 §4.5.3.1.1).
const maxLocalPart = 64

// CheckEmail checks email_user and sender_data.email: a single bare address local@domain, with
// no display name, angle brackets or whitespace. The part before the "@" is a dot-atom (RFC 5322
// §3.2.3, with the Unicode letters of RFC 6531): letters, digits, the printable specials
// !#$%&'*+/=?^_`{|}~- and single inner dots; quoted local parts are refused, as no payment
// form needs them. The domain follows the rules of CheckURL's host, except that a trailing dot
// is refused, as mail systems do. Lengths are in bytes: 64 before the "@", 254 in all. Messages
// never repeat the address.
func CheckEmail(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if len(s) > maxEmail {
		return fmt.Errorf("is %d bytes long; the limit is %d", len(s), maxEmail)
	}
	if strings.ContainsAny(s, "<>") {
		return errors.New(`must be a bare address without a display name or angle brackets, like name@example.com`)
	}
	if r, _, ok := badRune(s); ok {
		return fmt.Errorf("must be a single address without whitespace, control or invisible characters (found %s)", describeRune(r))
	}
	switch strings.Count(s, "@") {
	case 0:
		return errors.New(`is missing the "@" between the name and the domain`)
	case 1:
	default:
		return errors.New(`must be a single address with exactly one "@"`)
	}
	local, domain, _ := strings.Cut(s, "@")
	if err := checkLocalPart(local); err != nil {
		return err
	}
	if strings.HasPrefix(domain, "[") {
		return (&hostProblem{fault: hostIP}).forEmail()
	}
	if strings.HasSuffix(domain, ".") {
		return errors.New(`must not end with a dot`)
	}
	if p := checkDomain(domain); p != nil {
		return p.forEmail()
	}
	return nil
}

func checkLocalPart(local string) error {
	if local == "" {
		return errors.New(`has nothing before the "@"`)
	}
	if len(local) > maxLocalPart {
		return fmt.Errorf(`has more than %d bytes before the "@"`, maxLocalPart)
	}
	for _, r := range local {
		if !isLocalRune(r) {
			return fmt.Errorf("has %q before the \"@\"; only letters, digits, dots and !#$%%&'*+/=?^_`{|}~- are allowed there", r)
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' {
		return errors.New(`must not start or end with a dot before the "@"`)
	}
	if strings.Contains(local, "..") {
		return errors.New(`must not have two dots in a row before the "@"`)
	}
	return nil
}

// isLocalRune reports whether r may appear in a dot-atom local part (dots included).
func isLocalRune(r rune) bool {
	if r >= utf8.RuneSelf {
		return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
	}
	return isASCIILetter(r) || isASCIIDigit(r) || strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r)
}

// isLooseLabelRune reports whether r may be part of a domain label for LooksLikeEmail, which
// errs on the side of finding an address: it also takes the underscore.
func isLooseLabelRune(r rune) bool {
	if r >= utf8.RuneSelf {
		return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
	}
	return isASCIILetter(r) || isASCIIDigit(r) || r == '-' || r == '_'
}

// LooksLikeEmail reports whether s contains something e-mail-like anywhere inside it: a
// character of a local part, an "@", a label, a dot and another label ("order-bob@shop.com-1",
// "x+y@z.io"). It is meant for identifiers that must carry no personal data (foreign_id,
// end_user_reference), so it is deliberately looser than CheckEmail.
func LooksLikeEmail(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '@' || i == 0 {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); !isLocalRune(r) {
			continue
		}
		if domainLikeAt(s[i+1:]) {
			return true
		}
	}
	return false
}

// domainLikeAt reports whether s starts with label "." label.
func domainLikeAt(s string) bool {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !isLooseLabelRune(r) {
			break
		}
		n += size
	}
	if n == 0 || n == len(s) || s[n] != '.' {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[n+1:])
	return n+1 < len(s) && isLooseLabelRune(r)
}
