// Package callback checks and decodes the API's signed invoice callbacks (docs/api.md,
// "Invoice statuses and callbacks"): the key, the HMAC-SHA512 of the raw body, and the
// documented shape. Nothing in a callback is believed before Verify and Decode pass.
package callback
