//go:build !race

package torture_test

// Under -race the binary is built with the race detector too.
const raceEnabled = false
