//go:build !linux

package boltstate

import (
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// dropBehind: elsewhere the pages of the map stay resident until the store is closed.
func dropBehind(*bolt.DB, int64) {}

// hugePages: the advice is Linux's.
func hugePages(unsafe.Pointer, uintptr) {}
