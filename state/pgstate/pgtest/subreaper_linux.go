package pgtest

import "syscall"

// setSubreaper makes the orphans of this process's children (the server pg_ctl starts)
// its children, so that it collects them when they exit.
func setSubreaper() {
	const prSetChildSubreaper = 36
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}
