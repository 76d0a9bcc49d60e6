package api

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
)

// Sign returns the X-Processing-Signature of body: lowercase hex HMAC-SHA512 keyed with the
// API secret [docs/api.md "Authentication"]. Callbacks are signed the same way.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether sig is the signature of body, in constant time, so a
// callback handler can check what CryptoProcessing sent.
func VerifySignature(secret string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}
