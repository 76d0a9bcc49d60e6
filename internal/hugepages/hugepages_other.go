//go:build !linux

package hugepages

import "unsafe"

// Reserve does nothing here: the advice is Linux's.
func Reserve(int) {}

// Advise does nothing here.
func Advise(unsafe.Pointer, uintptr) {}

func available() int64 { return 0 }
