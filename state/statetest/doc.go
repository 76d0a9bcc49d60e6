// Package statetest is the conformance suite every state.Store passes: round trips of every
// field, snapshot isolation, serials, bindings, imports, many concurrent writers and, for
// persistent stores, reopening. A backend's tests call Run with a Harness that makes fresh,
// empty stores (in t.TempDir() for files).
package statetest
