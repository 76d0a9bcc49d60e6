package rules

import (
	"errors"
	"time"
)

// minBirthYear is the earliest year of birth accepted: anything before is a typo.
const minBirthYear = 1900

// CheckDateOfBirth checks sender_data.date_of_birth: exactly YYYY-MM-DD (docs/api.md "Creating an invoice", the
// example "1995-08-17"), a real calendar date, in 1900 or later and strictly before the calendar
// date of today in today's own location, so that a birthday is judged by the operator's
// calendar, not by the instant in UTC. Messages never repeat the date: it is personal data.
func CheckDateOfBirth(s string, today time.Time) error {
	if !isDateShape(s) {
		return errors.New(`must be a date written YYYY-MM-DD, like "1995-08-17"`)
	}
	year := atoi(s[0:4])
	month := atoi(s[5:7])
	day := atoi(s[8:10])
	if month < 1 || month > 12 {
		return errors.New("is not a real calendar date: the month must be 01 to 12")
	}
	// Day 0 of the next month is the last day of this one.
	last := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if day < 1 || day > last {
		return errors.New("is not a real calendar date: that month has no such day")
	}
	if year < minBirthYear {
		return errors.New("must be in 1900 or later")
	}
	ty, tm, td := today.Date()
	if year > ty || year == ty && (month > int(tm) || month == int(tm) && day >= td) {
		return errors.New("must be a date before today")
	}
	return nil
}

// isDateShape reports whether s is four digits, "-", two digits, "-", two digits.
func isDateShape(s string) bool {
	if len(s) != len("2006-01-02") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if !isASCIIDigit(rune(s[i])) {
			return false
		}
	}
	return true
}

// atoi converts a string of ASCII digits, already checked, to an int.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
