package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config/rules"
	"github.com/invoiceform/invoiceform/invoice"
)

// required are the fields the current API docs require (docs/api.md "What is not documented", "Required set").
var required = []string{"title", "currency", "amount", "timer", "foreign_id", "end_user_reference", "url_success", "url_failed", "email_user"}

// validate applies every rule of the reference and DESIGN.md to an evaluated invoice.
func (e *evaluator) validate() {
	r := &e.inv.Request
	inv := e.inv
	var missing []string
	for _, f := range required {
		if !e.set.has(f) && !e.bad.has(f) {
			missing = append(missing, f)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		f := missing[0]
		e.errorf(f, inv.DeclRange, "Missing required attribute", "The API requires %s; add %s = ... to the invoice block%s.", f, f, requiredHint(f))
	default:
		// One error for the block, not one per attribute with the same snippet.
		var lines []string
		for _, f := range missing {
			lines = append(lines, "  "+f+" = ..."+requiredHint(f))
		}
		e.errorf(missing[0], inv.DeclRange, "Missing required attributes", "The API requires %s; add to the invoice block:\n%s", joinAnd(missing), strings.Join(lines, "\n"))
	}

	if e.set.has("title") {
		e.length("title", r.Title, 1, rules.MaxTitle)
		e.singleLine("title", r.Title)
	}
	if e.set.has("description") {
		e.length("description", r.Description, 0, rules.MaxDescription)
	}
	if e.set.has("currency") {
		e.currency("currency", r.Currency)
	}
	if e.set.has("sender_currency") {
		if c, ok := e.currency("sender_currency", r.SenderCurrency); ok && c.Kind != invoice.Crypto {
			e.errorf("sender_currency", e.subject("sender_currency"), "Invalid sender_currency", "sender_currency is the cryptocurrency the customer pays in; %s is %s. Use a crypto code such as \"BTC\", or leave it out to let the customer choose.", c.Code, c.Kind)
		}
	}
	if e.set.has("amount") {
		e.checkAmount(r)
	}
	if e.set.has("foreign_id") {
		if err := rules.CheckForeignID(r.ForeignID); err != nil {
			e.errorf("foreign_id", e.subject("foreign_id"), "Invalid foreign_id", "The foreign_id %q %s.", r.ForeignID, err)
		} else {
			e.noPersonalData("foreign_id", r.ForeignID)
		}
	}
	if e.set.has("end_user_reference") {
		if e.length("end_user_reference", r.EndUserReference, 1, rules.MaxEndUserReference) {
			e.singleLine("end_user_reference", r.EndUserReference)
			e.noPersonalData("end_user_reference", r.EndUserReference)
		}
	}
	for _, f := range []string{"url_success", "url_failed"} {
		v := r.URLSuccess
		if f == "url_failed" {
			v = r.URLFailed
		}
		if e.set.has(f) {
			err := e.l.urls.check(v) // once per distinct URL of the load
			if err != nil {
				e.errorf(f, e.subject(f), "Invalid "+f, "The API sends the customer to %s after payment, so it must be an https URL on a public domain name: it %s.", f, err)
			}
		}
	}
	if e.set.has("email_user") {
		if err := rules.CheckEmail(r.EmailUser); err != nil {
			e.errorf("email_user", e.subject("email_user"), "Invalid email_user", "email_user is not a valid e-mail address: it %s.", err)
		}
	}
	if e.set.has("type") && r.Type != invoice.TypeFillOrKill && r.Type != invoice.TypeGoodUntilExpired {
		e.errorf("type", e.subject("type"), "Invalid invoice type", "type must be %q (pay in full or fail; the default) or %q (partial payments allowed until the invoice expires), not %q%s.",
			invoice.TypeFillOrKill, invoice.TypeGoodUntilExpired, r.Type, suggestName(r.Type, []string{invoice.TypeFillOrKill, invoice.TypeGoodUntilExpired}))
	}
	e.checkSender(r)
}

// urlCache remembers the URL rule's verdicts for the whole load: the instances of a for_each
// block, and literal invoice blocks by the thousand, mostly repeat the same few success and
// failure URLs. It stops growing at
// urlCacheMax distinct URLs, after which new ones are checked every time.
type urlCache struct {
	m sync.Map // URL -> error (nil: valid)
	n atomic.Int64
}

const urlCacheMax = 4096

func (c *urlCache) check(u string) error {
	if v, ok := c.m.Load(u); ok {
		if v == nil {
			return nil
		}
		return v.(error)
	}
	err := rules.CheckURL(u)
	if c.n.Load() < urlCacheMax {
		if _, loaded := c.m.LoadOrStore(u, err); !loaded {
			c.n.Add(1)
		}
	}
	return err
}

// joinAnd is "a", "a and b", "a, b and c".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func requiredHint(f string) string {
	switch f {
	case "timer":
		return " (true: the invoice expires 15 minutes after creation; false: no time limit)"
	case "end_user_reference":
		return " (your stable id of the paying customer, without personal data)"
	case "email_user":
		return " (the customer's e-mail address, used for refund instructions)"
	}
	return ""
}

// length checks a length rule stated in characters; it reports whether the value passed.
func (e *evaluator) length(field, v string, min, max int) bool {
	n := rules.RuneLen(v)
	switch {
	case n < min && min == 1:
		e.errorf(field, e.subject(field), "Empty "+field, "%s must not be empty.", field)
	case n > max:
		e.errorf(field, e.subject(field), field+" is too long", "%s is %d characters long; the API allows at most %d.", field, n, max)
	default:
		return true
	}
	return false
}

func (e *evaluator) singleLine(field, v string) {
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		e.errorf(field, e.subject(field), "Control character in "+field, "%s contains a control character (%U at byte %d), such as a line break or tab; write it on one line.", field, []rune(v[i:])[0], i)
	}
}

// currency checks a currency code: against the account's currencies when the directory has
// a lock file, else against invoiceform's table (the crypto codes and ISO 4217).
func (e *evaluator) currency(field, code string) (invoice.Currency, bool) {
	if lock := e.l.cfg.CurrencyLock; lock != nil {
		if c, ok := lock.Lookup(code); ok {
			return c.Currency(), true
		}
		hint := ""
		if s := suggestLocked(code, lock); s != "" {
			hint = fmt.Sprintf(" Did you mean %q?", s)
		}
		e.errorf(field, e.subject(field), "Currency not in the account", "%q is not a currency of the account: %s (written by \"invoiceform currencies\" from the account's /currencies/list) does not list it.%s The account has: %s. If the account has it now, run \"invoiceform currencies\" again and commit the file.",
			code, lock.File, hint, lock.Codes())
		return invoice.Currency{}, false
	}
	c, ok := invoice.LookupCurrency(code)
	if ok {
		return c, true
	}
	hint := ""
	if strings.EqualFold(code, "USDT") {
		hint = ` Tether has one code per network: "USDTT" (TRON), "USDTE" (Ethereum) or "USDTB" (BSC).`
	} else if s := rules.SuggestCurrency(code); s != "" {
		hint = fmt.Sprintf(" Did you mean %q?", s)
	}
	e.errorf(field, e.subject(field), "Unknown currency", "%q is not a currency code of the API.%s Known codes: the crypto codes %s, and the ISO 4217 codes of money (EUR, USD, GBP, JPY, ...).", code, hint, cryptoList())
	return invoice.Currency{}, false
}

// suggestLocked is the locked code closest to code, for "did you mean".
func suggestLocked(code string, lock *CurrencyLock) string {
	if s := rules.SuggestCurrency(code); s != "" {
		if _, ok := lock.Lookup(s); ok {
			return s
		}
	}
	for _, c := range lock.Currencies {
		if strings.EqualFold(c.Code, code) {
			return c.Code
		}
	}
	return ""
}

func cryptoList() string {
	var codes []string
	for _, c := range invoice.Currencies() {
		if c.Kind == invoice.Crypto {
			codes = append(codes, c.Code)
		}
	}
	return strings.Join(codes, ", ")
}

// lookupCurrency is the currency as the amount rules see it: the lock's when there is one.
func (e *evaluator) lookupCurrency(code string) (invoice.Currency, string, bool) {
	if lock := e.l.cfg.CurrencyLock; lock != nil {
		c, ok := lock.Lookup(code)
		return c.Currency(), " (" + lock.File + ")", ok
	}
	c, ok := invoice.LookupCurrency(code)
	return c, "", ok
}

func (e *evaluator) checkAmount(r *invoice.Request) {
	rng := e.subject("amount")
	if r.Amount.Sign() <= 0 {
		e.errorf("amount", rng, "Invalid amount", "The amount must be greater than zero; it is %s.", r.Amount)
		return
	}
	c, from, ok := e.lookupCurrency(r.Currency)
	if !ok {
		// The currency is reported at currency. When it has a likely meaning ("eur" for
		// EUR), the amount is checked against that too, so that one run reports both.
		e.checkAmountSuggested(r, rng)
		return
	}
	if p := r.Amount.Places(); p > int(c.Precision) {
		e.errorf("amount", rng, "Too many decimal places", "%s %s has %s; %s allows %d%s. Round the amount yourself: invoiceform never rounds money. (A computed number can carry binary noise; compute in strings or round with format(\"%%.%df\", ...).)",
			r.Amount, r.Currency, decimalPlaces(p), r.Currency, c.Precision, from, c.Precision)
	}
}

// checkAmountSuggested checks the places of an amount whose currency code is unknown only in
// its letter case ("eur"), against the currency it then plainly means, so that one run
// reports both. A code that is only close to one ("QQQ") means nothing for sure.
func (e *evaluator) checkAmountSuggested(r *invoice.Request, rng hcl.Range) {
	upper := strings.ToUpper(r.Currency)
	if upper == r.Currency {
		return
	}
	c, from, ok := e.lookupCurrency(upper)
	if !ok {
		return
	}
	if p := r.Amount.Places(); p > int(c.Precision) {
		e.errorf("amount", rng, "Too many decimal places", "%s has %s; %s, which currency %q means, allows %d%s. Round the amount yourself: invoiceform never rounds money.",
			r.Amount, decimalPlaces(p), upper, r.Currency, c.Precision, from)
	}
}

// decimalPlaces is "1 decimal place" or "N decimal places".
func decimalPlaces(n int) string {
	if n == 1 {
		return "1 decimal place"
	}
	return fmt.Sprintf("%d decimal places", n)
}

// noPersonalData enforces the API's rule that merchant ids carry no personal data: nothing
// e-mail-like, and nothing of a natural person: the sender's first or last name, e-mail
// address or date of birth. A company's legal name is not personal data (the GDPR protects
// natural persons only), so "acme-2025-03" is a fine id for Acme Ltd.
func (e *evaluator) noPersonalData(field, v string) {
	rng := e.subject(field)
	if rules.LooksLikeEmail(v) {
		e.errorf(field, rng, "Personal data in "+field, "%s contains an e-mail address. The API forbids personal data in it: use an opaque id such as an order or customer number.", field)
		return
	}
	r := &e.inv.Request
	if r.EmailUser != "" && strings.Contains(strings.ToLower(v), strings.ToLower(r.EmailUser)) {
		e.errorf(field, rng, "Personal data in "+field, "%s contains the customer's e-mail address. The API forbids personal data in it: use an opaque id.", field)
		return
	}
	sd := r.SenderData
	if sd == nil {
		return
	}
	if sd.Email != "" && strings.Contains(strings.ToLower(v), strings.ToLower(sd.Email)) {
		e.errorf(field, rng, "Personal data in "+field, "%s contains the sender's e-mail address. The API forbids personal data in it: use an opaque id.", field)
		return
	}
	if _, found := rules.ContainsPersonalName(v, sd.FirstName, sd.LastName); found {
		e.errorf(field, rng, "Personal data in "+field, "%s contains the sender's name. The API forbids personal data in it: use an opaque id such as an order or customer number.", field)
		return
	}
	if rules.ContainsDate(v, sd.DateOfBirth) {
		e.errorf(field, rng, "Personal data in "+field, "%s contains the sender's date of birth. The API forbids personal data in it: use an opaque id such as an order or customer number.", field)
	}
}

func (e *evaluator) checkSender(r *invoice.Request) {
	if !e.checkSenderType(r) {
		return
	}
	sd := r.SenderData
	if sd == nil {
		return
	}
	for _, f := range senderDataFields {
		fv := senderValue(sd, f)
		if !e.set.has("sender_data." + f) {
			continue
		}
		if e.length("sender_data."+f, fv, 1, rules.MaxSenderField) {
			e.singleLine("sender_data."+f, fv)
		}
	}
	if e.set.has("sender_data.date_of_birth") {
		if err := rules.CheckDateOfBirth(sd.DateOfBirth, e.l.opts.Today); err != nil {
			e.errorf("sender_data.date_of_birth", e.subject("sender_data.date_of_birth"), "Invalid date_of_birth", "date_of_birth must be a past date written YYYY-MM-DD (e.g. \"1995-08-17\"): it %s.", err)
		}
	}
	if e.set.has("sender_data.country_of_registration") {
		if err := rules.CheckCountryAlpha3(sd.CountryOfRegistration); err != nil {
			e.errorf("sender_data.country_of_registration", e.subject("sender_data.country_of_registration"), "Invalid country_of_registration", "country_of_registration %q is not accepted: %s.", sd.CountryOfRegistration, err)
		}
	}
	if e.set.has("sender_data.email") {
		if err := rules.CheckEmail(sd.Email); err != nil {
			e.errorf("sender_data.email", e.subject("sender_data.email"), "Invalid sender_data email", "email is not a valid e-mail address: it %s.", err)
		}
	}
}

// checkSenderType checks sender_type and what it requires of sender_data. It reports whether
// sender_data's own attributes are to be checked: not when it is missing or not expected.
// A sender_type that failed to evaluate, or that is not one of the two, has its error
// already: the attributes are then checked each on its own, not against the type.
func (e *evaluator) checkSenderType(r *invoice.Request) bool {
	inv := e.inv
	if e.bad.has("sender_type") {
		return true
	}
	if e.set.has("sender_type") && r.SenderType != invoice.SenderNatural && r.SenderType != invoice.SenderLegal {
		e.errorf("sender_type", e.subject("sender_type"), "Invalid sender_type", "sender_type must be %q (a person) or %q (a company), not %q%s.", invoice.SenderNatural, invoice.SenderLegal, r.SenderType, suggestName(r.SenderType, []string{invoice.SenderNatural, invoice.SenderLegal}))
		return true
	}
	if r.Timer && r.SenderCurrency != "" && r.SenderType == "" {
		e.errorf("sender_type", inv.DeclRange, "Missing sender_type", "An invoice with timer = true and a sender_currency fixes the currency and amount at once, and the API then requires the sender: add sender_type (%q or %q) and a sender_data block.", invoice.SenderNatural, invoice.SenderLegal)
		return false
	}
	sd := r.SenderData
	if r.SenderType == "" {
		if sd != nil {
			e.errorf("sender_data", e.subject("sender_data"), "sender_data without sender_type", "sender_data is read according to sender_type; add sender_type = %q or %q.", invoice.SenderNatural, invoice.SenderLegal)
		}
		return false
	}
	if sd == nil {
		e.errorf("sender_data", e.subject("sender_type"), "Missing sender_data", "With sender_type = %q the API needs a sender_data block with %s.", r.SenderType, strings.Join(senderRequired(r.SenderType), ", "))
		return false
	}
	var missing []string
	for _, f := range senderRequired(r.SenderType) {
		if !e.set.has("sender_data."+f) && !e.bad.has("sender_data."+f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		summary := "Missing sender_data attribute"
		if len(missing) > 1 {
			summary += "s"
		}
		e.errorf("sender_data."+missing[0], e.subject("sender_data"), summary, "A %s sender needs %s in sender_data.", r.SenderType, joinAnd(missing))
	}
	other := invoice.SenderLegal
	if r.SenderType == invoice.SenderLegal {
		other = invoice.SenderNatural
	}
	for _, f := range senderRequired(other) {
		if e.set.has("sender_data." + f) {
			e.errorf("sender_data."+f, e.subject("sender_data."+f), "Attribute not for this sender_type", "%s belongs to a %s sender, but sender_type is %q. Remove it, or change sender_type.", f, other, r.SenderType)
		}
	}
	return true
}

func senderRequired(senderType string) []string {
	if senderType == invoice.SenderLegal {
		return []string{"legal_name", "country_of_registration"}
	}
	return []string{"first_name", "last_name", "date_of_birth"}
}

func senderValue(sd *invoice.SenderData, f string) string {
	switch f {
	case "first_name":
		return sd.FirstName
	case "last_name":
		return sd.LastName
	case "date_of_birth":
		return sd.DateOfBirth
	case "email":
		return sd.Email
	case "legal_name":
		return sd.LegalName
	case "country_of_registration":
		return sd.CountryOfRegistration
	}
	return ""
}

// suggestName returns ` (did you mean "x"?)` for the closest candidate, or "".
func suggestName(given string, candidates []string) string {
	best := closestName(given, candidates)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// closestName is the candidate fewer than three edits from given (ignoring case), or "".
func closestName(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if n, m := utf8.RuneCountInString(given), utf8.RuneCountInString(c); n-m >= bestDist || m-n >= bestDist {
			continue // at least that many edits apart; a long value would cost seconds
		}
		if d := levenshtein.Distance(strings.ToLower(given), strings.ToLower(c), nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// CheckEndpoint checks an API base URL: https, or plain http only to a loopback address (the
// emulator); no user info, query or fragment.
func CheckEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.User != nil {
		return fmt.Errorf("must not carry user info: credentials come from INVOICEFORM_API_KEY and INVOICEFORM_API_SECRET")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not have a query or fragment", s)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%q uses plain http, which is allowed only to a loopback address such as the emulator; use https", s)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
