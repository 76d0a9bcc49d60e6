package plan

// SetSplitFrom sets the number of invoices from which Make plans in two parts, until restore.
func SetSplitFrom(n int) (restore func()) {
	old := splitFrom
	splitFrom = n
	return func() { splitFrom = old }
}
