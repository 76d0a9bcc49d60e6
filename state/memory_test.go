package state_test

import (
	"testing"

	"github.com/invoiceform/invoiceform/state"
	"github.com/invoiceform/invoiceform/state/statetest"
)

func TestMemoryConformance(t *testing.T) {
	statetest.Run(t, statetest.Harness{New: func(*testing.T) state.Store { return state.NewMemory() }})
}
