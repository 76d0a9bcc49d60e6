package pgstate

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"

	"github.com/invoiceform/invoiceform/state"
)

// A snapshot of 100,000 records scanned column by column made two million allocations and
// took most of its time in them; records are decoded from the raw column values instead,
// their strings and bodies copied into a few large blocks (as boltstate's codec does).

// arena holds the bytes of many decoded records in large blocks.
type arena struct{ block []byte }

// bytes returns a copy of v that nothing else refers to, with no spare capacity, so that an
// append by the caller never writes into a neighbour. Empty is nil.
func (a *arena) bytes(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	if len(v) > cap(a.block)-len(a.block) {
		a.block = make([]byte, 0, max(1<<20, len(v)))
	}
	n := len(a.block)
	a.block = append(a.block, v...)
	return a.block[n:len(a.block):len(a.block)]
}

func (a *arena) string(v []byte) string {
	b := a.bytes(v)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// rawDecoder decodes one row of the snapshot query, in either wire format.
type rawDecoder struct {
	binary []bool // per column
	mem    arena
	ints   []int64 // backing store for FixedAt and ReleaseAt
}

func newRawDecoder(rows pgx.Rows) *rawDecoder {
	fds := rows.FieldDescriptions()
	d := &rawDecoder{binary: make([]bool, len(fds))}
	for i, fd := range fds {
		d.binary[i] = fd.Format == pgx.BinaryFormatCode
	}
	return d
}

func (d *rawDecoder) int(col int, v []byte) (int64, error) {
	if d.binary[col] {
		if len(v) != 8 {
			return 0, fmt.Errorf("column %d: %d bytes for a bigint", col, len(v))
		}
		return int64(binary.BigEndian.Uint64(v)), nil
	}
	return strconv.ParseInt(string(v), 10, 64)
}

func (d *rawDecoder) optInt(col int, v []byte) (*int64, error) {
	if v == nil {
		return nil, nil
	}
	n, err := d.int(col, v)
	if err != nil {
		return nil, err
	}
	if len(d.ints) == 0 {
		d.ints = make([]int64, 1024)
	}
	p := &d.ints[0]
	*p, d.ints = n, d.ints[1:]
	return p, nil
}

func (d *rawDecoder) time(col int, v []byte) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	n, err := d.int(col, v)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, n).UTC(), nil
}

// decode fills r from the raw values of recordColumns, in order.
func (d *rawDecoder) decode(vals [][]byte, r *state.Record) error {
	if len(vals) != len(recordColumnList) {
		return fmt.Errorf("%d columns, want %d", len(vals), len(recordColumnList))
	}
	var err error
	r.ForeignID = d.mem.string(vals[0])
	r.Phase = state.Phase(d.mem.string(vals[1]))
	r.BodyHash = d.mem.string(vals[2])
	r.Body = d.mem.bytes(vals[3])
	if !d.binary[3] && vals[3] != nil {
		return fmt.Errorf("body came in text format")
	}
	if r.ID, err = d.int(4, vals[4]); err != nil {
		return err
	}
	for i, p := range []*string{&r.URL, &r.Address, &r.Status, &r.Currency, &r.Amount, &r.SenderCurrency, &r.SenderAmount} {
		*p = d.mem.string(vals[5+i])
	}
	if r.FixedAt, err = d.optInt(12, vals[12]); err != nil {
		return err
	}
	if r.ReleaseAt, err = d.optInt(13, vals[13]); err != nil {
		return err
	}
	if r.DetailsKnown, err = d.bool(14, vals[14]); err != nil {
		return fmt.Errorf("details_known: %w", err)
	}
	for i, p := range []*time.Time{&r.CreatedAt, &r.UpdatedAt, &r.IssuedAt} {
		if *p, err = d.time(15+i, vals[15+i]); err != nil {
			return err
		}
	}
	r.LastError = d.mem.string(vals[18])
	if r.PaidAt, err = d.time(19, vals[19]); err != nil {
		return err
	}
	r.History = nil
	if h := vals[20]; len(h) > 0 && string(h) != "[]" {
		if err := json.Unmarshal(h, &r.History); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		for i := range r.History {
			r.History[i].ReceivedAt = r.History[i].ReceivedAt.UTC()
		}
	}
	return nil
}

// decodeSummary fills r from the raw values of summaryColumns, in order.
func (d *rawDecoder) decodeSummary(vals [][]byte, r *state.Record) error {
	if len(vals) != 12 {
		return fmt.Errorf("%d columns, want 12", len(vals))
	}
	var err error
	r.ForeignID = d.mem.string(vals[0])
	r.Phase = state.Phase(d.mem.string(vals[1]))
	r.BodyHash = d.mem.string(vals[2])
	if r.ID, err = d.int(3, vals[3]); err != nil {
		return err
	}
	for i, p := range []*string{&r.Status, &r.Currency, &r.Amount} {
		*p = d.mem.string(vals[4+i])
	}
	if r.DetailsKnown, err = d.bool(7, vals[7]); err != nil {
		return err
	}
	for i, p := range []*time.Time{&r.CreatedAt, &r.UpdatedAt, &r.IssuedAt, &r.PaidAt} {
		if *p, err = d.time(8+i, vals[8+i]); err != nil {
			return err
		}
	}
	return nil
}

func (d *rawDecoder) bool(col int, v []byte) (bool, error) {
	switch {
	case len(v) == 1 && d.binary[col]:
		return v[0] == 1, nil
	case !d.binary[col]:
		return string(v) == "t", nil
	}
	return false, fmt.Errorf("column %d: %d bytes for a boolean", col, len(v))
}
