package pgtest

import (
	"errors"
	"fmt"
	"testing"
)

const refused = "dial tcp 127.0.0.1:5432: connect: connection refused"

// The message of today, when no server answers (and no throwaway cluster is started).
const noServerMsg = "PostgreSQL tests need a server: cannot reach %s: " + refused + "\n" +
	"Start it (.ci/run does: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), set INVOICEFORM_PG_TEST_CONN_STR to another server, or set INVOICEFORM_PG_TESTS=skip to skip these tests."

// TestChoose: which server the tests get, and every message they fail or skip with.
func TestChoose(t *testing.T) {
	const other = "postgres://u:secretpw@db.example:5432/t"
	const tcs = "postgres://root:pw@127.0.0.1:40000/test?sslmode=disable"
	def := fmt.Sprintf(noServerMsg, "postgres://root@127.0.0.1:5432/test?sslmode=disable")
	for _, tc := range []struct {
		name        string
		env         map[string]string
		up          []string // the servers that answer
		throwaway   error    // nil: the throwaway cluster starts
		want        string   // the connection string, or the message
		skip        bool
		started     bool   // a throwaway cluster was asked for
		ours        string // the connection string of the throwaway cluster, if it runs
		throwawayCS string // the one it starts, if not tcs
	}{
		{name: "the default server answers", up: []string{DefaultConnString}, want: DefaultConnString},
		{name: "the default server answers, and is the run's throwaway cluster: joined", up: []string{DefaultConnString},
			ours: DefaultConnString, throwawayCS: DefaultConnString, want: DefaultConnString, started: true},
		{name: "the server of INVOICEFORM_PG_TEST_CONN_STR answers",
			env: map[string]string{"INVOICEFORM_PG_TEST_CONN_STR": other}, up: []string{other}, want: other},
		{name: "the default server is down: a throwaway cluster", want: tcs, started: true},
		{name: "no PostgreSQL binaries: today's message", throwaway: errNoBinaries, started: true,
			want: def + "\n(There are " + errNoBinaries.Error() + ".)"},
		{name: "the throwaway cluster fails to start", throwaway: errors.New("initdb: disk full"), started: true,
			want: def + "\nStarting a throwaway cluster instead failed: initdb: disk full"},
		{name: "INVOICEFORM_PG_TEST_CONN_STR is down: no throwaway cluster",
			env:  map[string]string{"INVOICEFORM_PG_TEST_CONN_STR": other},
			want: fmt.Sprintf(noServerMsg, "postgres://u:xxxxx@db.example:5432/t")},
		{name: "INVOICEFORM_PG_TESTS=skip: skipped, no throwaway cluster",
			env:  map[string]string{"INVOICEFORM_PG_TESTS": "skip"},
			want: "INVOICEFORM_PG_TESTS=skip: " + def, skip: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ping := func(cs string) error {
				for _, up := range tc.up {
					if cs == up {
						return nil
					}
				}
				return errors.New(refused)
			}
			started := false
			throwaway := func() (string, error) {
				started = true
				if tc.throwaway != nil {
					return "", tc.throwaway
				}
				if tc.throwawayCS != "" {
					return tc.throwawayCS, nil
				}
				return tcs, nil
			}
			ours := func(cs string) bool { return cs == tc.ours }
			cs, err := choose(func(k string) string { return tc.env[k] }, ping, ours, throwaway)
			got := cs
			if err != nil {
				got = err.msg
				if err.skip != tc.skip {
					t.Errorf("skip = %v, want %v", err.skip, tc.skip)
				}
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if started != tc.started {
				t.Errorf("throwaway cluster asked for: %v, want %v", started, tc.started)
			}
		})
	}
}
