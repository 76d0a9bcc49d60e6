// Package proctest runs a child process for a test: its output kept, waited for with a
// deadline, signalled or killed (SIGKILL) at a moment the test observes, and killed and
// reaped when the test ends. It is the one kill mechanism of the crash tests: the state
// stores' (statetest.KillRounds, a process writing records) and the binary's
// (internal/torture, a real apply).
package proctest
