//go:build race

package torture_test

// raceEnabled: the suite runs under -race, so the binary is built with it too.
const raceEnabled = true
