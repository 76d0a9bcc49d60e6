package invoice

import (
	"bytes"
	"encoding/json"
)

// Money reads the currency and the exact amount back from a request body, as a record in the
// state or a plan file keeps it. ok is false when the body is not a JSON object with a
// currency and a plain decimal amount; such a body counts in no total.
func Money(body []byte) (currency string, amount Amount, ok bool) {
	var req struct {
		Currency string      `json:"currency"`
		Amount   json.Number `json:"amount"`
	}
	// json.Number keeps the amount's exact text; Unmarshal, unlike a Decoder, allocates no
	// read buffer per body.
	if json.Unmarshal(body, &req) != nil || req.Currency == "" {
		return "", Amount{}, false
	}
	a, err := ParseAmount(req.Amount.String())
	if err != nil {
		return "", Amount{}, false
	}
	return req.Currency, a, true
}

// FormatMoney writes an amount as every output shows it: with the currency's places and
// thousands separators ("1,234.50" for EUR, "0.50000000" for BTC), never rounded.
func FormatMoney(currency string, a Amount) string { return a.Format(Places(currency)) }

// RedactBody replaces the PersonalFields of a JSON object body by Sensitive, keeping the order
// of the other fields. A body that is not a JSON object is replaced whole, since what it holds
// cannot be known.
func RedactBody(body []byte) []byte {
	if len(body) == 0 {
		return body
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out bytes.Buffer
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return []byte(`"(sensitive)"`)
	}
	out.WriteByte('{')
	for first := true; dec.More(); first = false {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return []byte(`"(sensitive)"`)
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return []byte(`"(sensitive)"`)
		}
		if !first {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		out.Write(k)
		out.WriteByte(':')
		if IsPersonal(key) {
			out.WriteString(`"(sensitive)"`)
		} else {
			out.Write(val)
		}
	}
	if _, err := dec.Token(); err != nil {
		return []byte(`"(sensitive)"`)
	}
	out.WriteByte('}')
	return out.Bytes()
}

// EncodeRedacted is RedactBody(r.Encode()) written from the typed fields instead of parsed
// back from JSON: ten times faster, which matters at 100,000 invoices. TestEncodeRedacted
// checks that both give the same bytes.
func (r *Request) EncodeRedacted() []byte {
	c := *r
	c.EmailUser = Sensitive
	c.SenderData = nil
	b := c.Encode()
	if r.SenderData != nil && *r.SenderData != (SenderData{}) {
		// The canonical encoding writes sender_data last.
		b = append(b[:len(b)-1], `,"sender_data":"(sensitive)"}`...)
	}
	return b
}
