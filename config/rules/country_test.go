package rules_test

import (
	"slices"
	"testing"

	"github.com/invoiceform/invoiceform/config/rules"
)

func TestCheckCountryAlpha3(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"DEU", ""},
		{"GBR", ""},
		{"USA", ""},
		{"ALA", ""}, // Åland Islands
		{"COM", ""}, // Comoros, whose alpha-2 is KM
		{"ZWE", ""}, // last of the table
		{"ABW", ""}, // first of the table
		{"deu", `use upper case "DEU"`},
		{"Deu", `use upper case "DEU"`},
		{" DEU", `must not have spaces around it; use "DEU"`},
		{"deu\n", `must not have spaces around it; use "DEU"`},
		{"DE", `"DE" is an ISO 3166-1 alpha-2 code; use the alpha-3 code "DEU"`},
		{"de", `"de" is an ISO 3166-1 alpha-2 code; use the alpha-3 code "DEU"`},
		{"GB", `use the alpha-3 code "GBR"`},
		{"KM", `use the alpha-3 code "COM"`},
		{"UK", `"UK" is not an ISO 3166-1 code; use the alpha-3 code "GBR"`},
		{"EL", `use the alpha-3 code "GRC"`},
		{"GER", `is not an ISO 3166-1 alpha-3 country code (e.g. "DEU")`}, // common, but not ISO
		{"XKX", "is not an ISO 3166-1 alpha-3 country code"},              // Kosovo: user-assigned
		{"EUR", "is not an ISO 3166-1 alpha-3 country code"},
		{"Germany", "is not an ISO 3166-1 alpha-3 country code"},
		{"276", "is not an ISO 3166-1 alpha-3 country code"}, // numeric code
		{"", "is not an ISO 3166-1 alpha-3 country code"},
		{"XX", "is not an ISO 3166-1 alpha-3 country code"},
	}
	for _, tt := range tests {
		if msg := checkErr(rules.CheckCountryAlpha3(tt.in), tt.wantErr); msg != "" {
			t.Errorf("CheckCountryAlpha3(%q): %s", tt.in, msg)
		}
	}
}

// TestCountryTable checks the whole ISO 3166-1 table for consistency.
func TestCountryTable(t *testing.T) {
	table := rules.CountryTable()
	if len(table) != 249 {
		t.Errorf("the table has %d countries, want the 249 officially assigned codes", len(table))
	}
	var a3s, a2s []string
	for _, c := range table {
		a3s = append(a3s, c.Alpha3)
		a2s = append(a2s, c.Alpha2)
		if !isUpperASCII(c.Alpha3, 3) || !isUpperASCII(c.Alpha2, 2) {
			t.Errorf("malformed row %+v", c)
		}
		if err := rules.CheckCountryAlpha3(c.Alpha3); err != nil {
			t.Errorf("CheckCountryAlpha3(%q) = %v, want nil", c.Alpha3, err)
		}
	}
	if !slices.IsSorted(a3s) {
		t.Error("the table is not sorted by alpha-3")
	}
	if n := len(slices.Compact(slices.Clone(a3s))); n != len(a3s) {
		t.Errorf("%d duplicate alpha-3 codes", len(a3s)-n)
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(a2s)))); n != len(a2s) {
		t.Errorf("%d duplicate alpha-2 codes", len(a2s)-n)
	}

	index := rules.Alpha2Index()
	for _, c := range table {
		if got := index[c.Alpha2]; got != c.Alpha3 {
			t.Errorf("index[%q] = %q, want %q", c.Alpha2, got, c.Alpha3)
		}
	}
	for a2, a3 := range index {
		if !slices.Contains(a3s, a3) {
			t.Errorf("alpha-2 %q maps to %q, which is not an alpha-3 code of the table", a2, a3)
		}
		// The hint must name exactly that code, and the code it names must be accepted.
		if msg := checkErr(rules.CheckCountryAlpha3(a2), `use the alpha-3 code "`+a3+`"`); msg != "" {
			t.Errorf("CheckCountryAlpha3(%q): %s", a2, msg)
		}
	}
	if extra := len(index) - len(table); extra != 2 {
		t.Errorf("the index has %d entries beyond the table, want 2 (UK and EL)", extra)
	}

	// Spot checks against the standard, for rows that are easy to get wrong.
	for a2, a3 := range map[string]string{
		"DE": "DEU", "AT": "AUT", "CH": "CHE", "GB": "GBR", "US": "USA", "ES": "ESP", "KM": "COM",
		"AX": "ALA", "SS": "SSD", "CW": "CUW", "BQ": "BES", "SX": "SXM", "RS": "SRB", "ME": "MNE",
		"TL": "TLS", "PS": "PSE", "EH": "ESH", "YT": "MYT", "KP": "PRK", "KR": "KOR", "SZ": "SWZ",
	} {
		if got := index[a2]; got != a3 {
			t.Errorf("index[%q] = %q, want %q", a2, got, a3)
		}
	}
	for _, retired := range []string{"ANT", "SCG", "YUG", "ZAR", "TMP", "BUR", "CSK", "XKX"} {
		if slices.Contains(a3s, retired) {
			t.Errorf("%q is not an officially assigned code today", retired)
		}
	}
}

func isUpperASCII(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
