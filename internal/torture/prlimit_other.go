//go:build !linux

package torture

import (
	"errors"
	"syscall"
)

// prlimit is only on Linux; elsewhere the write-failure torture fails saying so.
func prlimit(pid, resource int, newLimit, old *syscall.Rlimit) error {
	return errors.New("prlimit(2) is only available on Linux")
}
