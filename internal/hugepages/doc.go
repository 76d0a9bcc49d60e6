// Package hugepages asks Linux to back large, fresh memory with transparent huge pages.
//
// The Go runtime does not ask for huge pages (Go 1.21.1 stopped calling MADV_HUGEPAGE), and
// where the system's policy is "madvise" (/sys/kernel/mm/transparent_hugepage/enabled, the
// default of many distributions) the heap is then backed by 4 KiB pages, each faulted in on
// its first touch. On a virtual machine a fault is expensive: planning 1,000,000 invoices
// touches about 1.7 GB of fresh heap, and the faults were a third of its time. With huge pages
// a fault maps 2 MiB.
//
// Reserve grows the heap at once by about as much as a command will need, advises that
// memory and hands it back to the heap untouched, so the allocations that follow are made in
// it (the runtime maps its heap in 4 MiB pieces as it grows, each a new mapping without the
// advice). ReserveFor sizes it from the configuration's files and the memory the system has.
// Advise advises one large allocation (a slab of a state snapshot's records).
//
// It is advice only: where it is refused, unsupported or the policy is "never", nothing
// changes but the speed. Elsewhere than Linux every function does nothing.
package hugepages
