package hugepages

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"testing"
)

func TestAvailableFrom(t *testing.T) {
	meminfo := []byte("MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\nCommitLimit:    12000000 kB\nCommitted_AS:   11000000 kB\n")
	if got, want := availableFrom(meminfo, false), int64(20000000)<<10; got != want {
		t.Errorf("overcommitting: %d, want %d", got, want)
	}
	if got, want := availableFrom(meminfo, true), int64(1000000)<<10; got != want {
		t.Errorf("strict: %d, want %d (CommitLimit - Committed_AS)", got, want)
	}
	if got := availableFrom([]byte("MemTotal: 1 kB\n"), false); got != 0 {
		t.Errorf("without MemAvailable: %d, want 0", got)
	}
	if got := availableFrom([]byte("MemAvailable: 5 kB\nCommitLimit: 1 kB\nCommitted_AS: 9 kB\n"), true); got != 0 {
		t.Errorf("over the commit limit: %d, want 0", got)
	}
}

// advisedBytes sums the sizes of this process's mappings that carry the huge page advice
// (flag "hg" in /proc/self/smaps).
func advisedBytes(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var total, size int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		switch {
		case len(f) >= 2 && string(f[0]) == "Size:":
			size, _ = strconv.ParseInt(string(f[1]), 10, 64)
		case len(f) >= 1 && string(f[0]) == "VmFlags:":
			for _, fl := range f[1:] {
				if string(fl) == "hg" {
					total += size << 10
				}
			}
		}
	}
	return total
}

// TestReserveAdvises: Reserve leaves about the memory it reserved advised to huge pages, when
// the kernel has transparent huge pages at all.
func TestReserveAdvises(t *testing.T) {
	before := advisedBytes(t)
	Reserve(128 << 20)
	after := advisedBytes(t)
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		// A kernel without transparent huge pages refuses the advice: Reserve must only
		// have done no harm.
		t.Logf("no transparent huge pages here (%v): advised %d -> %d bytes", err, before, after)
		return
	}
	if after-before < 120<<20 {
		t.Fatalf("advised %d -> %d bytes after reserving 128 MiB", before, after)
	}
}
