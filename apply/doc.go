// Package apply executes a plan: it issues the planned creates, resolves the pending records of
// an interrupted run and sends the planned cancels, with a worker pool and an optional rate
// limit, following the journal protocol of DESIGN.md ("Exactly-once creation"):
//
//  1. before a create is sent, a pending record holding the exact body is committed;
//  2. the request is sent only after that write returned;
//  3. a success whose foreign_id, currency and amount match the request (api.CheckAnswer) is
//     recorded as issued; a definite refusal deletes the pending record and is reported with
//     the config file and line; "already been taken" to a first create means the invoice is
//     not this state's (NotOursError): it fails and nothing is recorded;
//  4. an uncertain outcome (timeout, reset, 5xx, an unreadable or mismatched 2xx, a 3xx or an
//     undocumented 4xx) resends the SAME bytes with backoff and jitter, honouring Retry-After
//     up to MaxRetryWait, within RetryBudget: a later matching success means issued now,
//     "already been taken" means issued by that earlier attempt (Adopted, details unknown, with
//     a warning). A mismatched success is not resent in the run. When the attempts or the
//     budget run out the record stays pending, and the next plan shows a resolve.
//
// When no request succeeds for UnreachableAfter while requests fail without an answer or with
// a 5xx, the run stops starting requests and returns ErrUnreachable.
//
// A resolve change follows rule 4 with the body recorded in the state. A 403 stops the whole
// run; cancelling the context (Ctrl-C) stops starting requests while the ones in flight finish
// and are recorded. Nothing is ever sent without its pending record, so whatever is killed when,
// the next apply resolves what was in flight and no invoice is created twice or forgotten.
//
// apply imports plan, state, api and invoice (the money in its summary); never config (the plan
// carries what it needs), the emulator or the command.
package apply
