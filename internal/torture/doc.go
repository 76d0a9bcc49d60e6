// Package torture drives the real invoiceform binary through crashes and faults and checks
// the exactly-once property afterwards. A World is a configuration directory whose declared
// invoices grow round by round, an in-process emulator (real loopback HTTP) injecting seeded
// faults, and a state reached through a Backend; the tests of this package start apply as a
// child process, kill it (SIGKILL), interrupt it (SIGINT), start two at once, or make the
// state's writes fail, then apply to convergence and Check, through /_emulator/ and
// `invoiceform state list -json`, that every declared foreign_id was created exactly once and
// is issued in the state. The Backend is a parameter so that the same torture runs on every
// state store: Bolt (a state file) and Postgres (a workspace of its own on the test server,
// whose connections Cut ends to make the state's writes fail). Build compiles the binary,
// with -race when the tests run under it; processes are started and killed through
// internal/proctest. The scenarios (TestKill, TestInterrupt, TestTwoApplies,
// TestStateWriteFails, TestMixed) are in torture_test.go; `go test` runs one round of each,
// .ci/run sets INVOICEFORM_TORTURE_ROUNDS for the deep run. docs/reliability.md describes
// them and how to replay a failure from its seed.
package torture
