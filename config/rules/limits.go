package rules

import "unicode/utf8"

// Length limits of the create-invoice request. Lengths stated in characters by the API are
// checked with RuneLen; MaxForeignID and MaxURL are checked in bytes (see CheckForeignID and
// CheckURL).
const (
	// MaxTitle is the longest title: docs/api.md "Creating an invoice", title length 1-50.
	MaxTitle = 50
	// MaxDescription is the longest description: docs/api.md "Creating an invoice", description max 1000.
	MaxDescription = 1000
	// MaxForeignID is the longest foreign_id: docs/api.md "Creating an invoice", foreign_id max 255.
	MaxForeignID = 255
	// MaxEndUserReference is the longest end_user_reference: docs/api.md "Creating an invoice" and "What is not documented", not stated
	// for invoices; the 255 of withdrawals is applied.
	MaxEndUserReference = 255
	// MaxSenderField is the longest sender_data string (first_name, last_name, legal_name...):
	// docs/api.md "What is not documented", not stated; "keep ≤ 255" is the safest assumption.
	MaxSenderField = 255
	// MaxURL is the longest url_success or url_failed: the reference gives no limit ("Creating an invoice", "Currencies"
	// only require https and a domain); 2048 is the conventional practical URL limit, our choice.
	MaxURL = 2048
)

// maxEmail is the longest e-mail address that fits an SMTP path (RFC 5321 §4.5.3.1.3: 256
// octets including the angle brackets).
const maxEmail = 254

// RuneLen is the length of s in characters (Unicode code points), for the limits that the API
// states in characters, such as MaxTitle.
func RuneLen(s string) int { return utf8.RuneCountInString(s) }
