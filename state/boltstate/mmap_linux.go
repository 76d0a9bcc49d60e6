package boltstate

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// dropBehind lets go of the pages of a read-only store's memory map read so far: they are the
// file's, still in the page cache, and mapped again if touched. Without it a snapshot of a
// state of 1,000,000 records (a 1.4 GB file) keeps 1.4 GB resident on top of the records it
// made, until the store is closed. Only for read-only stores, whose map never moves.
func dropBehind(db *bolt.DB, size int64) {
	if size <= 0 {
		return
	}
	// The address is bbolt's mapping, not a Go pointer: a raw call. Failure only loses the
	// advice.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(size), syscall.MADV_DONTNEED)
}
