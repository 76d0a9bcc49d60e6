package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/invoiceform/invoiceform/config"
)

// fieldHash is a SHA-256 over fields written as LENGTH:BYTES, so that no two different
// sequences of fields hash the same bytes. The fields are gathered and hashed some kilobytes
// at a time: at 100,000 changes, hundreds of thousands of small writes cost more than the
// hashing.
type fieldHash struct {
	h   hash.Hash
	buf []byte
}

func newFieldHash() *fieldHash { return &fieldHash{h: sha256.New(), buf: make([]byte, 0, 8<<10)} }

func (f *fieldHash) field(s string) {
	f.buf = strconv.AppendInt(f.buf, int64(len(s)), 10)
	f.buf = append(f.buf, ':')
	f.buf = append(f.buf, s...)
	f.flush(4 << 10)
}

// endLine ends a line of fields (the config hash writes one per invoice).
func (f *fieldHash) endLine() {
	f.buf = append(f.buf, '\n')
	f.flush(4 << 10)
}

func (f *fieldHash) flush(above int) {
	if len(f.buf) >= above {
		f.h.Write(f.buf)
		f.buf = f.buf[:0]
	}
}

// sum is the hex of the hash of every field written.
func (f *fieldHash) sum() string {
	f.flush(0)
	return hex.EncodeToString(f.h.Sum(nil))
}

// splitFrom is the number of elements from which Make and a plan's document work in two
// parts on two cores; tests lower it.
var splitFrom = 1 << 16

// partsOf is how many parts n elements are worked in: two from splitFrom on two or more
// cores, else one.
func partsOf(n int) int {
	if n >= splitFrom && runtime.GOMAXPROCS(0) > 1 {
		return 2
	}
	return 1
}

// eachPart runs fn for each of parts parts of [0, n), part k being [lo, hi), on a goroutine
// each, and returns when all are done. The caller joins their results in part order, so
// that they are the ones one pass would give.
func eachPart(n, parts int, fn func(k, lo, hi int)) {
	var wg sync.WaitGroup
	for k := range parts {
		wg.Go(func() { fn(k, k*n/parts, (k+1)*n/parts) })
	}
	wg.Wait()
}

// sortedOrder returns the indexes of invoices in ascending foreign_id order (byte order, as
// the state stores keep their records), or nil when they are in that order already, as a
// generated or exported list usually is.
func sortedOrder(invoices []*config.Invoice) []int32 {
	if slices.IsSortedFunc(invoices, func(a, b *config.Invoice) int { return strings.Compare(a.ForeignID, b.ForeignID) }) {
		return nil
	}
	order := make([]int32, len(invoices))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return strings.Compare(invoices[a].ForeignID, invoices[b].ForeignID) })
	return order
}

// inOrder is the k-th of invoices in the order sortedOrder gave.
func inOrder(invoices []*config.Invoice, order []int32, k int) *config.Invoice {
	if order != nil {
		return invoices[order[k]]
	}
	return invoices[k]
}
