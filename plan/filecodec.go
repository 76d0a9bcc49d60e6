package plan

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// The change array of a plan file is written and read by hand: encoding/json's reflection
// was most of saving and reading a plan of 100,000 invoices (BenchmarkPlanFile100kCreates,
// BenchmarkReadPlanFile100k). The bytes are exactly encoding/json's (TestFileCodec holds
// the two to each other on random plans); the reader takes only what the writer writes, in
// its order, and leaves anything else — another order, whitespace, an unknown field, a
// surrogate escape, a null — to encoding/json, so that every file reads exactly as
// json.Unmarshal reads it, errors included.

func appendFileChange(b []byte, c *fileChange) []byte {
	b = append(b, `{"action":`...)
	b = appendFileString(b, c.Action)
	b = append(b, `,"foreign_id":`...)
	b = appendFileString(b, c.ForeignID)
	b = appendFileOpt(b, `,"address":`, c.Address)
	b = appendFileOpt(b, `,"reason":`, c.Reason)
	if r := c.Range; r != nil {
		b = append(b, `,"range":{"Filename":`...)
		b = appendFileString(b, r.Filename)
		b = appendFilePos(append(b, `,"Start":`...), r.Start)
		b = appendFilePos(append(b, `,"End":`...), r.End)
		b = append(b, '}')
	}
	if c.Cancel {
		b = append(b, `,"cancel":true`...)
	}
	b = appendFileOpt(b, `,"status":`, c.Status)
	b = appendFileOpt(b, `,"currency":`, c.Currency)
	if c.Amount != (invoice.Amount{}) { // omitzero
		b = append(b, `,"amount":`...)
		b = appendFileString(b, c.Amount.String())
	}
	b = appendFileOpt(b, `,"body_hash":`, c.BodyHash)
	if r := c.Before; r != nil {
		b = append(b, `,"before":{"phase":`...)
		b = appendFileString(b, string(r.Phase))
		b = appendFileOpt(b, `,"status":`, r.Status)
		if r.ID != 0 {
			b = strconv.AppendInt(append(b, `,"id":`...), r.ID, 10)
		}
		b = appendFileOpt(b, `,"currency":`, r.Currency)
		b = appendFileOpt(b, `,"amount":`, r.Amount)
		b = append(b, `,"body_hash":`...)
		b = appendFileString(b, r.BodyHash)
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendFileOpt(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendFileString(append(b, key...), v)
}

func appendFilePos(b []byte, p hcl.Pos) []byte {
	b = strconv.AppendInt(append(b, `{"Line":`...), int64(p.Line), 10)
	b = strconv.AppendInt(append(b, `,"Column":`...), int64(p.Column), 10)
	b = strconv.AppendInt(append(b, `,"Byte":`...), int64(p.Byte), 10)
	return append(b, '}')
}

// appendFileString writes s as json.Marshal does (HTML characters escaped, invalid UTF-8
// replaced); anything but printable ASCII goes through json.Marshal itself.
func appendFileString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// marshalFilePlan appends to b what json.Marshal(fp) writes with fp.Changes set to the n
// changes change gives, the change array written by hand.
func marshalFilePlan(b []byte, fp *filePlan, n int, change func(i int) fileChange) ([]byte, error) {
	head, err := json.Marshal(&fp.filePlanHead)
	if err != nil {
		return nil, err
	}
	tail, err := json.Marshal(&fp.filePlanTail)
	if err != nil {
		return nil, err
	}
	b = append(b, head[:len(head)-1]...) // without its closing brace
	b = append(b, `,"changes":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		fc := change(i)
		b = appendFileChange(b, &fc)
	}
	b = append(b, ']')
	if len(tail) == 2 { // {}: both omitted
		return append(b, '}'), nil
	}
	return append(append(b, ','), tail[1:]...), nil
}

// estimateFile is about the bytes a plan file takes for changes, a little more for most.
func estimateFile(changes []*Change) int {
	n := 4096
	for _, c := range changes {
		n += 330 + len(c.ForeignID) + len(c.Reason) + len(c.Range.Filename)
		if c.After != nil {
			n += len(c.After.Address) + 8
		}
	}
	return n
}

// fileReader reads the JSON a plan file's writer writes; every method reports false for
// anything else, and the caller then leaves the whole file to encoding/json.
type fileReader struct {
	data []byte
	i    int
	// arena holds the bytes of the strings read: they are slices of it, not an allocation
	// each, and hold on to no more of data than they are.
	arena []byte
	// ranges is a slab the ranges of changes are taken from.
	ranges []hcl.Range
	// scratch is where escaped strings are decoded.
	scratch []byte
}

// lit consumes s exactly.
func (r *fileReader) lit(s string) bool {
	if len(r.data)-r.i < len(s) || string(r.data[r.i:r.i+len(s)]) != s {
		return false
	}
	r.i += len(s)
	return true
}

// str reads a JSON string as json.Unmarshal reads it into a string. Escapes other than a
// \u escape of a surrogate (which encoding/json pairs or replaces) are decoded here; invalid
// UTF-8, which encoding/json replaces, is left to it.
func (r *fileReader) str() (string, bool) {
	if r.i >= len(r.data) || r.data[r.i] != '"' {
		return "", false
	}
	start := r.i + 1
	ascii := true
	for j := start; j < len(r.data); j++ {
		switch c := r.data[j]; {
		case c == '"':
			s := r.data[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			r.i = j + 1
			return r.keep(s), true
		case c == '\\':
			return r.escaped(start)
		case c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// keep returns b as a string in the arena, which is only ever appended to.
func (r *fileReader) keep(b []byte) string {
	switch {
	case len(b) == 0:
		return ""
	case len(b) > 1024:
		return string(b)
	case len(b) > cap(r.arena)-len(r.arena):
		r.arena = make([]byte, 0, 64<<10)
	}
	off := len(r.arena)
	r.arena = append(r.arena, b...)
	return unsafe.String(&r.arena[off], len(b))
}

// escaped reads the rest of a string that has escapes, from its first byte at start.
func (r *fileReader) escaped(start int) (string, bool) {
	out := r.scratch[:0]
	defer func() { r.scratch = out }()
	for j := start; j < len(r.data); {
		c := r.data[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return "", false
			}
			r.i = j + 1
			return r.keep(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(r.data) {
			return "", false
		}
		switch e := r.data[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if j+6 > len(r.data) {
				return "", false
			}
			v, err := strconv.ParseUint(string(r.data[j+2:j+6]), 16, 16)
			if err != nil || v >= 0xd800 && v < 0xe000 {
				return "", false
			}
			out = utf8.AppendRune(out, rune(v))
			j += 6
			continue
		default:
			return "", false
		}
		j += 2
	}
	return "", false
}

// int reads an integer as json.Unmarshal reads it into an int64 or an int.
func (r *fileReader) int() (int64, bool) {
	j := r.i
	neg := j < len(r.data) && r.data[j] == '-'
	if neg {
		j++
	}
	digits := j
	for j < len(r.data) && r.data[j] >= '0' && r.data[j] <= '9' {
		j++
	}
	switch {
	case j == digits, r.data[digits] == '0' && j > digits+1, j < len(r.data) && (r.data[j] == '.' || r.data[j] == 'e' || r.data[j] == 'E'):
		return 0, false
	}
	v, err := strconv.ParseInt(string(r.data[r.i:j]), 10, 64)
	if err != nil {
		return 0, false
	}
	r.i = j
	return v, true
}

// optStr reads `key` and a string if the input continues with key.
func (r *fileReader) optStr(key string, dst *string) bool {
	if !r.lit(key) {
		return true
	}
	s, ok := r.str()
	*dst = s
	return ok
}

func (r *fileReader) pos(p *hcl.Pos) bool {
	var ok bool
	var v int64
	for _, f := range []struct {
		key string
		dst *int
	}{{`{"Line":`, &p.Line}, {`,"Column":`, &p.Column}, {`,"Byte":`, &p.Byte}} {
		if !r.lit(f.key) {
			return false
		}
		if v, ok = r.int(); !ok || v < math.MinInt || v > math.MaxInt {
			return false
		}
		*f.dst = int(v)
	}
	return r.lit("}")
}

// changes reads a change array as appendFileChanges writes it.
func (r *fileReader) changes() ([]fileChange, bool) {
	if r.lit("null") {
		return nil, true
	}
	if !r.lit("[") {
		return nil, false
	}
	cs := []fileChange{}
	if r.lit("]") {
		return cs, true
	}
	// A create as Encode writes it takes about 300 bytes, and a no-op 150 (a name, a range
	// and a hash): room for most plans without growing, and never much more than needed.
	cs = make([]fileChange, 0, (len(r.data)-r.i)/256+1)
	for {
		cs = append(cs, fileChange{})
		if !r.change(&cs[len(cs)-1]) {
			return nil, false
		}
		if r.lit("]") {
			return cs, true
		}
		if !r.lit(",") {
			return nil, false
		}
	}
}

func (r *fileReader) change(c *fileChange) bool {
	var ok bool
	if !r.lit(`{"action":`) {
		return false
	}
	if c.Action, ok = r.str(); !ok || !r.lit(`,"foreign_id":`) {
		return false
	}
	if c.ForeignID, ok = r.str(); !ok || !r.optStr(`,"address":`, &c.Address) || !r.optStr(`,"reason":`, &c.Reason) {
		return false
	}
	if r.lit(`,"range":{"Filename":`) {
		if len(r.ranges) == 0 {
			r.ranges = make([]hcl.Range, 4096)
		}
		c.Range, r.ranges = &r.ranges[0], r.ranges[1:]
		if c.Range.Filename, ok = r.str(); !ok || !r.lit(`,"Start":`) || !r.pos(&c.Range.Start) || !r.lit(`,"End":`) || !r.pos(&c.Range.End) || !r.lit("}") {
			return false
		}
	}
	if r.lit(`,"cancel":`) {
		switch {
		case r.lit("true"):
			c.Cancel = true
		case !r.lit("false"):
			return false
		}
	}
	if !r.optStr(`,"status":`, &c.Status) || !r.optStr(`,"currency":`, &c.Currency) {
		return false
	}
	if r.lit(`,"amount":`) {
		s, ok := r.str()
		if !ok {
			return false
		}
		// What Amount.UnmarshalText does, without copying the text.
		a, err := invoice.ParseAmount(s)
		if err != nil {
			return false
		}
		c.Amount = a
	}
	if !r.optStr(`,"body_hash":`, &c.BodyHash) {
		return false
	}
	if r.lit(`,"before":{"phase":`) {
		b := &fileRecord{}
		c.Before = b
		phase, ok := r.str()
		if b.Phase = state.Phase(phase); !ok || !r.optStr(`,"status":`, &b.Status) {
			return false
		}
		if r.lit(`,"id":`) {
			if b.ID, ok = r.int(); !ok {
				return false
			}
		}
		if !r.optStr(`,"currency":`, &b.Currency) || !r.optStr(`,"amount":`, &b.Amount) || !r.lit(`,"body_hash":`) {
			return false
		}
		if b.BodyHash, ok = r.str(); !ok || !r.lit("}") {
			return false
		}
	}
	return r.lit("}")
}

// skip passes over one JSON value, checking no more than where it ends: what it passes over
// is checked by encoding/json afterwards (decodeFile).
func (r *fileReader) skip() bool {
	depth := 0
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case '"':
			j := r.i + 1
			for j < len(r.data) && r.data[j] != '"' {
				if r.data[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(r.data) {
				return false
			}
			r.i = j + 1
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // the end of the object around a number or a literal
			}
			if depth--; depth == 0 {
				r.i++
				return true
			}
		case ',':
			if depth == 0 {
				return true
			}
		}
		r.i++
	}
	return false
}

// object walks the members of the object at the reader, calling member for each key with
// the reader at its value; member consumes the value, or returns false. Keys must be plain
// ASCII, as the writer writes them: encoding/json matches keys without regard to case, and
// with the Kelvin sign and the long s folding to k and s.
func (r *fileReader) object(member func(key string) bool) bool {
	if !r.lit("{") {
		return false
	}
	if r.lit("}") {
		return true
	}
	for {
		k, ok := r.str()
		if !ok || !r.lit(":") {
			return false
		}
		for i := 0; i < len(k); i++ {
			if k[i] >= 0x80 {
				return false
			}
		}
		if !member(k) {
			return false
		}
		if r.lit("}") {
			return true
		}
		if !r.lit(",") {
			return false
		}
	}
}

// member reads the object at r, skipping every member but name (a key equal to it without
// regard to case, as encoding/json matches keys), whose value read reads; it reports where
// that value starts and ends. An object without the member, with it twice, or whose member
// read refuses, is not ok.
func (r *fileReader) member(name string, read func() bool) (start, end int, ok bool) {
	start = -1
	if !r.object(func(key string) bool {
		if !strings.EqualFold(key, name) {
			return r.skip()
		}
		if start >= 0 {
			return false
		}
		start = r.i
		if !read() {
			return false
		}
		end = r.i
		return true
	}) || start < 0 {
		return 0, 0, false
	}
	return start, end, true
}

// splice is data[from:to] with data[start:end] replaced by sentinel.
func splice(data []byte, from, start, end, to int, sentinel string) []byte {
	out := make([]byte, 0, start-from+len(sentinel)+to-end)
	return append(append(append(out, data[from:start]...), sentinel...), data[end:to]...)
}

// Sentinels stand in for the spans decodeFile reads by hand, in the smaller documents it
// gives encoding/json: one that arrives in the result proves no other member (a duplicate
// key, which encoding/json would let win) took the span's place.
const (
	planSentinel    = `"invoiceform: the plan payload"`
	changesSentinel = `[{"action":"invoiceform: the changes"}]`
)

// decodeFile reads a plan file's envelope and payload as json.Unmarshal reads them into
// envelope and filePlan, reading the payload's change array by hand, and reports false for
// any file it does not read exactly as json.Unmarshal does: Decode then reads it with
// encoding/json, which gives the same result or the error.
func decodeFile(data []byte) (env envelope, fp filePlan, ok bool) {
	r := &fileReader{data: data}
	planStart, planEnd, ok := r.member("plan", func() bool {
		p := &fileReader{data: data, i: r.i}
		var okp bool
		fp, okp = p.payload()
		r.i = p.i
		return okp
	})
	if !ok || r.i != len(data) {
		return envelope{}, filePlan{}, false
	}
	if json.Unmarshal(splice(data, 0, planStart, planEnd, len(data), planSentinel), &env) != nil || string(env.Plan) != planSentinel {
		return envelope{}, filePlan{}, false
	}
	env.Plan = data[planStart:planEnd]
	return env, fp, true
}

// payload reads a plan payload: its change array by hand, the rest (the plan's few small
// members) with encoding/json.
func (r *fileReader) payload() (filePlan, bool) {
	start := r.i
	var changes []fileChange
	chStart, chEnd, ok := r.member("changes", func() bool {
		var ok bool
		changes, ok = r.changes()
		return ok
	})
	if !ok {
		return filePlan{}, false
	}
	var fp filePlan
	if json.Unmarshal(splice(r.data, start, chStart, chEnd, r.i, changesSentinel), &fp) != nil || len(fp.Changes) != 1 || fp.Changes[0] != (fileChange{Action: "invoiceform: the changes"}) {
		return filePlan{}, false
	}
	fp.Changes = changes
	return fp, true
}
