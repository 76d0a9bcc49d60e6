//go:build !unix

package config

import "os"

// openNoFollow opens path for reading. Without O_NOFOLLOW the caller's Lstat, made just
// before, is what keeps symbolic links out.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}
