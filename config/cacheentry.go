package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"math/bits"
	"sort"
	"sync"
	"unsafe"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/invoiceform/invoiceform/invoice"
)

// What a file's entry is keyed by, and what it holds.
//
// Only files of invoice blocks alone (the loader's "rest" units: no variable, locals or
// settings block) whose evaluation raised no diagnostic at all, and that have no for_each
// block, are kept. Their invoices are a function of:
//
//   - the file's name and bytes;
//   - the values of every variable and local, with their types and marks, and which variables
//     are sensitive;
//   - the currencies lock file, the date date_of_birth is checked against, and the settings;
//   - the files the file functions read while it was evaluated (file, fileexists,
//     templatefile, csvdecode of file): recorded in the entry with their digests, and read
//     and compared again before a hit is taken;
//   - the program that evaluates: the SHA-256 of the running executable's bytes.
//
// The key is the SHA-256 of all but the files read; those are checked on lookup. The
// functions of the language are otherwise pure (no clock, no environment, no network).
// A file's evaluation also charges the load's evaluation limits (limits.go); the entry
// records its charges and a hit charges them again, so a load that a cold run would stop at
// a limit is stopped with the cache too.

// cacheSession is one load's use of a Cache.
type cacheSession struct {
	c *Cache
	l *loader

	envOnce sync.Once
	env     [32]byte
	envErr  error

	mu sync.Mutex
	// deps memoises the digests of the files read, by path as written, for checking the
	// entries that list them.
	deps map[string][32]byte
}

// cacheFor returns the load's session, or nil when there is no cache to use: none was given,
// only the settings are loaded, or variables and locals failed (nothing is evaluated then).
func (l *loader) cacheFor(evaluate bool) *cacheSession {
	if l.opts.Cache == nil || !evaluate || l.opts.SettingsOnly {
		return nil
	}
	return &cacheSession{c: l.opts.Cache, l: l, deps: map[string][32]byte{}}
}

// load evaluates a file of invoice blocks alone, from its entry when one matches, else by
// parsing and evaluating it (eval) and keeping what that gave when it may be kept.
func (s *cacheSession) load(u *unit, eval func(*loader, *unit)) {
	key, ok := s.key(u)
	if !ok {
		u.checkSource()
		s.l.parseUnit(u)
		eval(s.l, u)
		return
	}
	// An entry is only ever written for bytes that passed checkSource (and evaluated
	// without a diagnostic), so a hit needs no check.
	if s.restore(u, key) {
		s.c.hits.Add(1)
		return
	}
	s.c.misses.Add(1)
	if u.checkSource(); u.src == nil {
		return
	}
	v, files, b := s.l.unitView()
	v.parseUnit(u)
	eval(v, u)
	if entry, ok := encodeEntry(u, key, files, b, s); ok {
		s.c.put(key, entry)
	}
}

// unitView is the loader as one file's evaluation sees it, with its own record of the files
// read and of the limits charged (both passed on to the load's).
func (l *loader) unitView() (*loader, *fileReader, *budget) {
	v := *l
	files := &fileReader{dir: l.files.dir, written: l.files.written, parent: l.files, cache: map[string]fileResult{}}
	b := &budget{parent: l.budget}
	v.files, v.budget, v.diags = files, b, nil
	v.ctx = &hcl.EvalContext{Variables: l.ctx.Variables, Functions: functions(files, b)}
	return &v, files, b
}

// key is the entry key of u; ok is false when u is not one to look up.
func (s *cacheSession) key(u *unit) (key [32]byte, ok bool) {
	if u.src == nil || len(u.diags) > 0 || u.header {
		return key, false
	}
	s.envOnce.Do(func() { s.env, s.envErr = s.envDigest() })
	if s.envErr != nil {
		return key, false
	}
	h := sha256.New()
	h.Write(s.env[:])
	writeString(h, u.name)
	h.Write(u.src)
	h.Sum(key[:0])
	return key, true
}

// envDigest hashes everything a file of invoice blocks can see but its own bytes and the
// files it reads.
func (s *cacheSession) envDigest() ([32]byte, error) {
	var out [32]byte
	tool, err := s.c.toolHash()
	if err != nil {
		s.c.failures.Add(1)
		return out, err
	}
	l := s.l
	h := sha256.New()
	writeString(h, fmt.Sprintf("invoiceform evaluation cache, format %d", cacheFormat))
	h.Write(tool[:])
	for _, name := range []string{"var", "local"} {
		writeString(h, name)
		v, ok := l.ctx.Variables[name]
		if !ok {
			v = cty.NilVal
		}
		if err := hashValue(h, v); err != nil {
			return out, err
		}
	}
	sensitive := make([]string, 0, len(l.sensitive))
	for name := range l.sensitive {
		sensitive = append(sensitive, name)
	}
	sort.Strings(sensitive)
	writeUvarint(h, uint64(len(sensitive)))
	for _, name := range sensitive {
		writeString(h, name)
	}
	// The settings do not reach an invoice's evaluation today; they are in the key so that
	// a rule that one day reads them cannot be served an entry made under others. The
	// connection string is left out: it may hold a password.
	st := l.cfg.Settings
	writeString(h, st.Endpoint)
	if be := st.Backend; be != nil {
		writeString(h, be.Type)
		writeString(h, be.Workspace)
	}
	lock, err := json.Marshal(l.cfg.CurrencyLock)
	if err != nil {
		return out, err
	}
	writeString(h, string(lock))
	y, m, d := l.opts.Today.Date()
	writeString(h, fmt.Sprintf("today %04d-%02d-%02d", y, m, d))
	h.Sum(out[:0])
	return out, nil
}

// hashValue writes v with its type, marks, nulls and unknowns into h, each part framed so
// that two different values never write the same bytes. A value that cannot be written
// (a capsule) is an error: nothing that sees it is cached.
func hashValue(h hash.Hash, v cty.Value) error {
	if v == cty.NilVal {
		writeString(h, "nil")
		return nil
	}
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return err
	}
	writeString(h, string(ty))
	return hashParts(h, v)
}

func hashParts(h hash.Hash, v cty.Value) error {
	if v.IsMarked() {
		var marks cty.ValueMarks
		v, marks = v.Unmark()
		names := make([]string, 0, len(marks))
		for m := range marks {
			names = append(names, fmt.Sprintf("%T:%#v", m, m))
		}
		sort.Strings(names)
		h.Write([]byte{'M'})
		writeUvarint(h, uint64(len(names)))
		for _, n := range names {
			writeString(h, n)
		}
	}
	if !v.IsKnown() {
		return errors.New("an unknown value")
	}
	if v.IsNull() {
		h.Write([]byte{'N'})
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		h.Write([]byte{'S'})
		writeString(h, v.AsString())
	case ty == cty.Number:
		b, err := v.AsBigFloat().GobEncode() // exact: precision, mode and mantissa
		if err != nil {
			return err
		}
		h.Write([]byte{'n'})
		writeString(h, string(b))
	case ty == cty.Bool:
		if v.True() {
			h.Write([]byte{'T'})
		} else {
			h.Write([]byte{'F'})
		}
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		h.Write([]byte{'C'})
		writeUvarint(h, uint64(v.LengthInt()))
		keyed := ty.IsMapType() || ty.IsObjectType()
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if keyed {
				writeString(h, k.AsString())
			}
			if err := hashParts(h, e); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("a value of type %s", ty.FriendlyName())
	}
	return nil
}

func writeUvarint(h hash.Hash, n uint64) {
	var b [binary.MaxVarintLen64]byte
	h.Write(b[:binary.PutUvarint(b[:], n)])
}

func writeString(h hash.Hash, s string) {
	writeUvarint(h, uint64(len(s)))
	h.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// fileDigest is what a file function's read of path gave: its text, or its error.
func fileDigest(text string, err error) [32]byte {
	if err != nil {
		return sha256.Sum256([]byte("error\x00" + err.Error()))
	}
	return sha256.Sum256([]byte("text\x00" + text))
}

// depDigest reads path as the file functions do and returns its digest, once per load.
func (s *cacheSession) depDigest(path string) [32]byte {
	s.mu.Lock()
	d, ok := s.deps[path]
	s.mu.Unlock()
	if ok {
		return d
	}
	d = fileDigest(s.l.files.read(path))
	s.mu.Lock()
	s.deps[path] = d
	s.mu.Unlock()
	return d
}

// restore takes u's invoices from the entry under key when there is one, the files it read
// are as they were, and charging what its evaluation charged keeps within the limits.
func (s *cacheSession) restore(u *unit, key [32]byte) bool {
	payload := s.c.get(key)
	if payload == nil {
		return false
	}
	e, ok := decodeEntry(payload, u.name)
	if !ok {
		return false
	}
	for _, d := range e.deps {
		if s.depDigest(d.path) != d.digest {
			return false
		}
	}
	b := s.l.budget
	if b.addElements(e.elements) != nil || b.addIterations(e.iterations) != nil || b.addBytes(e.bytes) != nil {
		// Past a limit: evaluate the file, which reports it where a cold load would.
		return false
	}
	u.items = e.items
	u.file = &hcl.File{Body: hcl.EmptyBody(), Bytes: u.src}
	return true
}

// The entry payload: the files read (path, digest), the limits charged (elements,
// iterations, bytes), then the invoices, each as its fields in a fixed order (not its body
// and hash, which are made from its request again). Numbers are
// varints, strings and byte strings a length and their bytes. A range is a flag (0: the
// empty range, 1: in this file) and its start and end (line, column, byte); the ranges of
// an invoice's attributes are a count and, for each, its field (its fieldSet bit) and its
// start and end with lines and bytes counted from the block's.

type cachedDep struct {
	path   string
	digest [32]byte
}

type cachedEntry struct {
	deps                        []cachedDep
	elements, iterations, bytes int64
	items                       []item
}

// fieldSpan is where one field of an invoice from the cache is set.
type fieldSpan struct {
	field                      uint8 // the field's fieldSet bit
	startLine, startCol, start int32
	endLine, endCol, end       int32
}

// spanFields are the field names by their fieldSet bit.
var spanFields = fieldNames()

// spanOf finds field in spans.
func spanOf(spans []fieldSpan, field, filename string) (hcl.Range, bool) {
	b := bit(field)
	if b == 0 {
		return hcl.Range{}, false
	}
	f := uint8(bits.TrailingZeros32(uint32(b)))
	for _, sp := range spans {
		if sp.field == f {
			return hcl.Range{Filename: filename,
				Start: hcl.Pos{Line: int(sp.startLine), Column: int(sp.startCol), Byte: int(sp.start)},
				End:   hcl.Pos{Line: int(sp.endLine), Column: int(sp.endCol), Byte: int(sp.end)}}, true
		}
	}
	return hcl.Range{}, false
}

// encodeEntry returns the entry for u's evaluation (framed as sealEntry would), or false
// when it is not one to keep.
func encodeEntry(u *unit, key [32]byte, files *fileReader, b *budget, s *cacheSession) ([]byte, bool) {
	if u.broken || len(u.diags) > 0 || u.header {
		return nil, false
	}
	for i := range u.items {
		it := &u.items[i]
		if !it.decoded || it.d != nil || len(it.diags) > 0 || len(it.res.diags) > 0 || it.res.inv == nil {
			return nil, false
		}
	}
	w := entryWriter{name: u.name, buf: make([]byte, entryHeader, entryHeader+len(u.src)+len(u.src)/2)}
	files.mu.Lock()
	paths := make([]string, 0, len(files.cache))
	for p := range files.cache {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	w.uvarint(uint64(len(paths)))
	for _, p := range paths {
		r := files.cache[p]
		d := fileDigest(r.text, r.err)
		w.str(p)
		w.buf = append(w.buf, d[:]...)
		// A hit reads these again; this load knows them now.
		s.mu.Lock()
		s.deps[p] = d
		s.mu.Unlock()
	}
	files.mu.Unlock()
	w.uvarint(uint64(b.elements.Load()))
	w.uvarint(uint64(b.iterations.Load()))
	w.uvarint(uint64(b.bytes.Load()))
	w.uvarint(uint64(len(u.items)))
	for i := range u.items {
		if !w.invoice(u.items[i].res.inv) {
			return nil, false
		}
	}
	return sealEntry(key, w.buf), true
}

type entryWriter struct {
	buf  []byte
	name string
}

func (w *entryWriter) uvarint(n uint64) { w.buf = binary.AppendUvarint(w.buf, n) }

func (w *entryWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// fits reports whether the numbers of a range fit a fieldSpan.
func fits(r hcl.Range) bool {
	for _, n := range []int{r.Start.Line, r.Start.Column, r.Start.Byte, r.End.Line, r.End.Column, r.End.Byte} {
		if n < 0 || n > math.MaxInt32 {
			return false
		}
	}
	return true
}

func (w *entryWriter) rng(r hcl.Range) bool {
	switch {
	case r == hcl.Range{}:
		w.buf = append(w.buf, 0)
		return true
	case r.Filename != w.name || !fits(r):
		return false // a range in another file: not one to keep
	}
	w.buf = append(w.buf, 1)
	for _, n := range []int{r.Start.Line, r.Start.Column, r.Start.Byte, r.End.Line, r.End.Column, r.End.Byte} {
		w.uvarint(uint64(n))
	}
	return true
}

const (
	flagCancel = 1 << iota
	flagTimer
	flagSenderData
)

func (w *entryWriter) invoice(inv *Invoice) bool {
	r := &inv.Request
	// The zero Amount and a parsed zero would read back alike; an invoice without an
	// amount is refused by the rules anyway.
	if r.Amount.Sign() == 0 || inv.spans != nil {
		return false
	}
	w.str(inv.Address)
	w.str(inv.ForeignID)
	var flags byte
	if inv.Cancel {
		flags |= flagCancel
	}
	if r.Timer {
		flags |= flagTimer
	}
	if r.SenderData != nil {
		flags |= flagSenderData
	}
	w.buf = append(w.buf, flags)
	for _, s := range []string{r.Title, r.Description, r.Currency, r.SenderCurrency, r.Amount.String(), r.ForeignID,
		r.EndUserReference, r.URLSuccess, r.URLFailed, r.EmailUser, r.Type, r.SenderType} {
		w.str(s)
	}
	if sd := r.SenderData; sd != nil {
		for _, s := range []string{sd.FirstName, sd.LastName, sd.DateOfBirth, sd.Email, sd.LegalName, sd.CountryOfRegistration} {
			w.str(s)
		}
	}
	if inv.DeclRange.Filename != w.name || !w.rng(inv.DeclRange) {
		return false
	}
	fields := make([]int, 0, len(inv.ranges))
	for name, rng := range inv.ranges {
		b := bit(name)
		if b == 0 || rng.Filename != w.name || !fits(rng) {
			return false // for_each, or a name AttrRange would not find again
		}
		fields = append(fields, bits.TrailingZeros32(uint32(b)))
	}
	sort.Ints(fields)
	w.uvarint(uint64(len(fields)))
	base := inv.DeclRange.Start
	for _, f := range fields {
		rng := inv.ranges[spanFields[f]]
		w.buf = append(w.buf, byte(f))
		w.buf = binary.AppendVarint(w.buf, int64(rng.Start.Line-base.Line))
		w.uvarint(uint64(rng.Start.Column))
		w.buf = binary.AppendVarint(w.buf, int64(rng.Start.Byte-base.Byte))
		w.buf = binary.AppendVarint(w.buf, int64(rng.End.Line-base.Line))
		w.uvarint(uint64(rng.End.Column))
		w.buf = binary.AppendVarint(w.buf, int64(rng.End.Byte-base.Byte))
	}
	return true
}

// entryReader reads a payload; any mistake (a length past the end, a number out of range)
// sets bad, and every later read returns zero values.
type entryReader struct {
	data []byte
	// text is data as a string, sharing its memory: the strings of the invoices are
	// slices of it, one allocation for all. data is never written after it is read.
	text string
	off  int
	bad  bool
	name string
}

func (r *entryReader) uvarint() uint64 {
	if r.bad {
		return 0
	}
	n, size := binary.Uvarint(r.data[r.off:])
	if size <= 0 {
		r.bad = true
		return 0
	}
	r.off += size
	return n
}

// int32 reads an unsigned number that must fit a fieldSpan.
func (r *entryReader) int32() int32 {
	n := r.uvarint()
	if n > math.MaxInt32 {
		r.bad = true
		return 0
	}
	return int32(n)
}

// offset reads a signed varint added to base; the sum must fit a fieldSpan.
func (r *entryReader) offset(base int) int32 {
	if r.bad {
		return 0
	}
	n, size := binary.Varint(r.data[r.off:])
	if size <= 0 || n < -math.MaxInt32 || n > math.MaxInt32 {
		r.bad = true
		return 0
	}
	r.off += size
	v := int64(base) + n
	if v < 0 || v > math.MaxInt32 {
		r.bad = true
		return 0
	}
	return int32(v)
}

// count reads a number of things each at least min bytes long, refusing one that the rest
// of the payload cannot hold.
func (r *entryReader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.data)-r.off)/uint64(min) {
		r.bad = true
		return 0
	}
	return int(n)
}

func (r *entryReader) int64() int64 {
	n := r.uvarint()
	if n > 1<<62 {
		r.bad = true
		return 0
	}
	return int64(n)
}

func (r *entryReader) span() (int, int) {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.data)-r.off) {
		r.bad = true
		return 0, 0
	}
	start := r.off
	r.off += int(n)
	return start, r.off
}

func (r *entryReader) str() string {
	a, b := r.span()
	return r.text[a:b]
}

func (r *entryReader) byte1() byte {
	if r.bad || r.off >= len(r.data) {
		r.bad = true
		return 0
	}
	r.off++
	return r.data[r.off-1]
}

func (r *entryReader) rng() hcl.Range {
	switch r.byte1() {
	case 0:
		return hcl.Range{}
	case 1:
	default:
		r.bad = true
		return hcl.Range{}
	}
	var n [6]int32
	for i := range n {
		n[i] = r.int32()
	}
	return hcl.Range{Filename: r.name,
		Start: hcl.Pos{Line: int(n[0]), Column: int(n[1]), Byte: int(n[2])},
		End:   hcl.Pos{Line: int(n[3]), Column: int(n[4]), Byte: int(n[5])}}
}

// decodeEntry reads a payload written by encodeEntry for the file name. The invoices, their
// sender data and their ranges are each one allocation for the whole file.
func decodeEntry(data []byte, name string) (*cachedEntry, bool) {
	if len(data) == 0 {
		return nil, false
	}
	r := &entryReader{data: data, text: unsafe.String(&data[0], len(data)), name: name}
	e := &cachedEntry{}
	nd := r.count(1 + 32)
	for i := 0; i < nd && !r.bad; i++ {
		d := cachedDep{path: r.str()}
		if r.bad || len(data)-r.off < 32 {
			return nil, false
		}
		copy(d.digest[:], data[r.off:r.off+32])
		r.off += 32
		e.deps = append(e.deps, d)
	}
	e.elements, e.iterations, e.bytes = r.int64(), r.int64(), r.int64()
	n := r.count(32)
	invs := make([]Invoice, n)
	e.items = make([]item, n)
	var sds []invoice.SenderData
	var spans []fieldSpan
	for i := 0; i < n && !r.bad; i++ {
		inv := &invs[i]
		if !r.invoice(inv, &sds, &spans) {
			return nil, false
		}
		e.items[i] = item{decoded: true, res: result{inv: inv}}
	}
	if r.bad || r.off != len(data) {
		return nil, false
	}
	return e, true
}

// invoice reads one invoice into inv, appending its sender data and ranges to the file's.
func (r *entryReader) invoice(inv *Invoice, sds *[]invoice.SenderData, spans *[]fieldSpan) bool {
	inv.Address, inv.ForeignID = r.str(), r.str()
	flags := r.byte1()
	inv.Cancel = flags&flagCancel != 0
	q := &inv.Request
	q.Timer = flags&flagTimer != 0
	q.Title, q.Description, q.Currency, q.SenderCurrency = r.str(), r.str(), r.str(), r.str()
	amount := r.str()
	q.ForeignID, q.EndUserReference, q.URLSuccess, q.URLFailed = r.str(), r.str(), r.str(), r.str()
	q.EmailUser, q.Type, q.SenderType = r.str(), r.str(), r.str()
	if flags&flagSenderData != 0 {
		if cap(*sds) == len(*sds) {
			// A new slab when full: the ones handed out keep pointing into the old.
			*sds = make([]invoice.SenderData, 0, 256)
		}
		*sds = append(*sds, invoice.SenderData{FirstName: r.str(), LastName: r.str(), DateOfBirth: r.str(),
			Email: r.str(), LegalName: r.str(), CountryOfRegistration: r.str()})
		q.SenderData = &(*sds)[len(*sds)-1]
	}
	inv.DeclRange = r.rng()
	if r.bad || inv.DeclRange.Filename == "" || flags&^(flagCancel|flagTimer|flagSenderData) != 0 {
		return false
	}
	n := r.count(7)
	if n > 32 {
		return false
	}
	if cap(*spans)-len(*spans) < n {
		*spans = make([]fieldSpan, 0, max(4096, n))
	}
	first := len(*spans)
	base := inv.DeclRange.Start
	for i := 0; i < n && !r.bad; i++ {
		f := r.byte1()
		if int(f) >= len(spanFields) {
			return false
		}
		*spans = append(*spans, fieldSpan{field: f,
			startLine: r.offset(base.Line), startCol: r.int32(), start: r.offset(base.Byte),
			endLine: r.offset(base.Line), endCol: r.int32(), end: r.offset(base.Byte)})
	}
	inv.spans = (*spans)[first:len(*spans):len(*spans)]
	if r.bad {
		return false
	}
	a, err := invoice.ParseAmount(amount)
	if err != nil || a.Sign() == 0 {
		return false
	}
	q.Amount = a
	// The body and its hash are made again, as evaluation makes them: an entry cannot hold
	// a body its request does not give, and is half the size without them.
	inv.Body = q.Encode()
	inv.Hash = invoice.Hash(inv.Body)
	return true
}
