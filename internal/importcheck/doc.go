// Package importcheck holds the one test of the module's import graph: a rule per package
// saying which of our packages it may import, checked against `go list` for every package
// of the module, so that a new package fails until it is given a rule.
package importcheck
