package rules

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckForeignID checks the merchant's invoice id (docs/api.md "Creating an invoice": foreign_id, max 255). The
// limit is counted in bytes, not characters: the API does not say which, a UTF-8 string never
// has more characters than bytes, so an id within 255 bytes is within 255 characters too.
// Because the cancel endpoint puts the id into its URL path (docs/api.md "Cancelling an invoice",
// /invoices/{foreign_id}/cancel/), characters that end or escape a path segment (/ ? # % \) are
// refused, and so are "." and "..", which a path resolver would swallow; whitespace, control
// and invisible characters are refused because they make two ids look alike.
func CheckForeignID(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if len(s) > MaxForeignID {
		return fmt.Errorf("is %d bytes long; the limit is %d", len(s), MaxForeignID)
	}
	if r, at, ok := badRune(s); ok {
		return fmt.Errorf("must not contain whitespace, control or invisible characters (found %s at byte %d); use - or _ instead", describeRune(r), at)
	}
	if i := strings.IndexAny(s, `/?#%\`); i >= 0 {
		return fmt.Errorf("must not contain %q: the cancel request puts foreign_id into its URL path (/invoices/{foreign_id}/cancel/), where %q would change the URL; use - or _ instead", s[i], s[i])
	}
	if s == "." || s == ".." {
		return fmt.Errorf("must not be %q: the cancel request puts foreign_id into its URL path (/invoices/{foreign_id}/cancel/), where %q means a directory", s, s)
	}
	return nil
}

// minNameRunes is the shortest name, or word of a name, that ContainsPersonalName looks for:
// shorter ones ("Li", "Bo") occur by chance in ordinary ids.
const minNameRunes = 3

// ContainsPersonalName reports whether id contains any of the given names (a natural
// person's first and last name) ignoring case, and returns the name, or the word of a name, that matched.
// Each name is looked for whole and, when it has several words ("Anna Maria", "Müller-Lüdenscheidt",
// "O'Brien"), word by word; names and words shorter than 3 characters are ignored. Case is
// compared with Unicode simple folding, as strings.EqualFold does, so "MÜLLER" matches "müller";
// no Unicode normalisation is done, so a decomposed "u" + combining diaeresis does not match "ü".
func ContainsPersonalName(id string, names ...string) (string, bool) {
	fid := foldString(id)
	for _, name := range names {
		name = strings.TrimSpace(name)
		if utf8.RuneCountInString(name) >= minNameRunes && strings.Contains(fid, foldString(name)) {
			return name, true
		}
		words := strings.FieldsFunc(name, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r)
		})
		for _, w := range words {
			if utf8.RuneCountInString(w) >= minNameRunes && strings.Contains(fid, foldString(w)) {
				return w, true
			}
		}
	}
	return "", false
}

// foldString maps every rune of s to the smallest rune of its simple case-folding orbit, so
// that two strings are equal after foldString exactly when strings.EqualFold says they are, and
// substring search respects case folding.
func foldString(s string) string {
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		return m
	}, s)
}

// ContainsDate reports whether id contains the date (YYYY-MM-DD, as date_of_birth is
// written) as written or without its dashes ("19950817"). A date that is not ten characters
// of that form is not looked for.
func ContainsDate(id, date string) bool {
	if len(date) != len("2006-01-02") || date[4] != '-' || date[7] != '-' {
		return false
	}
	return strings.Contains(id, date) || strings.Contains(id, date[:4]+date[5:7]+date[8:])
}
