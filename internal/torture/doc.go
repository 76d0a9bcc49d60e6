// Package torture drives the real invoiceform binary through crashes and faults and checks
// the exactly-once property afterwards. A World is a configuration directory whose declared
// invoices grow round by round, an in-process emulator (real loopback HTTP) injecting seeded
// faults, and a state reached through a Backend; the tests of this package start apply as a
// child process, kill it (SIGKILL), interrupt it (SIGINT), start two at once, or make the
// state's writes fail, then apply to convergence and Check, through /_emulator/ and
// `invoiceform state list -json`, that every declared foreign_id was created exactly once and
// is issued in the state. The Backend is a parameter so that the same torture runs on every
// state store: the bbolt file and PostgreSQL. `go test` runs one round of each scenario;
// .ci/run sets INVOICEFORM_TORTURE_ROUNDS for the deep run.
package torture
