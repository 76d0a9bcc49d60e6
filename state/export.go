package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ExportFormat names the export document; ExportVersion is its version, raised whenever a
// field is added or changes meaning: an import refuses fields it does not know rather than
// silently drop what it cannot store. Version 2 added each record's callback history and
// paid_at, and the unknown callbacks; version 1 documents are still read.
const (
	ExportFormat  = "invoiceform-state"
	ExportVersion = 2
)

// Export is the JSON document of `invoiceform state export`: a complete, exact copy of a
// state, records sorted by foreign_id so that two exports of the same state are identical.
type Export struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Lineage string    `json:"lineage"`
	Serial  uint64    `json:"serial"`
	Binding Binding   `json:"binding"`
	Records []*Record `json:"records"`
	// Unknown are the callbacks for foreign_ids the state does not know (version 2).
	Unknown []*UnknownCallback `json:"unknown_callbacks,omitempty"`
}

// NewExport makes the export document of s.
func NewExport(s *Snapshot) *Export {
	e := &Export{Format: ExportFormat, Version: ExportVersion, Lineage: s.Lineage, Serial: s.Serial,
		Binding: s.Binding, Records: SortedRecords(s), Unknown: s.Unknown}
	return e
}

// SortedRecords returns the records of s sorted by foreign_id.
func SortedRecords(s *Snapshot) []*Record {
	out := make([]*Record, 0, len(s.Records))
	for _, r := range s.Records {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ForeignID < out[j].ForeignID })
	return out
}

// WriteExport writes s as an indented export document.
func WriteExport(w io.Writer, s *Snapshot) error {
	b, err := json.MarshalIndent(NewExport(s), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadExport parses an export document into a snapshot, checking every record.
func ReadExport(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var e Export
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: not an export document: %v", ErrCorrupt, err)
	}
	if e.Format != ExportFormat {
		format := e.Format
		if len(format) > 64 {
			format = strings.ToValidUTF8(format[:64], "") + "..."
		}
		return nil, fmt.Errorf("%w: format is %q, want %q", ErrCorrupt, format, ExportFormat)
	}
	if e.Version > ExportVersion {
		return nil, fmt.Errorf("%w: export version %d (this invoiceform reads up to %d)", ErrNewerFormat, e.Version, ExportVersion)
	}
	s := &Snapshot{Records: make(map[string]*Record, len(e.Records)), Lineage: e.Lineage, Serial: e.Serial, Binding: e.Binding}
	if e.Version < 2 && len(e.Unknown) > 0 {
		return nil, fmt.Errorf("%w: unknown_callbacks in an export of version %d", ErrCorrupt, e.Version)
	}
	seen := map[string]bool{}
	for _, u := range e.Unknown {
		if err := u.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if seen[u.BodyHash] {
			return nil, fmt.Errorf("%w: unknown callback %s appears twice", ErrCorrupt, u.BodyHash)
		}
		seen[u.BodyHash] = true
		s.Unknown = append(s.Unknown, u)
	}
	SortUnknown(s.Unknown)
	for _, r := range e.Records {
		if r == nil {
			return nil, fmt.Errorf("%w: null record", ErrCorrupt)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if e.Version < 2 && (len(r.History) > 0 || !r.PaidAt.IsZero()) {
			return nil, fmt.Errorf("%w: record %q has a history in an export of version %d", ErrCorrupt, r.ForeignID, e.Version)
		}
		if id, ok := bodyForeignID(r.Body); ok && id != r.ForeignID {
			// The key was edited, or the record moved: the body says which invoice it is.
			return nil, fmt.Errorf("%w: record %q holds the request of foreign_id %q", ErrCorrupt, r.ForeignID, id)
		}
		if _, dup := s.Records[r.ForeignID]; dup {
			return nil, fmt.Errorf("%w: foreign_id %q appears twice", ErrCorrupt, r.ForeignID)
		}
		s.Records[r.ForeignID] = r
	}
	if err := CheckImport(s); err != nil {
		return nil, err
	}
	return s, nil
}

// bodyForeignID is the foreign_id a request body names, when it is a JSON object with one.
func bodyForeignID(body []byte) (string, bool) {
	var b struct {
		ForeignID *string `json:"foreign_id"`
	}
	if json.Unmarshal(body, &b) != nil || b.ForeignID == nil {
		return "", false
	}
	return *b.ForeignID, true
}
