package invoice

import "fmt"

// Request is the create-invoice request, with the API's field names in the JSON tags. Empty
// strings are fields that were not set and are not sent. Encode writes its canonical body.
type Request struct {
	Timer            bool        `json:"timer"`
	Title            string      `json:"title"`
	Description      string      `json:"description,omitempty"`
	Currency         string      `json:"currency"`
	SenderCurrency   string      `json:"sender_currency,omitempty"`
	Amount           Amount      `json:"amount"`
	ForeignID        string      `json:"foreign_id"`
	EndUserReference string      `json:"end_user_reference"`
	URLSuccess       string      `json:"url_success"`
	URLFailed        string      `json:"url_failed"`
	EmailUser        string      `json:"email_user"`
	Type             string      `json:"type,omitempty"`
	SenderType       string      `json:"sender_type,omitempty"`
	SenderData       *SenderData `json:"sender_data,omitempty"`
}

// SenderData is the sender_data object: natural persons use the name and birth date, legal
// persons the company name and country. Personal data: its Format method never prints it.
type SenderData struct {
	FirstName             string `json:"first_name,omitempty"`
	LastName              string `json:"last_name,omitempty"`
	DateOfBirth           string `json:"date_of_birth,omitempty"`
	Email                 string `json:"email,omitempty"`
	LegalName             string `json:"legal_name,omitempty"`
	CountryOfRegistration string `json:"country_of_registration,omitempty"`
}

// Invoice types (the API's `type` field) and sender types.
const (
	TypeFillOrKill       = "fill_or_kill"
	TypeGoodUntilExpired = "good_until_expired"
	SenderNatural        = "natural"
	SenderLegal          = "legal"
)

// PersonalFields are the request fields that hold personal data; outputs show them as
// Sensitive unless the operator asks for them.
var PersonalFields = []string{"email_user", "sender_data"}

// Sensitive is what outputs show in place of a personal field.
const Sensitive = "(sensitive)"

// IsPersonal reports whether the request field name holds personal data.
func IsPersonal(field string) bool {
	for _, f := range PersonalFields {
		if f == field {
			return true
		}
	}
	return false
}

// Format keeps personal data out of logs and errors: %v of a SenderData prints no field.
func (s SenderData) Format(f fmt.State, _ rune) { fmt.Fprint(f, "invoice.SenderData{(sensitive)}") }

// Format prints the request with email_user and sender_data shown as (sensitive), as the plan
// output does, so a request in a log or an error message carries no personal data.
func (r Request) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "invoice.Request{ForeignID:%q, Currency:%q, Amount:%q, Timer:%t, Title:%q, EmailUser:(sensitive), SenderData:(sensitive)}",
		r.ForeignID, r.Currency, r.Amount.String(), r.Timer, r.Title)
}
