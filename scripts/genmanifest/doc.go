// Command genmanifest writes a synthetic invoice manifest for benchmarks:
//
//	go run ./scripts/genmanifest -form=csv -n=100000 DIR
//	go run ./scripts/genmanifest -form=literal -n=100000 -files=100 DIR
package main
