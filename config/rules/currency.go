package rules

import (
	"strings"
	"unicode/utf8"

	"github.com/agext/levenshtein"

	"github.com/invoiceform/invoiceform/invoice"
)

// maxSuggestDistance is how many single-character edits a code may be away from a known one
// and still be suggested: one typo plus one slip ("BTX" -> "BTC", "ETHH" -> "ETH").
const maxSuggestDistance = 2

// maxCodeLen is the length of the longest code ("BNB-BSC"); TestMaxCodeLen keeps it so.
const maxCodeLen = 7

// SuggestCurrency returns the known code that the mistyped code most likely meant, for a "did
// you mean" hint, or "" when nothing is close. A case-insensitive exact match wins ("eur" ->
// "EUR"); otherwise the known code closest by Levenshtein distance to the upper-cased input, at
// most 2 edits away and fewer edits than the input has characters (so "X" suggests nothing
// rather than a code that shares no letter with it); ties go to the first code in Code order.
func SuggestCurrency(code string) string {
	for _, c := range invoice.Currencies() {
		if strings.EqualFold(c.Code, code) {
			return c.Code
		}
	}
	n := utf8.RuneCountInString(code)
	if n > maxCodeLen+maxSuggestDistance {
		// Further than that from every code, and the distance costs time in the length: a
		// 10 MB value took seconds.
		return ""
	}
	upper := strings.ToUpper(code)
	best, bestDist := "", maxSuggestDistance+1
	for _, c := range invoice.Currencies() {
		d := levenshtein.Distance(upper, c.Code, nil)
		if d < bestDist && d < n {
			best, bestDist = c.Code, d
		}
	}
	return best
}
