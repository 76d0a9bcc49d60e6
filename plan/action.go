package plan

// Action is what apply will do with one foreign_id: a small printable enum, as Terraform's
// plans.Action. The rune is the symbol shown in the human and Markdown views.
type Action rune

const (
	// NoOp: declared and issued with the same canonical request (or already cancelled, or
	// final): nothing to do.
	NoOp Action = '='
	// Create: declared, not in the state. Apply journals, sends and records it.
	Create Action = '+'
	// Cancel: declared with cancel = true (or undeclared with -prune) and issued and open.
	Cancel Action = '-'
	// Resolve: a pending journal entry from an interrupted apply. Apply resends the exact body
	// recorded in the state; "already taken" means it was issued earlier.
	Resolve Action = '?'
	// Conflict: the declared request differs from the one issued (or pending). Issued invoices
	// are immutable, so this is an error: the plan cannot be applied.
	Conflict Action = '!'
	// Undeclared: in the state, not in the configuration. Reported and left alone; -prune
	// turns open ones into Cancel.
	Undeclared Action = '~'
)

// actions lists every action in the order views count and print them.
var actions = []Action{Conflict, Resolve, Create, Cancel, Undeclared, NoOp}

// String is the action's stable name, used in JSON and plan files.
func (a Action) String() string {
	switch a {
	case NoOp:
		return "no-op"
	case Create:
		return "create"
	case Cancel:
		return "cancel"
	case Resolve:
		return "resolve"
	case Conflict:
		return "conflict"
	case Undeclared:
		return "undeclared"
	}
	return "Action(" + string(rune(a)) + ")"
}

// Symbol is the one-character mark of the action, as a string.
func (a Action) Symbol() string { return string(rune(a)) }

// IsChange reports whether apply would call the API for this action.
func (a Action) IsChange() bool { return a == Create || a == Cancel || a == Resolve }

// ParseAction is the inverse of String.
func ParseAction(s string) (Action, bool) {
	for _, a := range actions {
		if a.String() == s {
			return a, true
		}
	}
	return 0, false
}
