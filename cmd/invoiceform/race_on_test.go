//go:build race

package main

// raceEnabled: the race detector slows the binary tenfold or more, so tests that feed it huge
// inputs feed smaller ones.
const raceEnabled = true
