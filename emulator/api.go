package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
)

// The documented error bodies, byte for byte [D S8, S10, S19]. invoice_not_found is the
// emulator's own [I]: the docs do not say what cancelling an unknown foreign_id returns.
var (
	bodyRequiredHeaderKey       = []byte(`{"error":"No key header","code":"required_header_key"}`)
	bodyBadHeaderKey            = []byte(`{"error":"Bad key header","code":"bad_header_key"}`)
	bodyRequiredHeaderSignature = []byte(`{"error":"No signature header","code":"required_header_signature"}`)
	bodyBadHeaderSignature      = []byte(`{"error":"Bad signature header","code":"bad_header_signature"}`)
	bodyBadContentFormat        = []byte(`{"error":"Bad content format","code":"bad_content_format"}`)
	bodyForeignIDTaken          = []byte(`{"errors":{"foreign_id":"The foreign id has already been taken."}}`)
	bodyInvalidInvoiceState     = []byte(`{"errors":{"error":"Invoice cannot be failed in its current state.","code":"invalid_invoice_state"}}`)
	bodyInvoiceNotFound         = []byte(`{"errors":{"error":"Invoice not found.","code":"invoice_not_found"}}`)
)

// sign is the documented signature: lowercase hex HMAC-SHA512 of the raw body [D S7].
func sign(secret string, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// handleAPI authenticates and answers one signed request. The checks run in the order of
// docs/api.md "What is not documented" [I]: key present, key known, signature present, signature matches,
// then Content-Type and JSON, then the endpoint's own validation. committed reports that a
// create stored a new invoice: it is that invoice's foreign_id (the drop
// fault only cuts those).
func (s *Server) handleAPI(r *http.Request, rt route) (status int, body []byte, committed string, key string) {
	key = r.Header.Get("X-Processing-Key")
	if key == "" {
		return http.StatusForbidden, bodyRequiredHeaderKey, "", ""
	}
	secret, ok := s.secrets[key]
	if !ok {
		return http.StatusForbidden, bodyBadHeaderKey, "", ""
	}
	sig := r.Header.Get("X-Processing-Signature")
	if sig == "" {
		return http.StatusForbidden, bodyRequiredHeaderSignature, "", key
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(raw) > maxBody {
		// A body we cannot read whole cannot be verified or parsed [I].
		return http.StatusBadRequest, bodyBadContentFormat, "", key
	}
	// Lowercase hex compared exactly, in constant time: an uppercase signature is refused,
	// as the docs ask for lowercase [D S7, "What is not documented"].
	if !hmac.Equal([]byte(sig), []byte(sign(secret, raw))) {
		return http.StatusForbidden, bodyBadHeaderSignature, "", key
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return http.StatusBadRequest, bodyBadContentFormat, "", key
	}
	// The body must be a JSON object or array, even where the endpoint takes no
	// parameters [D S19, "Authentication"] — or null, which Laravel reads as no input at all:
	// an independent SDK sends null to accounts/list and currencies/list, and its recorded
	// sandbox answers are successes [reference, "recorded answers"]. A create with a null
	// body then fails validation field by field; a cancel goes through, as with {}.
	trimmed := bytes.TrimSpace(raw)
	if !json.Valid(raw) || len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[' && string(trimmed) != "null") {
		return http.StatusBadRequest, bodyBadContentFormat, "", key
	}
	fields, isObject := decodeObject(raw)

	switch rt.name {
	case "accounts":
		return http.StatusOK, s.accounts(key), "", key
	case "currencies":
		return http.StatusOK, s.heldBody[key], "", key
	case "create":
		status, body, ok := s.create(key, s.held[key], fields)
		if ok {
			committed, _ = fields["foreign_id"].(string)
		}
		return status, body, committed, key
	case "cancel":
		// The cancel body must be exactly {} (additionalProperties: false) [D S9]; any
		// property is refused like a Laravel "prohibited" rule [I wording].
		if isObject && len(fields) > 0 {
			errs := map[string]string{}
			for name := range fields {
				errs[name] = "The " + attr(name) + " field is prohibited."
			}
			return http.StatusBadRequest, validationBody(errs), "", key
		}
		status, body = s.cancel(key, rt.foreignID)
		return status, body, "", key
	}
	return http.StatusForbidden, bodyRequiredHeaderKey, "", key
}

// decodeObject returns the top-level fields of a valid JSON body; an array gives no fields
// (Laravel reads a JSON list as input without the named keys).
func decodeObject(raw []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return map[string]any{}, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return map[string]any{}, false
	}
	return m, true
}

func validationBody(errs map[string]string) []byte {
	b, err := json.Marshal(struct {
		Errors map[string]string `json:"errors"`
	}{errs})
	if err != nil { // a map of strings always marshals
		return bodyBadContentFormat
	}
	return b
}
