package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// FileFormat names the plan file; FileVersion is its version. A reader refuses a newer
// version rather than guess what an unknown field means to apply, and an older one: version
// 1 files held the request bodies (personal data included), and apply sent them as they
// were, so an edited file could send what nobody reviewed.
const (
	FileFormat  = "invoiceform-plan"
	FileVersion = 2
)

// Sentinel errors of plan files and their checks.
var (
	// ErrCorrupt is returned when a plan file is truncated, altered or not a plan file.
	ErrCorrupt = errors.New("not a valid invoiceform plan file (truncated, altered, or another kind of file)")
	// ErrNewerFormat is returned for a plan file written by a newer invoiceform.
	ErrNewerFormat = errors.New("plan file was written by a newer invoiceform")
	// ErrOlderFormat is returned for a plan file of an older format, which this invoiceform
	// no longer applies or shows.
	ErrOlderFormat = errors.New("plan file was written by an older invoiceform")
	// ErrStale is returned when the state has moved since the plan was made, or is another
	// state altogether (lineage).
	ErrStale = errors.New("plan is stale: the state changed since it was made")
	// ErrForeign is returned when the plan was made for another endpoint or API key.
	ErrForeign = errors.New("plan was made for another endpoint or API key")
)

// envelope is the plan file: the payload as exact bytes, and the SHA-256 of those bytes, so
// that any change to what apply would do is detected. CreatedAt is outside the checksum and
// outside every hash: it is for people only, and never decides anything.
type envelope struct {
	Format    string          `json:"format"`
	Version   int             `json:"version"`
	CreatedAt time.Time       `json:"created_at"`
	Checksum  string          `json:"checksum"`
	Plan      json.RawMessage `json:"plan"`
}

type filePlan struct {
	filePlanHead
	Changes []fileChange `json:"changes"`
	filePlanTail
}

// filePlanHead and filePlanTail are the members of a plan file's payload before and after
// its changes, which are written and read by hand (filecodec.go).
type filePlanHead struct {
	Lineage     string        `json:"lineage"`
	Serial      uint64        `json:"serial"`
	Binding     state.Binding `json:"binding"`
	ConfigHash  string        `json:"config_hash"`
	PlanHash    string        `json:"plan_hash"`
	Targets     []string      `json:"targets,omitempty"`
	Prune       bool          `json:"prune"`
	Diagnostics []fileDiag    `json:"diagnostics"`
}

type filePlanTail struct {
	// Settled and Statuses are what the review showed of the settled invoices and the
	// statuses; they are not changes, and no hash covers them (the checksum does).
	Settled  []Settled `json:"settled,omitempty"`
	Statuses *Statuses `json:"statuses,omitempty"`
}

type fileDiag struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *hcl.Range `json:"range,omitempty"`
}

// fileChange is what the review showed of one change, and nothing more: no request body and
// no personal data. apply rebuilds every declared body from the configuration and sends it
// only when it hashes to BodyHash (Verify); a resolve resends the state's own record, which
// must hash to Before.BodyHash.
type fileChange struct {
	Action    string     `json:"action"`
	ForeignID string     `json:"foreign_id"`
	Address   string     `json:"address,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Range     *hcl.Range `json:"range,omitempty"`
	Cancel    bool       `json:"cancel,omitempty"`
	// Status is Change.Status (what the review showed), for a no-op or undeclared change.
	Status string `json:"status,omitempty"`
	// Currency and Amount are those the review showed (Change.Money), for every change but
	// a no-op.
	Currency string         `json:"currency,omitempty"`
	Amount   invoice.Amount `json:"amount,omitzero"`
	// BodyHash is the declared body's hash; absent when nothing declares the foreign_id.
	BodyHash string      `json:"body_hash,omitempty"`
	Before   *fileRecord `json:"before,omitempty"`
}

// fileRecord is what the review showed of the state's record, and its body's hash.
type fileRecord struct {
	Phase    state.Phase `json:"phase"`
	Status   string      `json:"status,omitempty"`
	ID       int64       `json:"id,omitempty"`
	Currency string      `json:"currency,omitempty"`
	Amount   string      `json:"amount,omitempty"`
	BodyHash string      `json:"body_hash"`
}

// Encode writes p as a plan file's bytes. A plan with errors cannot be saved: apply could
// not use it.
func Encode(p *Plan, now time.Time) ([]byte, error) {
	// The payload is written after room for the envelope's head, which is put in front of it
	// once the checksum is known, rather than copying tens of megabytes behind a head.
	payload, err := encodePayload(p, headRoom)
	if err != nil {
		return nil, err
	}
	head, err := envelopeHead(now, sha256.Sum256(payload[headRoom:]))
	if err != nil {
		return nil, err
	}
	out := payload[headRoom-len(head):]
	copy(out, head)
	return append(out, '}'), nil
}

// EncodeTemp encodes p and writes it to a temporary file beside path, synced, with the bytes
// Encode gives; the payload is hashed while it is written. check, unless nil, sees the payload
// (all of the file but the envelope's format, version, time and checksum) first, and when it
// refuses it nothing is written.
func EncodeTemp(path string, p *Plan, now time.Time, check func([]byte) error) (*TempFile, error) {
	payload, err := encodePayload(p, 0)
	if err != nil {
		return nil, err
	}
	sum := make(chan [32]byte, 1)
	go func() { sum <- sha256.Sum256(payload) }()
	if check != nil {
		if err := check(payload); err != nil {
			return nil, err
		}
	}
	// The head's length does not depend on the checksum's digits: the payload goes behind
	// it now, and the head in front once the checksum is known.
	head, err := envelopeHead(now, [32]byte{})
	if err != nil {
		return nil, err
	}
	return writeTemp(path, func(f *os.File) error {
		if _, err := f.WriteAt(append(payload, '}'), int64(len(head))); err != nil {
			return err
		}
		head, err := envelopeHead(now, <-sum)
		if err != nil {
			return err
		}
		_, err = f.WriteAt(head, 0)
		return err
	})
}

// encodePayload is the plan object of p's file (the envelope's "plan"), behind room bytes.
func encodePayload(p *Plan, room int) ([]byte, error) {
	if p.HasErrors() {
		return nil, errors.New("plan: a plan with errors cannot be saved; fix them and plan again")
	}
	// The plan hash is computed beside the encoding, and written into the head's place for it
	// after: at 100,000 changes each takes tens of milliseconds.
	planHash := make(chan string, 1)
	go func() { planHash <- p.Hash() }()
	fp := filePlan{filePlanHead: filePlanHead{Lineage: p.Lineage, Serial: p.Serial, Binding: p.Binding, ConfigHash: p.ConfigHash,
		PlanHash: hashPlaceholder, Targets: p.Targets, Prune: p.Prune, Diagnostics: []fileDiag{}}, Changes: []fileChange{},
		filePlanTail: filePlanTail{Settled: p.Settled, Statuses: &p.Statuses}}
	for _, d := range p.Diagnostics {
		sev := "warning"
		if d.Severity == hcl.DiagError {
			sev = "error"
		}
		fp.Diagnostics = append(fp.Diagnostics, fileDiag{sev, d.Summary, d.Detail, d.Subject})
	}
	payload, err := marshalFilePlan(make([]byte, room, room+estimateFile(p.Changes)), &fp, len(p.Changes), func(i int) fileChange { return fileChangeOf(p.Changes[i]) })
	h := <-planHash
	if err != nil {
		return nil, err
	}
	// The key with its raw quotes is found only where it is a key: inside a JSON string a
	// quote is escaped.
	at := bytes.Index(payload[room:], []byte(`"plan_hash":"`+hashPlaceholder+`"`))
	if at < 0 || len(h) != len(hashPlaceholder) {
		return nil, errors.New("plan: the plan hash has no place in the file's head")
	}
	copy(payload[room+at+len(`"plan_hash":"`):], h)
	return payload, nil
}

// envelopeHead is the start of a plan file, up to its payload: `{"format":...,"plan":`.
func envelopeHead(now time.Time, sum [32]byte) ([]byte, error) {
	head, err := json.Marshal(envelope{Format: FileFormat, Version: FileVersion, CreatedAt: now.UTC(), Checksum: "sha256:" + hex.EncodeToString(sum[:])})
	if err != nil {
		return nil, err
	}
	// The payload is spliced in as is: marshalling it as a RawMessage would re-validate and
	// copy tens of megabytes at 100,000 invoices.
	head = bytes.TrimSuffix(head, []byte(`null}`))
	if len(head) > headRoom { // a time of another age: a year beyond 9999 does not marshal
		return nil, fmt.Errorf("plan: the envelope's head takes %d bytes", len(head))
	}
	return head, nil
}

// headRoom is the most an envelope's head takes: Encode leaves that much room in front of
// the payload.
const headRoom = 512

// hashPlaceholder holds the plan hash's place in a file being encoded: as long as the hex of
// a SHA-256, and not a hash any plan has.
var hashPlaceholder = strings.Repeat("-", 64)

// fileChangeOf is what the file keeps of c.
func fileChangeOf(c *Change) fileChange {
	fc := fileChange{Action: c.Action.String(), ForeignID: c.ForeignID, Address: c.Address(), Reason: c.Reason}
	if c.Action == NoOp || c.Action == Undeclared {
		fc.Status = c.Status
	}
	if c.Range.Filename != "" {
		fc.Range = &c.Range // only read
	}
	if c.After != nil {
		fc.Cancel = c.After.Cancel
		fc.BodyHash = c.After.BodyHash
	}
	if c.Action != NoOp {
		if cur, amt, ok := c.Money(); ok {
			fc.Currency, fc.Amount = cur, amt
		}
		if b := c.Before; b != nil {
			fc.Before = &fileRecord{Phase: b.Phase, Status: b.Status, ID: b.ID, Currency: b.Currency, Amount: b.Amount, BodyHash: b.BodyHash}
		}
	}
	return fc
}

// WriteFile saves p at path with mode 0600 (it holds amounts and ids, if no personal data), through a
// temporary file and a rename, so a crash never leaves a half-written plan under the name.
func WriteFile(path string, p *Plan, now time.Time) error {
	t, err := EncodeTemp(path, p, now, nil)
	if err != nil {
		return err
	}
	return t.Commit()
}

// TempFile is a plan file written and synced beside its path under a temporary name, not yet
// in place: plan writes it while the plan is shown and puts it in place only once the plan
// was shown whole.
type TempFile struct{ tmp, path string }

// writeTemp makes a temporary file beside path with mode 0600, has write fill it, and syncs
// it; on any failure the file is removed.
func writeTemp(path string, write func(*os.File) error) (*TempFile, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("plan: write %s: %w", path, err)
	}
	fail := func(err error) (*TempFile, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("plan: write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail(err)
	}
	if err := write(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("plan: write %s: %w", path, err)
	}
	return &TempFile{tmp: tmp.Name(), path: path}, nil
}

// Commit renames the file into place; on failure it is removed.
func (t *TempFile) Commit() error {
	if err := os.Rename(t.tmp, t.path); err != nil {
		os.Remove(t.tmp)
		return fmt.Errorf("plan: write %s: %w", t.path, err)
	}
	return nil
}

// Discard removes the file; nothing is put in place.
func (t *TempFile) Discard() { os.Remove(t.tmp) }

// maxFileSize bounds the plan files ReadFile reads: 100,000 creates take about 40 MB.
const maxFileSize = 1 << 30

// ReadFile reads a plan file, refusing one that is truncated, altered or newer, and anything
// that is not a regular file (reading /dev/zero would never end).
func ReadFile(path string) (*Plan, time.Time, error) {
	data, err := config.ReadRegularFile(path, maxFileSize)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("plan: %w", err)
	}
	p, created, err := Decode(data)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("plan: %s: %w", path, err)
	}
	return p, created, nil
}

// jsonProblem says what is wrong with JSON of n bytes and, for a syntax error, where: a file
// cut short ends early, one altered byte breaks the syntax at its offset.
func jsonProblem(err error, n int) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		if se.Offset >= int64(n) {
			return fmt.Sprintf("%v (after %d bytes: the file is cut short)", err, n)
		}
		return fmt.Sprintf("%v at byte %d of %d", err, se.Offset, n)
	}
	return err.Error()
}

// shortQuote quotes s for a message, cut to a readable length: the field comes from a file
// that may be anything.
func shortQuote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(strings.ToValidUTF8(s[:64], "")) + "..."
	}
	return strconv.Quote(s)
}

// isHash reports whether s is a lowercase hex SHA-256, as invoice.Hash writes it.
func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Decode parses a plan file's bytes, checking the checksum and the plan hash. Neither proves
// anything against someone who edits the file (both can be recomputed): they catch damage.
// What makes a saved plan safe to apply is Verify, against the configuration and the state.
// The plan has no request bodies until Attach or Verify gives them back.
func Decode(data []byte) (*Plan, time.Time, error) {
	// json.Unmarshal rather than a Decoder with DisallowUnknownFields: the checksum already
	// proves the content is what a plan wrote, the version says which fields it has, and a
	// Decoder copies a 60 MB plan through its buffer several times. A file as Encode writes it
	// is read by hand (decodeFile), exactly as json.Unmarshal reads it, and faster.
	env, fp, fast := decodeFile(data)
	if !fast {
		if err := json.Unmarshal(data, &env); err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %s", ErrCorrupt, jsonProblem(err, len(data)))
		}
	}
	if env.Format != FileFormat {
		return nil, time.Time{}, fmt.Errorf("%w: format is %s, want %q", ErrCorrupt, shortQuote(env.Format), FileFormat)
	}
	if env.Version > FileVersion {
		return nil, time.Time{}, fmt.Errorf("%w: version %d (this invoiceform reads version %d)", ErrNewerFormat, env.Version, FileVersion)
	}
	if env.Version < FileVersion {
		return nil, time.Time{}, fmt.Errorf("%w: version %d, which held the request bodies; this invoiceform reads only version %d, which holds none and is checked against the configuration", ErrOlderFormat, env.Version, FileVersion)
	}
	sum := sha256.Sum256(env.Plan)
	if env.Checksum != "sha256:"+hex.EncodeToString(sum[:]) {
		return nil, time.Time{}, fmt.Errorf("%w: checksum mismatch: the file was altered after it was written", ErrCorrupt)
	}
	if !fast {
		if err := json.Unmarshal(env.Plan, &fp); err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %s", ErrCorrupt, jsonProblem(err, len(env.Plan)))
		}
	}
	p := &Plan{Lineage: fp.Lineage, Serial: fp.Serial, Binding: fp.Binding, ConfigHash: fp.ConfigHash, Targets: fp.Targets, Prune: fp.Prune, Settled: fp.Settled, saved: true}
	if fp.Statuses != nil {
		p.Statuses = *fp.Statuses
	}
	p.Statuses.normalize()
	for _, d := range fp.Diagnostics {
		sev := hcl.DiagWarning
		if d.Severity == "error" {
			sev = hcl.DiagError
		}
		p.Diagnostics = append(p.Diagnostics, &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Subject: d.Range})
	}
	p.Changes = make([]*Change, 0, len(fp.Changes))
	// The changes and their payloads are allocated in three slabs, not three objects each.
	var nAfter, nBefore int
	for i := range fp.Changes {
		if fp.Changes[i].Address != "" {
			nAfter++
		}
		if fp.Changes[i].Before != nil {
			nBefore++
		}
	}
	changes, afters, befores := make([]Change, len(fp.Changes)), make([]Declared, nAfter), make([]Recorded, nBefore)
	for i := range fp.Changes {
		fc := &fp.Changes[i]
		a, ok := ParseAction(fc.Action)
		if !ok {
			return nil, time.Time{}, fmt.Errorf("%w: change %s has unknown action %s", ErrCorrupt, shortQuote(fc.ForeignID), shortQuote(fc.Action))
		}
		if fc.ForeignID == "" {
			return nil, time.Time{}, fmt.Errorf("%w: a change has no foreign_id", ErrCorrupt)
		}
		c := &changes[i]
		*c = Change{Action: a, ForeignID: fc.ForeignID, Reason: fc.Reason, Status: fc.Status}
		if fc.Range != nil {
			c.Range = *fc.Range
		}
		if b := fc.Before; b != nil {
			if !b.Phase.Valid() || !isHash(b.BodyHash) {
				return nil, time.Time{}, fmt.Errorf("%w: change %s: the record has phase %s and body hash %s", ErrCorrupt, shortQuote(fc.ForeignID), shortQuote(string(b.Phase)), shortQuote(b.BodyHash))
			}
			c.Before = &befores[0]
			befores = befores[1:]
			*c.Before = Recorded{Phase: b.Phase, Status: b.Status, ID: b.ID, Currency: b.Currency, Amount: b.Amount, BodyHash: b.BodyHash}
		}
		if fc.Address != "" {
			if !isHash(fc.BodyHash) {
				return nil, time.Time{}, fmt.Errorf("%w: change %s: body hash %s", ErrCorrupt, shortQuote(fc.ForeignID), shortQuote(fc.BodyHash))
			}
			c.After = &afters[0]
			afters = afters[1:]
			*c.After = Declared{Address: fc.Address, Cancel: fc.Cancel, BodyHash: fc.BodyHash}
		}
		if a != NoOp && fc.Currency != "" {
			if c.After != nil && a != Resolve {
				c.After.Currency, c.After.Amount = fc.Currency, fc.Amount
			} else if c.Before != nil {
				c.Before.RequestCurrency, c.Before.RequestAmount = fc.Currency, fc.Amount
			}
		}
		switch {
		case a == Create && c.After == nil:
			return nil, time.Time{}, fmt.Errorf("%w: create %s has no declared invoice", ErrCorrupt, shortQuote(fc.ForeignID))
		case (a == Resolve || a == Cancel || a == Undeclared || a == Conflict) && c.Before == nil:
			return nil, time.Time{}, fmt.Errorf("%w: %s %s has no record", ErrCorrupt, a, shortQuote(fc.ForeignID))
		}
		p.Changes = append(p.Changes, c)
	}
	if h := p.Hash(); h != fp.PlanHash {
		return nil, time.Time{}, fmt.Errorf("%w: plan hash mismatch", ErrCorrupt)
	}
	return p, env.CreatedAt, nil
}

// CheckFresh is what apply calls before it acts on a saved plan: the state must be the very
// one the plan was made against (same lineage and serial), and the endpoint and API key
// fingerprint apply will use must be the plan's. A plan made without an API key in the
// environment (its fingerprint empty) can be applied with any key the state accepts; the
// state's own binding check (state.ErrForeign) still guards that.
func CheckFresh(p *Plan, snap *state.Snapshot, b state.Binding) error {
	if snap == nil {
		snap = &state.Snapshot{}
	}
	if p.Lineage == "" {
		// Planned without a state file: apply creates the state, with a lineage of its own,
		// so only emptiness can be checked.
		if snap.Serial != 0 || len(snap.Records) > 0 {
			return fmt.Errorf("%w: it was made when there was no state, and the state now has serial %d and %d records", ErrStale, snap.Serial, len(snap.Records))
		}
	} else if p.Lineage != snap.Lineage {
		return fmt.Errorf("%w: it was made against another state (lineage %q; this state's is %q)", ErrStale, p.Lineage, snap.Lineage)
	}
	if p.Lineage != "" && p.Serial != snap.Serial {
		return fmt.Errorf("%w (serial %d when planned, %d now)", ErrStale, p.Serial, snap.Serial)
	}
	if p.Binding.Endpoint != b.Endpoint {
		return fmt.Errorf("%w: it was made for endpoint %s, and apply would use %s", ErrForeign, p.Binding.Endpoint, b.Endpoint)
	}
	if p.Binding.KeyFingerprint != "" && p.Binding.KeyFingerprint != b.KeyFingerprint {
		return fmt.Errorf("%w: it was made with API key fingerprint %s, and apply would use %s", ErrForeign, p.Binding.KeyFingerprint, orNone(b.KeyFingerprint))
	}
	if !snap.Binding.IsZero() && snap.Binding != b {
		return fmt.Errorf("%w: the state is bound to %s (key %s)", state.ErrForeign, snap.Binding.Endpoint, snap.Binding.KeyFingerprint)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no key"
	}
	return s
}
