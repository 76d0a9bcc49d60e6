package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/invoiceform/invoiceform/config/rules"
)

func TestCheckDateOfBirth(t *testing.T) {
	// 00:30 on 10 May 2026 at UTC+14 is still 9 May in UTC: a check that compared instants, or
	// dates in UTC, would take 9 May for today.
	east := time.Date(2026, time.May, 10, 0, 30, 0, 0, time.FixedZone("UTC+14", 14*3600))
	// 23:30 on 9 May 2026 at UTC-12 is already 10 May in UTC.
	west := time.Date(2026, time.May, 9, 23, 30, 0, 0, time.FixedZone("UTC-12", -12*3600))

	const (
		shape    = "must be a date written YYYY-MM-DD"
		month    = "the month must be 01 to 12"
		day      = "that month has no such day"
		past     = "must be a date before today"
		tooEarly = "must be in 1900 or later"
	)
	tests := []struct {
		name    string
		dob     string
		today   time.Time
		wantErr string
	}{
		{"example of the reference", "1995-08-17", east, ""},
		{"another past date", "1987-08-17", east, ""},
		{"yesterday in today's location", "2026-05-09", east, ""},
		{"today", "2026-05-10", east, past},
		{"tomorrow", "2026-05-11", east, past},
		{"next month", "2026-06-01", east, past},
		{"next year", "2027-01-01", east, past},
		{"today in the west", "2026-05-09", west, past},
		{"yesterday in the west", "2026-05-08", west, ""},
		{"earlier this month", "2026-05-01", west, ""},
		{"first day of 1900", "1900-01-01", east, ""},
		{"last day of 1899", "1899-12-31", east, tooEarly},
		{"year 0001", "0001-01-01", east, tooEarly},
		{"leap day", "2024-02-29", east, ""},
		{"leap day of 2000", "2000-02-29", east, ""},
		{"no leap day in 2023", "2023-02-29", east, day},
		{"no leap day in 1900", "1900-02-29", east, day},
		{"30 February", "2023-02-30", east, day},
		{"31 April", "2023-04-31", east, day},
		{"day 00", "2023-01-00", east, day},
		{"day 32", "2023-01-32", east, day},
		{"month 13", "2023-13-01", east, month},
		{"month 00", "2023-00-10", east, month},
		{"empty", "", east, shape},
		{"two-digit year", "87-08-17", east, shape},
		{"slashes", "1987/08/17", east, shape},
		{"one-digit month", "1987-8-17", east, shape},
		{"day first", "17.08.1987", east, shape},
		{"day-month-year", "17-08-1987", east, shape},
		{"leading space", " 1987-08-17", east, shape},
		{"trailing space", "1987-08-17 ", east, shape},
		{"timestamp", "1987-08-17T00:00:00Z", east, shape},
		{"signed", "+995-08-17", east, shape},
		{"full-width digits", "１９８７-08-17", east, shape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rules.CheckDateOfBirth(tt.dob, tt.today)
			if msg := checkErr(err, tt.wantErr); msg != "" {
				t.Errorf("CheckDateOfBirth(%q, %v): %s", tt.dob, tt.today, msg)
			}
			// A date of birth is personal data: no part of it may be repeated. (The year 1900 is
			// part of a message, and 1995 of the example in another.)
			if y := tt.dob[:min(4, len(tt.dob))]; err != nil && len(y) == 4 && y != "1900" && y != "1995" && strings.Contains(err.Error(), y) {
				t.Errorf("CheckDateOfBirth(%q) = %q: the message repeats the date", tt.dob, err)
			}
		})
	}
}
