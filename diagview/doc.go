// Package diagview renders HCL diagnostics for people and for programs: as text with the
// offending source line (coloured on a terminal), or as a versioned JSON document whose field
// names are a stable contract (documented in docs/json-diagnostics.md).
package diagview
