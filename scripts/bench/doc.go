// Command bench measures the real invoiceform binary end to end and prints a Markdown table:
//
//	go run ./scripts/bench                 # every scenario, 3 runs each
//	go run ./scripts/bench -runs=1 -only=plan-csv
//
// It builds the binary, generates manifests with internal/manifestgen (for_each over a CSV
// file, and literal invoice blocks in 10 or 100 files) at 10,000 and 100,000 invoices, and
// runs validate, plan against an empty state, plan against a state holding every invoice, and
// apply against a separate `invoiceform emulator` process with and without latency. For each
// scenario it reports wall time, CPU time (user + system) and peak resident memory of the
// process (from rusage), as the median of the runs with the range, and for apply the
// throughput and the ratio to the latency bound N × latency ÷ parallelism.
//
// With -scale=1m it runs issue 17's table instead, at 1,000,000 and 100,000 invoices: plan
// from a CSV against an empty state and against a state holding every invoice as issued
// (written straight into the bbolt file with Put in batches of 10,000, with the bodies the
// configuration gives, not by a million API calls), plan of literal blocks in 100 files (also
// with the evaluation cache on and empty, which writes every entry) and a re-plan after one
// of them changed (with the cache on, INVOICEFORM_CACHE_DIR, kept from a plan before), apply of -apply-n invoices (200,000 unless set) at no
// latency into a durable state, a state snapshot in a fresh process (this program again, in
// its -snapshot-of mode), a saved plan (plan -out, and apply PLANFILE up to its first request,
// refused on purpose by a changed -var) and the cost growth from 100,000 to 1,000,000; each
// row with its target and the ratio to it. -profile=DIR writes a CPU profile of every run of
// the binary.
//
// Each scenario but apply runs once unmeasured first (-warmup=N to change): on a virtual
// machine whose host takes back the memory a guest freed, the first run after a pause pays
// seconds of system time zeroing pages the host must hand back (docs/performance.md).
// The growth rows give the ratio of wall times, of CPU times and of peak RSS.
//
// Run it on an otherwise idle machine: it measures wall time.
package main
