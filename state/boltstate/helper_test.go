package boltstate_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/boltstate"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// runHelper is the body of a helper process. It never returns normally: it exits.
func runHelper(kind, path string) {
	switch kind {
	case "open":
		// Open the state read-only and writable, print each error (the permission test).
		for _, ro := range []bool{true, false} {
			s, err := boltstate.Open(path, boltstate.Options{ReadOnly: ro})
			if err == nil {
				s.Close()
			}
			fmt.Printf("read-only=%t corrupt=%t err=%v\n", ro, errors.Is(err, state.ErrCorrupt), err)
		}
		os.Exit(0)
	case "lock", "rlock":
		// Hold the exclusive (lock) or shared (rlock) lock until stdin is closed.
		s, err := boltstate.Open(path, boltstate.Options{ReadOnly: kind == "rlock"})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		s.Close()
		os.Exit(0)
	case "crash":
		// Put records until killed (statetest.WriteUntilKilled).
		s, err := boltstate.Open(path, boltstate.Options{Writers: 16})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		statetest.WriteUntilKilled(s, os.Getenv("BOLTSTATE_ROUND"))
	case "create-limited":
		// Create a state with writes limited to 8 KiB, as on a full disk: the creation
		// must fail and leave nothing behind.
		lim := syscall.Rlimit{Cur: 8192, Max: 8192}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(2)
		}
		s, err := boltstate.Open(path, boltstate.Options{})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		s.Close()
		fmt.Println("created")
		os.Exit(0)
	}
	fmt.Println("unknown helper", kind)
	os.Exit(2)
}
