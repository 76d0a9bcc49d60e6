package boltstate

import (
	"syscall"
	"unsafe"

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

// hugePages asks for the memory of a large, fresh allocation (a slab of a snapshot's records)
// to be backed by huge pages, before it is first touched: on a virtual machine each first
// touch of a 4 KiB page is an expensive fault, and a snapshot of 1,000,000 summaries spent a
// third of its time in them. Only whole 2 MiB pages inside the allocation are advised; failure
// only loses the advice.
func hugePages(p unsafe.Pointer, size uintptr) {
	const huge = 2 << 20
	start := (uintptr(p) + huge - 1) &^ (huge - 1)
	end := (uintptr(p) + size) &^ (huge - 1)
	if end <= start {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, 14 /* MADV_HUGEPAGE */)
}
