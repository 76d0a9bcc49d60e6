package invoice

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Encode writes the canonical request body, the one encoding of a request in this module: the
// bytes apply signs and sends, plan and state hash, and a plan file carries. Compact JSON with
// the fields in the fixed order timer, title, description, currency, sender_currency, amount,
// foreign_id, end_user_reference, url_success, url_failed, email_user, type, sender_type,
// sender_data{first_name, last_name, date_of_birth, email, legal_name,
// country_of_registration}. The required fields are always written; description,
// sender_currency, type, sender_type and every sender_data field are left out when empty, and
// sender_data is left out when it has no field. The amount is a JSON number written from the
// exact decimal (no exponent, no trailing zeros). Strings are escaped minimally: `"` and `\`,
// \n \r \t, other control characters as \u00XX (so \b is \u0008), U+2028 and U+2029 as
// \u2028/\u2029, invalid UTF-8 as \ufffd; no HTML escaping. Equal requests give equal bytes.
func (r *Request) Encode() []byte {
	bp := encodeBuffers.Get().(*[]byte)
	b := r.appendTo((*bp)[:0])
	out := make([]byte, len(b)) // exactly sized: a load keeps a hundred thousand of these
	copy(out, b)
	*bp = b
	encodeBuffers.Put(bp)
	return out
}

var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (r *Request) appendTo(b []byte) []byte {
	b = append(b, `{"timer":`...)
	b = strconv.AppendBool(b, r.Timer)
	b = appendField(b, "title", r.Title, false)
	b = appendField(b, "description", r.Description, true)
	b = appendField(b, "currency", r.Currency, false)
	b = appendField(b, "sender_currency", r.SenderCurrency, true)
	b = append(b, `,"amount":`...)
	b = append(b, r.Amount.String()...)
	b = appendField(b, "foreign_id", r.ForeignID, false)
	b = appendField(b, "end_user_reference", r.EndUserReference, false)
	b = appendField(b, "url_success", r.URLSuccess, false)
	b = appendField(b, "url_failed", r.URLFailed, false)
	b = appendField(b, "email_user", r.EmailUser, false)
	b = appendField(b, "type", r.Type, true)
	b = appendField(b, "sender_type", r.SenderType, true)
	if sd := r.SenderData; sd != nil && *sd != (SenderData{}) {
		b = append(b, `,"sender_data":{`...)
		n := len(b)
		b = appendField(b, "first_name", sd.FirstName, true)
		b = appendField(b, "last_name", sd.LastName, true)
		b = appendField(b, "date_of_birth", sd.DateOfBirth, true)
		b = appendField(b, "email", sd.Email, true)
		b = appendField(b, "legal_name", sd.LegalName, true)
		b = appendField(b, "country_of_registration", sd.CountryOfRegistration, true)
		if len(b) > n {
			b = append(b[:n], b[n+1:]...) // drop the first field's leading comma
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// Hash returns the lowercase hex SHA-256 of a body: the hash plan compares with the state, and
// the state checks its stored bodies against.
func Hash(body []byte) string {
	sum := sha256.Sum256(body)
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	return string(h[:]) // one allocation, not hex.EncodeToString's two
}

func appendField(b []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Values reaching here are valid UTF-8 (cty strings
// are); anything else is replaced with U+FFFD rather than producing invalid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				switch c {
				case '\n':
					b = append(b, '\\', 'n')
				case '\r':
					b = append(b, '\\', 'r')
				case '\t':
					b = append(b, '\\', 't')
				default:
					b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				}
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript: escape as encoding/json does.
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// HashMatches reports whether hash is Hash(body), without allocating: stores check every
// record they read with it.
func HashMatches(body []byte, hash string) bool {
	sum := sha256.Sum256(body)
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	return hash == string(h[:])
}
