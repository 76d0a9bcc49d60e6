// Package plan computes what apply would do: the pure diff between the declared invoices
// (package config) and the local state (package state), as a Plan of typed Changes. It also
// holds the plan file format (WriteFile, EncodeTemp, ReadFile, CheckFresh) and the three views of a plan:
// human text, a versioned JSON document, and a Markdown pull-request comment. All three are
// rendered from one Document, so the JSON is the contract and the others cannot disagree with it.
//
// The package does no I/O of its own beyond the plan file functions: Make takes values and
// returns values, so every row of DESIGN.md's "Plan semantics" table is a table test.
// It imports config and state, never api or emulator: planning needs no credentials and no
// network.
package plan
