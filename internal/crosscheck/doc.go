// Package crosscheck holds only tests: properties that span config, api, apply and the state,
// which no single one of those packages can check alone (the bytes config writes are the
// bytes api sends and the hash the state stores).
package crosscheck
