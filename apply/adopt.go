package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// Adoptee is a declared invoice that the operator says exists at the API already (created by
// a state that was lost, or by another tool): its foreign_id, its address in the
// configuration, and the canonical body it is declared with.
type Adoptee struct {
	ForeignID string
	Address   string
	Body      []byte
}

// ErrNotAdoptable is returned by Adopt, wrapped with the reasons, when any invoice cannot be
// adopted; nothing is then recorded.
var ErrNotAdoptable = errors.New("nothing was adopted")

// Adopt records invoices as issued with details unknown, on the operator's word: the API
// cannot be asked whether they exist (it has no read endpoint), and sending a create to find
// out would create the ones that do not. Each record holds the declared body, so that a plan
// shows the invoice unchanged as long as the declaration is; its id, URL, status and the amount
// the API holds stay unknown until a callback or an operator says otherwise.
//
// All or nothing, in one write: an invoice the state already holds (issued: it is known;
// pending: the next apply resolves it, which proves more than an adoption) makes the whole call
// fail with ErrNotAdoptable and the reasons.
func Adopt(ctx context.Context, store state.Store, invs []Adoptee, now time.Time) ([]*state.Record, error) {
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var reasons []string
	recs := make([]*state.Record, 0, len(invs))
	seen := map[string]bool{}
	for _, inv := range invs {
		if seen[inv.ForeignID] {
			continue
		}
		seen[inv.ForeignID] = true
		switch cur := snap.Records[inv.ForeignID]; {
		case cur == nil:
		case cur.Phase == state.Pending:
			reasons = append(reasons, fmt.Sprintf("%q is pending in the state: an earlier apply sent it and the next apply resolves it, which proves more than an adoption", inv.ForeignID))
			continue
		default:
			reasons = append(reasons, fmt.Sprintf("%q is already recorded as %s", inv.ForeignID, cur.Phase))
			continue
		}
		now := now.UTC()
		rec := &state.Record{ForeignID: inv.ForeignID, Phase: state.Issued, Body: inv.Body, BodyHash: invoice.Hash(inv.Body),
			DetailsKnown: false, CreatedAt: now, UpdatedAt: now, IssuedAt: now}
		if err := rec.Validate(); err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		recs = append(recs, rec)
	}
	if len(reasons) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotAdoptable, strings.Join(reasons, "; "))
	}
	if err := store.Put(ctx, recs...); err != nil {
		return nil, fmt.Errorf("the state could not be written, nothing was adopted: %w", err)
	}
	return recs, nil
}
