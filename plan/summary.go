package plan

import (
	"sort"

	"github.com/invoiceform/invoiceform/config"
	"github.com/invoiceform/invoiceform/state"
)

// SnapshotOptions are the state.SnapshotOptions for Make(invoices, snap, opts): a record
// whose body Make may read is read whole, every other only as its summary, and the plan and
// every view of it are the same either way (TestSnapshotOptionsSamePlan). Read whole: an
// undeclared record (shown with the recorded request's money), a pending one (a resolve: its
// body is the one resent and shown), and one whose body hash differs from the declaration's
// (a conflict, explained field by field from both bodies). A record outside -target is not
// looked at beyond its presence. The rest, the unchanged invoices and the cancels of declared
// ones, are shown with the declaration's body and money, which hash the same as the
// record's; a summary keeps the API's amount, and Make takes an adopted record's money from
// the declaration (Statuses). At 1,000,000 unchanged invoices the bodies and histories are
// most of what a snapshot reads.
func SnapshotOptions(invoices []*config.Invoice, opts Options) state.SnapshotOptions {
	var targets map[string]bool
	if len(opts.Targets) > 0 {
		targets = make(map[string]bool, len(opts.Targets))
		for _, t := range opts.Targets {
			targets[t] = true
		}
	}
	// Full is asked in foreign_id order by a store that reads in that order (bbolt), so the
	// declarations are walked in the same order beside it, instead of a map of 1,000,000
	// being built and probed; asked out of order, it searches. Nothing is sorted until a
	// record is asked about: an empty state costs nothing.
	var (
		order  []int32 // sortedOrder's, made at the first question
		sorted bool
		next   int // the declarations before next in order are before the last id asked about
	)
	decl := func(k int) *config.Invoice { return inOrder(invoices, order, k) }
	find := func(id string) *config.Invoice {
		if !sorted {
			order, sorted = sortedOrder(invoices), true
		}
		if next > 0 && decl(next-1).ForeignID >= id {
			next = sort.Search(len(invoices), func(k int) bool { return decl(k).ForeignID >= id })
		}
		for next < len(invoices) && decl(next).ForeignID < id {
			next++
		}
		if next < len(invoices) && decl(next).ForeignID == id {
			return decl(next)
		}
		return nil
	}
	return state.SnapshotOptions{Sorted: true, Full: func(s state.Summary) bool {
		if targets != nil && !targets[s.ForeignID] {
			return false
		}
		inv := find(s.ForeignID)
		return inv == nil || s.Phase == state.Pending || s.BodyHash != inv.Hash
	}}
}
