//go:build !linux

package boltstate

// readOnlyMmapFlags: elsewhere, the pages of the memory map are read as they are touched.
const readOnlyMmapFlags = 0
