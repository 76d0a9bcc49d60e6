package hugepages

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// Reserve grows the heap by n bytes at once, advises that memory to huge pages and gives it
// back to the heap, untouched: the allocations that follow are made in it. It collects
// garbage once, which is cheap at the start of a command, where it belongs.
func Reserve(n int) {
	if n < 2*hugePage {
		return
	}
	b := make([]byte, n)
	Advise(unsafe.Pointer(unsafe.SliceData(b)), uintptr(n))
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
}

// Advise asks for the whole huge pages inside [p, p+n) to be backed by huge pages when first
// touched. p is memory nothing has touched yet (a fresh large allocation); failure only loses
// the advice.
func Advise(p unsafe.Pointer, n uintptr) {
	start := (uintptr(p) + hugePage - 1) &^ (hugePage - 1)
	end := (uintptr(p) + n) &^ (hugePage - 1)
	if end > start {
		// The address is memory the runtime mapped, not a Go pointer's use: a raw call.
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, 14 /* MADV_HUGEPAGE */)
	}
}

// available is what the system says it can give: MemAvailable, and with strict overcommit
// (vm.overcommit_memory = 2) at most what is left under CommitLimit. 0 when unknown.
func available() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	strict := false
	if m, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err == nil {
		strict = string(bytes.TrimSpace(m)) == "2"
	}
	return availableFrom(data, strict)
}

// availableFrom reads /proc/meminfo's text (values in kB).
func availableFrom(meminfo []byte, strict bool) int64 {
	v := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil || n < 0 {
			continue
		}
		v[string(bytes.TrimSuffix(f[0], []byte(":")))] = n << 10
	}
	avail, ok := v["MemAvailable"]
	if !ok {
		return 0
	}
	if strict {
		limit, ok1 := v["CommitLimit"]
		used, ok2 := v["Committed_AS"]
		if !ok1 || !ok2 || limit <= used {
			return 0
		}
		avail = min(avail, limit-used)
	}
	return avail
}
