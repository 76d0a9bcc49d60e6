package state

import (
	"context"
	"fmt"
	"sync"
)

// Memory is an in-memory Store: for tests and for apply -emulator, whose state must never
// touch the real one. It passes the same conformance suite (state/statetest) as the file
// store; it is durable only for as long as the process lives.
type Memory struct {
	mu      sync.Mutex
	closed  bool
	records map[string]*Record
	unknown map[string]*UnknownCallback // by body hash
	lineage string
	serial  uint64
	binding Binding
}

var (
	_ Store         = (*Memory)(nil)
	_ CallbackStore = (*Memory)(nil)
)

// NewMemory returns an empty in-memory state with a new lineage.
func NewMemory() *Memory {
	return &Memory{records: map[string]*Record{}, unknown: map[string]*UnknownCallback{}, lineage: NewLineage()}
}

func (m *Memory) lock() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return fmt.Errorf("state: memory: %w", ErrClosed)
	}
	return nil
}

// Snapshot implements Store.
func (m *Memory) Snapshot(ctx context.Context) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	s := &Snapshot{Records: make(map[string]*Record, len(m.records)), Lineage: m.lineage, Serial: m.serial, Binding: m.binding}
	for id, r := range m.records {
		s.Records[id] = r.Clone()
	}
	for _, u := range m.unknown {
		c := *u
		c.Callback = u.Callback.Clone()
		s.Unknown = append(s.Unknown, &c)
	}
	SortUnknown(s.Unknown)
	return s, nil
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, records ...*Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, r := range records {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if len(records) == 0 {
		return nil
	}
	for _, r := range records {
		m.records[r.ForeignID] = MergeCallbacks(m.records[r.ForeignID], r).Clone()
	}
	m.serial++
	return nil
}

// RecordCallbacks implements CallbackStore.
func (m *Memory) RecordCallbacks(ctx context.Context, in []Incoming) ([]Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out, changed, unknown, err := ApplyIncoming(in,
		func(id string) (*Record, error) { return m.records[id], nil },
		func(hash string) (bool, error) { return m.unknown[hash] != nil, nil })
	if err != nil {
		return nil, err
	}
	for id, r := range changed {
		m.records[id] = r
	}
	for _, u := range unknown {
		m.unknown[u.BodyHash] = u
	}
	if len(changed) > 0 {
		m.serial++
	}
	return out, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, foreignIDs ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if len(foreignIDs) == 0 {
		return nil
	}
	for _, id := range foreignIDs {
		delete(m.records, id)
	}
	m.serial++
	return nil
}

// Bind implements Store.
func (m *Memory) Bind(ctx context.Context, b Binding) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if err := CheckBinding(m.binding, b); err != nil || m.binding == b {
		return err
	}
	m.binding = b
	m.serial++
	return nil
}

// Import implements Store.
func (m *Memory) Import(ctx context.Context, s *Snapshot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckImport(s); err != nil {
		return err
	}
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if len(m.records) > 0 || !m.binding.IsZero() {
		return fmt.Errorf("state: memory: import: %w (%d records)", ErrNotEmpty, len(m.records))
	}
	for id, r := range s.Records {
		m.records[id] = r.Clone()
	}
	for _, u := range s.Unknown {
		c := *u
		c.Callback = u.Callback.Clone()
		m.unknown[u.BodyHash] = &c
	}
	m.lineage, m.serial, m.binding = s.Lineage, s.Serial, s.Binding
	return nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// CheckBinding returns ErrForeign, with both bindings named, when a state bound to have is
// used with want. Stores call it so that every backend words the refusal the same way.
func CheckBinding(have, want Binding) error {
	if want.IsZero() {
		return fmt.Errorf("state: bind: empty binding")
	}
	if have.IsZero() || have == want {
		return nil
	}
	return fmt.Errorf("%w: the state was made with endpoint %s and API key %s…, now %s and key %s…", ErrForeign,
		have.Endpoint, have.KeyFingerprint, want.Endpoint, want.KeyFingerprint)
}

// CheckImport validates a snapshot before it is imported.
func CheckImport(s *Snapshot) error {
	if s == nil || s.Lineage == "" {
		return fmt.Errorf("state: import: %w: no lineage", ErrCorrupt)
	}
	for _, u := range s.Unknown {
		if err := u.Validate(); err != nil {
			return fmt.Errorf("state: import: %w", err)
		}
	}
	for id, r := range s.Records {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("state: import: %w", err)
		}
		if r.ForeignID != id {
			return fmt.Errorf("state: import: record %q filed under %q: %w", r.ForeignID, id, ErrCorrupt)
		}
	}
	return nil
}
