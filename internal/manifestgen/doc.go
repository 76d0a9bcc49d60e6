// Package manifestgen writes synthetic invoice manifests of any size, for benchmarks and the
// bench scripts: for_each over a CSV file, or literal invoice blocks spread over many files.
// The output is deterministic for a given size, and valid.
package manifestgen
