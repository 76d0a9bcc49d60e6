package emulator

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// createRequest is a create body that passed validation.
type createRequest struct {
	timer            bool
	title            string
	description      string
	currency         string
	senderCurrency   string
	amount           *big.Rat
	foreignID        string
	endUserReference string
	urlSuccess       string
	urlFailed        string
	emailUser        string
	typ              string
	senderType       string
}

var (
	// plainDecimal is the amount syntax of configured bounds.
	plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	// numeric is what Laravel's "numeric" rule (PHP is_numeric) accepts, without the
	// surrounding whitespace PHP tolerates.
	numeric     = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	dateYMD     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	countryCode = regexp.MustCompile(`^[A-Z]{3}$`)
	hundredM    = big.NewRat(100_000_000, 1)
)

// attr turns a field name into Laravel's attribute words: email_user → "email user",
// sender_data.first_name → "sender data.first name".
func attr(field string) string { return strings.ReplaceAll(field, "_", " ") }

// validator collects one message per field, the first rule that fails, as Laravel's
// validator does, in the {"errors":{field: message}} envelope [D S19].
type validator struct {
	fields map[string]any
	errs   map[string]string
}

func (v *validator) fail(field, format string, args ...any) {
	if _, dup := v.errs[field]; !dup {
		v.errs[field] = fmt.Sprintf(format, args...)
	}
}

// str reads a string field: required or optional, with a maximum length in characters.
func (v *validator) str(field string, required bool, max int) (string, bool) {
	val, present := v.fields[field]
	if !present || val == nil || val == "" {
		if required {
			v.fail(field, "The %s field is required.", attr(field))
		}
		return "", false
	}
	s, ok := val.(string)
	if !ok {
		v.fail(field, "The %s must be a string.", attr(field))
		return "", false
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		v.fail(field, "The %s must not be greater than %d characters.", attr(field), max)
		return "", false
	}
	return s, true
}

func (v *validator) oneOf(field string, required bool, allowed ...string) (string, bool) {
	s, ok := v.str(field, required, 255)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	v.fail(field, "The selected %s is invalid.", attr(field))
	return "", false
}

// httpsURL applies the documented URL rules: HTTPS and a domain name, not an IP address
// [D S3]; the wording of the message is the emulator's [I].
func (v *validator) httpsURL(field string) (string, bool) {
	s, ok := v.str(field, true, 2048)
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		v.fail(field, "The %s must be a valid URL.", attr(field))
		return "", false
	}
	if u.Scheme != "https" || net.ParseIP(u.Hostname()) != nil || !strings.Contains(u.Hostname(), ".") {
		v.fail(field, "The %s must be an https URL with a domain name.", attr(field))
		return "", false
	}
	return s, true
}

func (v *validator) email(field string, required bool) (string, bool) {
	s, ok := v.str(field, required, 255)
	if !ok {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		v.fail(field, "The %s must be a valid email address.", attr(field))
		return "", false
	}
	return s, true
}

// amount accepts a JSON number or a numeric string ["What is not documented" I], greater than 0, with at most 8
// decimals.
func (v *validator) amount(field string) (*big.Rat, bool) {
	val, present := v.fields[field]
	if !present || val == nil || val == "" {
		v.fail(field, "The %s field is required.", attr(field))
		return nil, false
	}
	var text string
	switch x := val.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = x
	}
	r, ok := parseNumeric(text)
	if !ok {
		v.fail(field, "The %s must be a number.", attr(field))
		return nil, false
	}
	if r.Sign() <= 0 {
		v.fail(field, "The %s must be greater than 0.", attr(field))
		return nil, false
	}
	if !new(big.Rat).Mul(r, hundredM).IsInt() {
		v.fail(field, "The %s must have 0-8 decimal places.", attr(field))
		return nil, false
	}
	return r, true
}

// parseNumeric reads a numeric text exactly. Long texts and huge exponents are refused
// before big.Rat sees them: "1e999999999" would otherwise make it build a gigantic power
// of ten.
func parseNumeric(text string) (*big.Rat, bool) {
	if len(text) > 64 || !numeric.MatchString(text) {
		return nil, false
	}
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		exp := strings.TrimLeft(text[i+1:], "+-")
		if len(strings.TrimLeft(exp, "0")) > 2 { // |exponent| ≥ 100
			return nil, false
		}
	}
	return new(big.Rat).SetString(text)
}

// validateCreate checks a create body against the documented rules ("Creating an invoice") and the
// reference's required set ("What is not documented": timer, title, currency, amount, foreign_id,
// end_user_reference, url_success, url_failed, email_user). Unknown fields are ignored.
// The foreign_id uniqueness check is left to the caller, which holds the store lock.
//
// held are the currencies of the merchant's account: a code outside it is refused like an
// unknown one, with Laravel's message of the "in" rule ("The selected currency is invalid."),
// as the API's own wording for it is not documented [I].
func (s *Server) validateCreate(held map[string]bool, fields map[string]any) (createRequest, map[string]string) {
	v := &validator{fields: fields, errs: map[string]string{}}
	var req createRequest

	// Laravel's "boolean" rule: true, false, 1, 0, "1" and "0" [I: the API is a Laravel
	// backend, by its messages]; "true", 1.0 and anything else are refused.
	switch t := fields["timer"].(type) {
	case bool:
		req.timer = t
	case json.Number:
		switch t {
		case "1":
			req.timer = true
		case "0":
		default:
			v.fail("timer", "The timer field must be true or false.")
		}
	case string:
		switch t {
		case "1":
			req.timer = true
		case "0":
		case "":
			v.fail("timer", "The timer field is required.")
		default:
			v.fail("timer", "The timer field must be true or false.")
		}
	case nil:
		v.fail("timer", "The timer field is required.")
	default:
		v.fail("timer", "The timer field must be true or false.")
	}
	req.title, _ = v.str("title", true, 50)
	req.description, _ = v.str("description", false, 1000)

	cur, curOK := v.str("currency", true, 16)
	if curOK {
		if _, known := currencies[cur]; !known || !held[cur] {
			v.fail("currency", "The selected currency is invalid.")
			curOK = false
		}
	}
	req.currency = cur
	if sc, ok := v.str("sender_currency", false, 16); ok {
		if c, known := currencies[sc]; !known || !held[sc] || c.Type != "crypto" {
			v.fail("sender_currency", "The selected sender currency is invalid.")
		}
		req.senderCurrency = sc
	}

	if amt, ok := v.amount("amount"); ok {
		req.amount = amt
		if curOK {
			if min, has := s.min[cur]; has && amt.Cmp(min) < 0 {
				v.fail("amount", "The amount is too small. The minimum amount is %s %s.", s.opts.minText(cur), cur)
			} else if max, has := s.max[cur]; has && amt.Cmp(max) > 0 {
				v.fail("amount", "The amount is too large. The maximum amount is %s %s.", s.opts.maxText(cur), cur)
			}
		}
	}
	req.foreignID, _ = v.str("foreign_id", true, 255)
	req.endUserReference, _ = v.str("end_user_reference", true, 255)
	req.urlSuccess, _ = v.httpsURL("url_success")
	req.urlFailed, _ = v.httpsURL("url_failed")
	req.emailUser, _ = v.email("email_user", true)
	req.typ, _ = v.oneOf("type", false, "fill_or_kill", "good_until_expired")
	if req.typ == "" {
		req.typ = "fill_or_kill"
	}

	// sender_type and sender_data are required for a fixed-currency timer invoice [D S3, S14].
	needSender := req.timer && fields["sender_currency"] != nil && fields["sender_currency"] != ""
	st, stOK := v.oneOf("sender_type", false, "natural", "legal")
	if needSender && !stOK {
		v.fail("sender_type", "The sender type field is required when timer is true and sender currency is present.")
	}
	req.senderType = st
	sd, present := fields["sender_data"]
	switch {
	case !present || sd == nil:
		if needSender {
			v.fail("sender_data", "The sender data field is required when timer is true and sender currency is present.")
		}
	default:
		obj, ok := sd.(map[string]any)
		if !ok {
			v.fail("sender_data", "The sender data must be an array.")
			break
		}
		if stOK {
			s.validateSenderData(v, st, obj)
		}
	}
	return req, v.errs
}

func (s *Server) validateSenderData(parent *validator, senderType string, obj map[string]any) {
	v := &validator{fields: obj, errs: map[string]string{}}
	if senderType == "natural" {
		v.str("first_name", true, 255)
		v.str("last_name", true, 255)
		if dob, ok := v.str("date_of_birth", true, 10); ok {
			d, err := time.Parse("2006-01-02", dob)
			if !dateYMD.MatchString(dob) || err != nil {
				v.fail("date_of_birth", "The %s does not match the format Y-m-d.", attr("sender_data.date_of_birth"))
			} else if !d.Before(s.now().UTC().Truncate(24 * time.Hour)) {
				v.fail("date_of_birth", "The %s must be a date before today.", attr("sender_data.date_of_birth"))
			}
		}
	} else {
		v.str("legal_name", true, 255)
		if c, ok := v.str("country_of_registration", true, 3); ok && !countryCode.MatchString(c) {
			v.fail("country_of_registration", "The %s format is invalid.", attr("sender_data.country_of_registration"))
		}
	}
	v.email("email", false)
	for field, msg := range v.errs {
		// Messages name the nested attribute ("sender data.first name"), keys use dots.
		msg = strings.Replace(msg, "The "+attr(field)+" ", "The "+attr("sender_data."+field)+" ", 1)
		parent.fail("sender_data."+field, "%s", msg)
	}
}

func (o *Options) minText(cur string) string { return boundText(o.MinAmount, cur, "10.00") }
func (o *Options) maxText(cur string) string { return boundText(o.MaxAmount, cur, "10000.00") }

// boundText is the bound as configured, so the message reads "10.00 EUR" like the docs.
func boundText(m map[string]string, cur, def string) string {
	if m == nil {
		return def
	}
	for k, v := range m {
		if strings.EqualFold(k, cur) {
			return v
		}
	}
	return def
}
