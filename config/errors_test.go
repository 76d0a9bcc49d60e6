package config_test

import (
	"strings"
	"testing"

	"github.com/invoiceform/invoiceform/config"
)

// TestErrorsAtOnce: one run reports every independent problem of a block, each once, and a
// block missing many attributes gets one error that lists them.
func TestErrorsAtOnce(t *testing.T) {
	for dir, want := range map[string][]string{
		"testdata/invalid/many_errors_one_block": {
			"Unsupported argument", "Unknown currency", "Incorrect attribute value type",
			"Invalid url_success", "Invalid date_of_birth", "Incorrect attribute value type",
		},
		"testdata/invalid/missing_many_attributes": {"Missing required attributes", "Missing sender_data attributes"},
		"testdata/invalid/for_each_errors_at_once": {
			"Too many decimal places", "Incorrect attribute value type", "Incorrect attribute value type", "Too many function arguments",
		},
	} {
		_, diags := config.Load(dir, config.LoadOptions{Today: today})
		var got []string
		for _, d := range diags {
			got = append(got, d.Summary)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: got\n  %s\nwant\n  %s", dir, strings.Join(got, "|"), strings.Join(want, "|"))
		}
	}
	_, diags := config.Load("testdata/invalid/missing_many_attributes", config.LoadOptions{Today: today})
	if len(diags) == 2 {
		for _, want := range []string{
			"The API requires currency, amount, timer, end_user_reference, url_success, url_failed and email_user; add to the invoice block:\n  currency = ...\n",
			"timer = ... (true: the invoice expires",
		} {
			if !strings.Contains(diags[0].Detail, want) {
				t.Errorf("detail %q\nlacks %q", diags[0].Detail, want)
			}
		}
		if want := "A legal sender needs legal_name and country_of_registration in sender_data."; diags[1].Detail != want {
			t.Errorf("detail %q, want %q", diags[1].Detail, want)
		}
	}
}
