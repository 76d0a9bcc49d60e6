package boltstate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"
	"unsafe"

	"github.com/invoiceform/invoiceform/internal/hugepages"
	"github.com/invoiceform/invoiceform/state"
)

// codecV2 leads every record value written by format 2: the fields of codecV1 followed by a
// CRC-32C of everything before it, so that a flipped byte anywhere in a record (an amount, an
// id, a status, not only the body its hash covers) is found when it is read. codecV1 values
// (format 1, no checksum) and values that start with '{' (format 0, JSON) are still read, so
// that a read-only open of an old file works; a writable open migrates them.
//
// codecV3 (format 3) appends the callback-owned fields, still before the checksum: the paid
// time and the history of accepted callbacks.
const (
	codecV1 = 1
	codecV2 = 2
	codecV3 = 3
)

// crcTable is CRC-32C (Castagnoli), computed in hardware on amd64 and arm64.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errChecksum is returned for a record whose bytes do not match their checksum.
var errChecksum = errors.New("checksum mismatch: the record's bytes were changed after it was written")

var errShort = errors.New("value ends early")

// encodeRecord appends the binary form of r: the version byte, then each field in a fixed
// order, strings as uvarint length and bytes, integers as varints, optional values behind a
// presence byte, times as Unix seconds and nanoseconds (UTC).
func encodeRecord(buf []byte, r *state.Record) []byte {
	start := len(buf)
	buf = append(buf, codecV3)
	for _, s := range []string{r.ForeignID, string(r.Phase), r.BodyHash} {
		buf = appendString(buf, s)
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.Body)))
	buf = append(buf, r.Body...)
	for _, s := range []string{r.URL, r.Address, r.Status, r.Currency, r.Amount, r.SenderCurrency, r.SenderAmount, r.LastError} {
		buf = appendString(buf, s)
	}
	buf = binary.AppendVarint(buf, r.ID)
	buf = appendOptInt(buf, r.FixedAt)
	buf = appendOptInt(buf, r.ReleaseAt)
	if r.DetailsKnown {
		buf = append(buf, 1)
	} else {
		buf = append(buf, 0)
	}
	for _, t := range []time.Time{r.CreatedAt, r.UpdatedAt, r.IssuedAt} {
		buf = appendTime(buf, t)
	}
	buf = appendTime(buf, r.PaidAt)
	buf = binary.AppendUvarint(buf, uint64(len(r.History)))
	for i := range r.History {
		buf = appendCallback(buf, &r.History[i])
	}
	return binary.BigEndian.AppendUint32(buf, crc32.Checksum(buf[start:], crcTable))
}

func appendCallback(buf []byte, c *state.Callback) []byte {
	buf = appendTime(buf, c.ReceivedAt)
	for _, s := range []string{c.Status, c.Error, c.SentCurrency, c.SentAmount, c.SentRemaining, c.ReceivedCurrency, c.ReceivedAmount, c.BodyHash} {
		buf = appendString(buf, s)
	}
	buf = binary.AppendUvarint(buf, uint64(len(c.TxIDs)))
	for _, s := range c.TxIDs {
		buf = appendString(buf, s)
	}
	return buf
}

func (d *decoder) callback(c *state.Callback) {
	c.ReceivedAt = d.time()
	for _, p := range []*string{&c.Status, &c.Error, &c.SentCurrency, &c.SentAmount, &c.SentRemaining, &c.ReceivedCurrency, &c.ReceivedAmount, &c.BodyHash} {
		*p = d.str()
	}
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.fail(errShort)
		return
	}
	if n > 0 {
		c.TxIDs = make([]string, n)
		for i := range c.TxIDs {
			c.TxIDs[i] = d.str()
		}
	}
}

// unknownV1 leads the value of an unknown callback: foreign_id, invoice id, the callback,
// then a CRC-32C of everything before it.
const unknownV1 = 1

func encodeUnknown(u *state.UnknownCallback) []byte {
	buf := appendString([]byte{unknownV1}, u.ForeignID)
	buf = binary.AppendVarint(buf, u.InvoiceID)
	buf = appendCallback(buf, &u.Callback)
	return binary.BigEndian.AppendUint32(buf, crc32.Checksum(buf, crcTable))
}

func decodeUnknown(v []byte) (*state.UnknownCallback, error) {
	if len(v) < 1+crc32.Size {
		return nil, errShort
	}
	if v[0] != unknownV1 {
		return nil, fmt.Errorf("unknown callback encoding %d", v[0])
	}
	n := len(v) - crc32.Size
	if crc32.Checksum(v[:n], crcTable) != binary.BigEndian.Uint32(v[n:]) {
		return nil, errChecksum
	}
	d := decoder{s: string(v[1:n])}
	u := &state.UnknownCallback{}
	u.ForeignID = d.str()
	u.InvoiceID = d.varint()
	d.callback(&u.Callback)
	if d.err != nil {
		return nil, d.err
	}
	if len(d.s) != 0 {
		return nil, fmt.Errorf("%d bytes after the unknown callback", len(d.s))
	}
	return u, u.Validate()
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendOptInt(buf []byte, p *int64) []byte {
	if p == nil {
		return append(buf, 0)
	}
	return binary.AppendVarint(append(buf, 1), *p)
}

func appendTime(buf []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(buf, 0)
	}
	buf = binary.AppendVarint(append(buf, 1), t.Unix())
	return binary.AppendUvarint(buf, uint64(t.Nanosecond()))
}

// decodeRecord decodes a stored value. Every error is a value, whatever the input (fuzzed).
func decodeRecord(v []byte) (*state.Record, error) {
	r := &state.Record{}
	return r, decodeInto(v, r, new([2]int64), nil)
}

// arena holds the bytes of many decoded records in a few large blocks: the records' strings
// and bodies point into it. A snapshot of 100,000 records otherwise spends most of its time
// allocating and collecting a million small objects.
type arena struct{ block []byte }

// arenaBlock is the size of an arena's blocks: two huge pages (hugePages).
const arenaBlock = 4 << 20

// copy returns a copy of v that nothing else refers to, with no spare capacity, so that
// appending to one record's Body can never write into another field.
func (a *arena) copy(v []byte) []byte {
	if a == nil {
		return bytes.Clone(v)
	}
	if cap(a.block)-len(a.block) < len(v) {
		a.block = make([]byte, 0, max(arenaBlock, len(v)))
		hugepages.Advise(unsafe.Pointer(unsafe.SliceData(a.block)), uintptr(cap(a.block)))
	}
	n := len(a.block)
	a.block = append(a.block, v...)
	return a.block[n:len(a.block):len(a.block)]
}

// decodeInto decodes v into r, using ints for FixedAt and ReleaseAt: a snapshot passes
// slices of slabs allocated once for all records, as allocation and the garbage collector
// were most of its time.
func decodeInto(v []byte, r *state.Record, ints *[2]int64, a *arena) error {
	if len(v) == 0 {
		return errShort
	}
	if v[0] == '{' {
		old, err := decodeV0(v)
		if err == nil {
			*r = *old
		}
		return err
	}
	fields := v[1:]
	switch v[0] {
	case codecV1:
	case codecV2, codecV3:
		if len(v) < 1+crc32.Size {
			return errShort
		}
		n := len(v) - crc32.Size
		if crc32.Checksum(v[:n], crcTable) != binary.BigEndian.Uint32(v[n:]) {
			return errChecksum
		}
		fields = v[1:n]
	default:
		return fmt.Errorf("unknown record encoding %d", v[0])
	}
	// One copy of the fields; the string fields and the body are slices of it. The copy is
	// never written to (Body has no spare capacity and is its own region), which is what makes
	// viewing it as a string sound.
	own := a.copy(fields)
	d := decoder{s: unsafe.String(unsafe.SliceData(own), len(own))}
	r.ForeignID = d.str()
	r.Phase = state.Phase(d.str())
	r.BodyHash = d.str()
	if body := d.str(); body != "" {
		end := len(own) - len(d.s)
		start := end - len(body)
		r.Body = own[start:end:end]
	}
	for _, p := range []*string{&r.URL, &r.Address, &r.Status, &r.Currency, &r.Amount, &r.SenderCurrency, &r.SenderAmount, &r.LastError} {
		*p = d.str()
	}
	r.ID = d.varint()
	r.FixedAt = d.optInt(&ints[0])
	r.ReleaseAt = d.optInt(&ints[1])
	r.DetailsKnown = d.flag()
	r.CreatedAt, r.UpdatedAt, r.IssuedAt = d.time(), d.time(), d.time()
	r.PaidAt, r.History = time.Time{}, nil
	if v[0] == codecV3 {
		r.PaidAt = d.time()
		n := d.uvarint()
		if n > uint64(len(d.s)) {
			d.fail(errShort)
		} else if n > 0 {
			r.History = make([]state.Callback, n)
			for i := range r.History {
				d.callback(&r.History[i])
			}
		}
	}
	if d.err != nil {
		return d.err
	}
	if len(d.s) != 0 {
		return fmt.Errorf("%d bytes after the record", len(d.s))
	}
	return nil
}

// decodeSummary decodes the summary of v into r and asks full about it. When full says no,
// r holds what state.Record.Summarized keeps, its strings copied into a; when it says yes (or
// the value is of a format without a checksum, 0 or 1), r is left for decodeInto. The value's
// checksum is checked either way, and nothing of v is kept: it is bbolt's memory map.
func decodeSummary(v []byte, r *state.Record, a *arena, full func(state.Summary) bool) (bool, error) {
	if len(v) == 0 {
		return false, errShort
	}
	if v[0] != codecV2 && v[0] != codecV3 {
		return true, nil
	}
	if len(v) < 1+crc32.Size {
		return false, errShort
	}
	n := len(v) - crc32.Size
	if crc32.Checksum(v[:n], crcTable) != binary.BigEndian.Uint32(v[n:]) {
		return false, errChecksum
	}
	d := decoder{s: unsafe.String(unsafe.SliceData(v[1:n]), n-1)}
	id, phase, hash := d.str(), d.str(), d.str()
	d.str() // body
	d.str() // url
	d.str() // address
	status, currency, amount := d.str(), d.str(), d.str()
	d.str() // sender currency
	d.str() // sender amount
	d.str() // last error
	var ints [2]int64
	r.ID = d.varint()
	d.optInt(&ints[0])
	d.optInt(&ints[1])
	r.DetailsKnown = d.flag()
	r.CreatedAt, r.UpdatedAt, r.IssuedAt = d.time(), d.time(), d.time()
	if v[0] == codecV3 {
		r.PaidAt = d.time()
	}
	if d.err != nil {
		return false, d.err
	}
	// The rest (the history) is left unread: the checksum covered it, and a record read whole
	// is decoded again from the start.
	sum := state.Summary{ForeignID: a.str(id), Phase: internPhase(phase, a), BodyHash: a.str(hash), Status: internStatus(status, a)}
	if !sum.Phase.Valid() || sum.ForeignID == "" || full(sum) {
		// A damaged record is read whole, which says what is wrong with it.
		return true, nil
	}
	r.ForeignID, r.Phase, r.BodyHash, r.Status = sum.ForeignID, sum.Phase, sum.BodyHash, sum.Status
	r.Currency, r.Amount = internStatus(currency, a), a.str(amount)
	return false, nil
}

// str copies s into the arena.
func (a *arena) str(s string) string {
	if s == "" {
		return ""
	}
	b := a.copy(unsafe.Slice(unsafe.StringData(s), len(s)))
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func internPhase(p string, a *arena) state.Phase {
	switch state.Phase(p) {
	case state.Issued:
		return state.Issued
	case state.Pending:
		return state.Pending
	case state.Cancelled:
		return state.Cancelled
	}
	return state.Phase(a.str(p))
}

// internStatus returns the common statuses and currencies without a copy.
func internStatus(s string, a *arena) string {
	switch s {
	case "created":
		return "created"
	case "pending":
		return "pending"
	case "processing":
		return "processing"
	case "confirmed":
		return "confirmed"
	case "cancelled":
		return "cancelled"
	case "EUR":
		return "EUR"
	case "USD":
		return "USD"
	case "BTC":
		return "BTC"
	}
	return a.str(s)
}

type decoder struct {
	s   string
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.s = ""
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	for i, shift := 0, uint(0); i < len(d.s); i, shift = i+1, shift+7 {
		b := d.s[i]
		if i == binary.MaxVarintLen64-1 && b > 1 || i >= binary.MaxVarintLen64 {
			d.fail(errors.New("varint overflows 64 bits"))
			return 0
		}
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			d.s = d.s[i+1:]
			return x
		}
	}
	d.fail(errShort)
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.fail(errShort)
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

func (d *decoder) flag() bool {
	if len(d.s) == 0 {
		d.fail(errShort)
		return false
	}
	b := d.s[0]
	d.s = d.s[1:]
	if b > 1 {
		d.fail(fmt.Errorf("flag byte %d", b))
	}
	return b == 1
}

func (d *decoder) optInt(p *int64) *int64 {
	if !d.flag() {
		return nil
	}
	*p = d.varint()
	return p
}

func (d *decoder) time() time.Time {
	if !d.flag() {
		return time.Time{}
	}
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 || sec < math.MinInt64/2 || sec > math.MaxInt64/2 {
		d.fail(fmt.Errorf("time out of range"))
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// decodeV0 reads a record of format 0 (records as JSON documents), the layout migrate.go
// upgrades from.
func decodeV0(v []byte) (*state.Record, error) {
	var r state.Record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
