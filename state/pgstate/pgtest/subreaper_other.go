//go:build unix && !linux

package pgtest

func setSubreaper() {}
