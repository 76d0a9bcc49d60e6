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
	// Verify checks a saved plan against the configuration the run is in and the state's
	// snapshot, and gives it the request bodies rebuilt from that configuration
	// (plan.Verify). A saved plan is never run without it: the file holds no body.
	Verify func(*plan.Plan, *state.Snapshot) error
	// Make makes the plan from the state's snapshot.
	Make func(*state.Snapshot) *plan.Plan
	// Where names the state in errors.
	Where string
}

// Prepare reads the state and returns the plan to run against target: the state must be
// unbound or bound to target, and a saved plan must have been made against this very state
// at its current serial (plan.CheckFresh) and be the plan the configuration and the state
// give now (src.Verify), which gives it its bodies.
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
		if src.Verify == nil {
			return nil, fmt.Errorf("%s: a saved plan cannot be applied without the configuration to check it against; nothing was sent", src.File)
		}
		if err := src.Verify(src.Saved, snap); err != nil {
			return nil, fmt.Errorf("%s: nothing was sent: %w", src.File, err)
		}
		for _, c := range src.Saved.Changes {
			if c.Action == plan.Create && len(c.Body()) == 0 {
				return nil, fmt.Errorf("%s: create %s has no request body after the check; nothing was sent", src.File, c.ForeignID)
			}
		}
		return src.Saved, nil
	}
	return src.Make(snap), nil
}
