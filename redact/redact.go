package redact

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mask is what a secret is replaced with.
const Mask = "[redacted]"

// MinLen is the shortest secret that can be redacted safely. A shorter one would be replaced
// inside ordinary words ("Po[redacted]t" for a one-letter secret), which tells the secret
// away instead of hiding it.
const MinLen = 8

// ErrTooShort is returned by Add for a secret shorter than MinLen characters.
var ErrTooShort = errors.New("too short to keep out of the output safely")

// ErrLineBreak is returned by Add for a secret holding a line break or another control
// character: it would be split across lines and log records beyond recognition.
var ErrLineBreak = errors.New("holds a line break or another control character")

// Redactor holds the secret values. The zero value holds none and is ready to use; it is safe
// for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	patterns []string // every written form of every secret, longest first
	first    [256]bool
	maxLen   int
}

// Add registers a secret under a name for messages (e.g. "INVOICEFORM_API_SECRET"). An empty
// value is ignored. Besides the value itself, the forms it takes in JSON strings and in URLs
// (query and path escaping) are redacted too.
func (r *Redactor) Add(name, value string) error {
	if value == "" {
		return nil
	}
	if utf8.RuneCountInString(value) < MinLen {
		return fmt.Errorf("%s is %d characters long: %w (at least %d); a real secret is longer", name, utf8.RuneCountInString(value), ErrTooShort, MinLen)
	}
	if strings.ContainsFunc(value, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return fmt.Errorf("%s %w", name, ErrLineBreak)
	}
	forms := []string{value, url.QueryEscape(value), url.PathEscape(value)}
	if j, err := json.Marshal(value); err == nil {
		forms = append(forms, string(j[1:len(j)-1]))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range forms {
		if !slices.Contains(r.patterns, f) {
			r.patterns = append(r.patterns, f)
			r.first[f[0]] = true
			r.maxLen = max(r.maxLen, len(f))
		}
	}
	// Longest first, so that a connection string is masked whole, not around its password.
	slices.SortStableFunc(r.patterns, func(a, b string) int { return len(b) - len(a) })
	return nil
}

// String replaces every whole occurrence of a secret in s.
func (r *Redactor) String(s string) string {
	out, rest := r.scan(nil, []byte(s), true)
	return string(append(out, rest...))
}

// Bytes is String for bytes.
func (r *Redactor) Bytes(b []byte) []byte {
	out, rest := r.scan(nil, b, true)
	return append(out, rest...)
}

// Contains reports whether s holds a secret.
func (r *Redactor) Contains(s []byte) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.patterns {
		if strings.Contains(string(s), p) {
			return true
		}
	}
	return false
}

// scan appends to out the redaction of b. Unless final, it stops before a tail of b that is
// the start of a secret (it may continue in the next write) and returns that tail as rest.
func (r *Redactor) scan(out, b []byte, final bool) (_, rest []byte) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.patterns) == 0 {
		return append(out, b...), nil
	}
	start := 0
	for i := 0; i < len(b); i++ {
		if !r.first[b[i]] {
			continue
		}
		// What follows in a later write may make a longer secret of it: wait and see.
		if !final && len(b)-i < r.maxLen && r.prefixAt(b[i:]) {
			out = append(out, b[start:i]...)
			return out, b[i:]
		}
		if p := r.matchAt(b[i:]); p != "" {
			out = append(out, b[start:i]...)
			out = append(out, Mask...)
			i += len(p) - 1
			start = i + 1
		}
	}
	return append(out, b[start:]...), nil
}

func (r *Redactor) matchAt(b []byte) string {
	for _, p := range r.patterns {
		if len(b) >= len(p) && string(b[:len(p)]) == p {
			return p
		}
	}
	return ""
}

// prefixAt reports whether b, which is shorter than some secret, is the start of one.
func (r *Redactor) prefixAt(b []byte) bool {
	for _, p := range r.patterns {
		if len(b) < len(p) && strings.HasPrefix(p, string(b)) {
			return true
		}
	}
	return false
}

// Writer returns a writer that redacts what is written to w. It holds back the tail of a
// write that could be the start of a secret until the next write shows what follows; Flush
// writes what it holds. It is safe for concurrent use.
func (r *Redactor) Writer(w io.Writer) *Writer { return &Writer{r: r, w: w} }

// Writer is a redacting writer (Redactor.Writer).
type Writer struct {
	r    *Redactor
	w    io.Writer
	mu   sync.Mutex
	held []byte
	buf  []byte
}

// Write redacts p into the underlying writer. It reports len(p) when everything was either
// written or held back.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	in := p
	if len(w.held) > 0 {
		in = append(w.held, p...)
	}
	out, rest := w.r.scan(w.buf[:0], in, false)
	w.held = append(w.held[:0:0], rest...)
	w.buf = out
	if len(out) > 0 {
		if _, err := w.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what is held back: the start of a secret that did not continue is not a
// secret.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.held) == 0 {
		return nil
	}
	out, _ := w.r.scan(nil, w.held, true)
	w.held = nil
	_, err := w.w.Write(out)
	return err
}

// Underlying is the writer w writes to (for terminal checks).
func (w *Writer) Underlying() io.Writer { return w.w }
