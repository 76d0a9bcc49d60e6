package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MaxFileSize bounds every file the configuration reads: .hcl files, -var-file files and
// the files of the file functions.
const MaxFileSize = maxFileSize

// ErrNotRegular is returned by ReadRegularFile when the path is not a regular file (a
// directory, a device, a FIFO or a socket).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned by ReadRegularFile when the file is larger than the limit.
var ErrTooLarge = errors.New("file too large")

// ReadRegularFile reads the file at path (symbolic links followed) when it is a regular file
// of at most max bytes. Anything else is refused before it is read: /dev/zero never ends, a
// FIFO blocks until something writes to it, and both are a -var-file or plan file away.
func ReadRegularFile(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, st, max); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Again on the open file: the path may have been replaced in between.
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(path, st, max); err != nil {
		return nil, err
	}
	// Read into a buffer of the file's size: io.ReadAll grows its buffer step by step from
	// 512 bytes, which for a 30 MB plan file is dozens of reallocations and several times its
	// size copied. The size is only a hint: the limit holds if the file grows meanwhile.
	var buf bytes.Buffer
	buf.Grow(int(min(st.Size(), max)) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > max {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
	}
	return buf.Bytes(), nil
}

// ErrLinkOutside is returned for a configuration file that is a symbolic link leading outside
// the configuration directory.
var ErrLinkOutside = errors.New("a symbolic link that leads outside the configuration directory; configuration files must be regular files inside it")

// readConfigFile reads a configuration file (a *.hcl file of the directory whose absolute
// path, symbolic links resolved, is realDir). It must be a regular file inside the
// directory: a symbolic link is followed only to a regular file inside it (a link to
// /proc/self/environ or to another checkout's secrets is refused unread), and a FIFO, a device
// or a directory is refused too. The error names the file and holds none of its content.
//
// The file is opened without following a link in its last element and without blocking on
// a FIFO, and is checked again once open (fstat): a file swapped after the checks by the
// path is still either refused or the regular file that was checked.
func readConfigFile(realDir, path string) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	target := path
	if st.Mode()&os.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("a symbolic link that leads to nothing that can be read")}
		}
		abs, err := filepath.Abs(resolved)
		if err != nil || !within(realDir, abs) {
			return nil, &os.PathError{Op: "read", Path: path, Err: ErrLinkOutside}
		}
		target = abs
		if st, err = os.Lstat(target); err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("a symbolic link that leads to nothing that can be read")}
		}
	}
	if err := checkRegular(path, st, maxFileSize); err != nil {
		return nil, err
	}
	f, err := openNoFollow(target)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: it changed while being read", ErrNotRegular)}
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(path, st, maxFileSize); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("the file could not be read")}
	}
	if int64(len(data)) > maxFileSize {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, int64(maxFileSize))}
	}
	return data, nil
}

// checkRegular says, as an *os.PathError like the os package's own, why st cannot be read.
func checkRegular(path string, st os.FileInfo, max int64) error {
	var err error
	switch {
	case st.IsDir():
		err = fmt.Errorf("%w: it is a directory", ErrNotRegular)
	case !st.Mode().IsRegular():
		err = fmt.Errorf("%w: it is %s", ErrNotRegular, kind(st.Mode()))
	case st.Size() > max:
		err = fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, st.Size(), max)
	default:
		return nil
	}
	return &os.PathError{Op: "read", Path: path, Err: err}
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}
