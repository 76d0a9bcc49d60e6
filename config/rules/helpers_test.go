package rules_test

import "strings"

// checkErr compares an error with the expectation of a table test: wantErr == "" means the
// value must be accepted; otherwise the error message must contain wantErr. It returns a
// description of the mismatch, or "".
func checkErr(err error, wantErr string) string {
	switch {
	case wantErr == "" && err != nil:
		return "unexpected error: " + err.Error()
	case wantErr != "" && err == nil:
		return "accepted, want an error containing " + quote(wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		return "error " + quote(err.Error()) + ", want it to contain " + quote(wantErr)
	}
	return ""
}

func quote(s string) string { return "`" + s + "`" }
