package plan

import (
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
	byID := make(map[string]*config.Invoice, len(invoices))
	for _, inv := range invoices {
		byID[inv.ForeignID] = inv
	}
	var targets map[string]bool
	if len(opts.Targets) > 0 {
		targets = make(map[string]bool, len(opts.Targets))
		for _, t := range opts.Targets {
			targets[t] = true
		}
	}
	return state.SnapshotOptions{Full: func(s state.Summary) bool {
		if targets != nil && !targets[s.ForeignID] {
			return false
		}
		inv := byID[s.ForeignID]
		return inv == nil || s.Phase == state.Pending || s.BodyHash != inv.Hash
	}}
}
