// Package pgtest gives tests a PostgreSQL state of their own: the server of
// INVOICEFORM_PG_TEST_CONN_STR (default: the CI server, database test on 127.0.0.1:5432, or,
// when it does not answer, a throwaway cluster of the run's own, started with the machine's
// PostgreSQL binaries), a workspace or schema with a random name, dropped when the test ends.
// The tests are not optional: without a server they fail, unless INVOICEFORM_PG_TESTS=skip.
package pgtest
