// Package redact keeps known secret values (the API secret, a PostgreSQL password and
// connection string) out of everything the command writes: a Redactor holds the values, and
// its Writer replaces each whole occurrence of one, in whatever pieces the text is written, with
// "[redacted]". Values too short to be replaced without garbling ordinary text (and so giving
// the value away by what is left around it) are refused when added, never half-redacted.
package redact
