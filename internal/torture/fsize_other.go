//go:build !linux

package torture

import "errors"

// LimitFileSize needs Linux's prlimit(2); elsewhere the write-failure torture fails saying so.
func LimitFileSize(pid int, n uint64) error {
	return errors.New("torture: limiting another process's file size needs Linux's prlimit(2)")
}
