//go:build unix

package apply_test

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time (the emulator's included: it runs in
// the same process).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
