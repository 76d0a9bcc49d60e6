package apply

import (
	"context"
	"fmt"

	"github.com/invoiceform/invoiceform/plan"
	"github.com/invoiceform/invoiceform/state"
)

// Source is where the plan of a run comes from: a plan saved by plan -out, or one made now
// from the configuration against the state the run opened.
type Source struct {
	// Saved is the plan read from File; nil to make one with Make.
	Saved *plan.Plan
	File  string
	// Make makes the plan from the state's snapshot.
	Make func(*state.Snapshot) *plan.Plan
	// Where names the state in errors.
	Where string
}

// Prepare reads the state and returns the plan to run against target: the state must be
// unbound or bound to target, and a saved plan must have been made against this very state
// at its current serial (plan.CheckFresh).
func Prepare(ctx context.Context, store state.Store, target state.Binding, src Source) (*plan.Plan, error) {
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if !snap.Binding.IsZero() {
		if err := state.CheckBinding(snap.Binding, target); err != nil {
			return nil, fmt.Errorf("%s: %w", src.Where, err)
		}
	}
	if src.Saved != nil {
		if err := plan.CheckFresh(src.Saved, snap, target); err != nil {
			return nil, fmt.Errorf("%s: %w", src.File, err)
		}
		return src.Saved, nil
	}
	return src.Make(snap), nil
}
