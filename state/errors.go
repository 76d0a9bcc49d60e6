package state

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Stores wrap them with the path or backend and a hint; match with errors.Is.
var (
	// ErrLocked is returned when another process holds the state's lock for longer than the
	// lock timeout.
	ErrLocked = errors.New("state is locked by another invoiceform process")

	// ErrForeign is returned when a state bound to one endpoint and API key is used with
	// another: a state made against the sandbox must never be applied against production.
	ErrForeign = errors.New("state belongs to another endpoint or API key")

	// ErrNewerFormat is returned when the state was written by a newer invoiceform whose format
	// this one cannot read; upgrading invoiceform is the fix, never rewriting the file.
	ErrNewerFormat = errors.New("state was written by a newer invoiceform")

	// ErrCorrupt is returned when a file or value is not a valid invoiceform state. The file is
	// left exactly as it was found.
	ErrCorrupt = errors.New("not a valid invoiceform state")

	// ErrNotFound is returned when a state that must exist does not (a read-only open of a
	// missing file), or when a foreign_id asked for is not in the state.
	ErrNotFound = errors.New("not found")

	// ErrReadOnly is returned when a store opened read-only is asked to write.
	ErrReadOnly = errors.New("state is open read-only")

	// ErrNotEmpty is returned when importing into a state that already has records or a
	// binding: an import never merges, so nothing issued can be overwritten.
	ErrNotEmpty = errors.New("state is not empty")

	// ErrClosed is returned when a closed store is used.
	ErrClosed = errors.New("state is closed")
)

// NotEmpty is ErrNotEmpty with what the state holds: its records, its binding (a state that
// an apply or an import has bound, even if every record was removed since), and callbacks of
// unknown invoices.
func NotEmpty(records int, endpoint string, unknownCallbacks int) error {
	var what []string
	if records > 0 {
		what = append(what, fmt.Sprintf("%d records", records))
	}
	if endpoint != "" {
		if records == 0 {
			what = append(what, fmt.Sprintf("no records, but it is bound to %s (an apply or import ran against it; removing records does not unbind it)", endpoint))
		} else {
			what = append(what, fmt.Sprintf("a binding to %s", endpoint))
		}
	}
	if unknownCallbacks > 0 {
		what = append(what, fmt.Sprintf("%d callbacks of unknown invoices", unknownCallbacks))
	}
	return fmt.Errorf("%w: it has %s", ErrNotEmpty, strings.Join(what, "; "))
}
