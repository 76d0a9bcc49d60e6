package boltstate

import "syscall"

// readOnlyMmapFlags populate a read-only store's memory map when it is made: a snapshot reads
// every page of the file, and one populating call costs far less than a fault per page (a
// state of 1,000,000 records is a file of 1.4 GB).
const readOnlyMmapFlags = syscall.MAP_POPULATE
