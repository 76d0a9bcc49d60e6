//go:build !race

package torture_test

// Under -race the binary is built with the race detector too, and runs slower: fewer rounds.
const (
	raceEnabled   = false
	defaultRounds = 4
)
