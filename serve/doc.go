// Package serve is the HTTP receiver of the API's callbacks (invoiceform serve): POST
// /callbacks, GET /healthz and GET /metrics. Each callback is verified and decoded by package
// callback, then recorded through a state.CallbackStore; the answer is 200 only once the
// write has returned, so the API's retries cover a crash. Concurrent callbacks are written
// together (group commit): while one write runs, the next callbacks queue and go in the
// following transaction.
package serve
