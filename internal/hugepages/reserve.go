package hugepages

import "os"

const (
	// hugePage is the size of a transparent huge page on amd64 and arm64 (4 KiB base pages).
	hugePage = 2 << 20
	// minReserve is the smallest reservation worth a collection: below it there are few faults.
	minReserve = 64 << 20
	// perInputByte is how many bytes of heap a byte of configuration becomes, about: 1,000,000
	// invoices from a 71 MB CSV file peak at 1.7 GB (2.4 GB with a state of them all), 100,000
	// literal blocks in 37 MB at 0.6 GB. The state a plan reads comes on top: 40, not 24.
	perInputByte = 40
)

// ReserveFor reserves (Reserve) what loading the configuration in dir is likely to need: 40
// times the size of its regular files, at most half the memory the system says is available
// (and half of what it will still commit, when it does not overcommit).
func ReserveFor(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var input int64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil {
			input += fi.Size()
		}
	}
	if n := reserveSize(input, available()); n > 0 {
		Reserve(n)
	}
}

// reserveSize is how much to reserve for input bytes of configuration on a system that can
// give avail bytes (0 when unknown: then nothing is reserved).
func reserveSize(input, avail int64) int {
	n := input * perInputByte
	n = min(n, avail/2)
	n &^= hugePage - 1
	if n < minReserve {
		return 0
	}
	return int(n)
}
