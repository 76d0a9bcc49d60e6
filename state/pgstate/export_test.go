package pgstate

import "github.com/invoiceform/invoiceform/state"

// CommitGroup commits writes as one group, as the group-commit loop does with the writes
// that joined it: each a []*state.Record (a Put) or a []string (a Delete), in order.
func (s *Store) CommitGroup(writes ...any) error {
	var group []*request
	for _, w := range writes {
		switch w := w.(type) {
		case []*state.Record:
			group = append(group, &request{put: w})
		case []string:
			group = append(group, &request{del: w})
		}
	}
	return s.commitGroup(group)
}

// Setting reads a setting of the store's own session, such as statement_timeout.
func (s *Store) Setting(name string) (string, error) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	var v string
	err := s.conn.QueryRow(s.base, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}
