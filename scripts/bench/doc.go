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
// Run it on an otherwise idle machine: it measures wall time.
package main
