package config

import (
	"errors"
	"fmt"
	"io"
	"os"
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
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
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
