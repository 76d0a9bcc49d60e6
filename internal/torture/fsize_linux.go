package torture

import (
	"fmt"
	"syscall"
	"unsafe"
)

// LimitFileSize sets the RLIMIT_FSIZE of process pid to n bytes (soft and hard): its writes
// at or beyond offset n then fail with EFBIG, as on a full disk, whatever its privileges (a
// root process ignores file modes, not this). Go programs ignore the SIGXFSZ that comes with
// it.
func LimitFileSize(pid int, n uint64) error {
	lim := syscall.Rlimit{Cur: n, Max: n}
	if err := prlimit(pid, syscall.RLIMIT_FSIZE, &lim, nil); err != nil {
		return fmt.Errorf("torture: limiting the file size of process %d: %w", pid, err)
	}
	var got syscall.Rlimit
	if err := prlimit(pid, syscall.RLIMIT_FSIZE, nil, &got); err != nil {
		return fmt.Errorf("torture: reading the file size limit of process %d: %w", pid, err)
	}
	if got.Cur != n {
		return fmt.Errorf("torture: the file size limit of process %d is %d after setting %d", pid, got.Cur, n)
	}
	return nil
}

// prlimit is prlimit(2), which the syscall package keeps to itself.
func prlimit(pid, resource int, newLimit, old *syscall.Rlimit) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(resource),
		uintptr(unsafe.Pointer(newLimit)), uintptr(unsafe.Pointer(old)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
