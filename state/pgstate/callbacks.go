package pgstate

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/invoiceform/invoiceform/state"
)

var _ state.CallbackStore = (*Store)(nil)

// readUnknown reads the workspace's unknown callbacks in tx.
func (s *Store) readUnknown(ctx context.Context, tx pgx.Tx) ([]*state.UnknownCallback, error) {
	rows, err := tx.Query(ctx, "SELECT foreign_id, invoice_id, callback::text FROM "+s.schema+".unknown_callbacks WHERE workspace = $1", s.workspace)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*state.UnknownCallback
	for rows.Next() {
		u := &state.UnknownCallback{}
		var cb string
		if err := rows.Scan(&u.ForeignID, &u.InvoiceID, &cb); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(cb), &u.Callback); err != nil {
			return nil, fmt.Errorf("%w: unknown callback: %v", state.ErrCorrupt, err)
		}
		u.ReceivedAt = u.ReceivedAt.UTC()
		if err := u.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", state.ErrCorrupt, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	state.SortUnknown(out)
	return out, nil
}

// RecordCallbacks implements state.CallbackStore in one transaction. The records named are
// locked (SELECT ... FOR UPDATE, in foreign_id order so that two receivers never deadlock
// each other) and read as committed, so two processes given the same callback record it
// once: the second finds its body hash in the history. Unknown callbacks are inserted with
// ON CONFLICT DO NOTHING on (workspace, body_hash). It does not take the workspace's
// advisory lock: a store opened with Options.Callbacks records callbacks while apply runs.
func (s *Store) RecordCallbacks(ctx context.Context, in []state.Incoming) ([]state.Outcome, error) {
	if len(in) == 0 {
		return nil, ctx.Err()
	}
	for _, c := range in {
		if err := c.Callback.Validate(); err != nil {
			return nil, err
		}
	}
	var out []state.Outcome
	err := s.inTxAny(ctx, "record callbacks", func(tx pgx.Tx) error {
		ids := make([]string, 0, len(in))
		hashes := make([]string, 0, len(in))
		for _, c := range in {
			ids = append(ids, c.ForeignID)
			hashes = append(hashes, c.Callback.BodyHash)
		}
		sort.Strings(ids)
		rows, err := tx.Query(ctx, "SELECT "+selectColumns+" FROM "+s.schema+".records WHERE workspace = $1 AND foreign_id = ANY($2) ORDER BY foreign_id FOR UPDATE", s.workspace, ids)
		if err != nil {
			return s.wrap("record callbacks", err)
		}
		recs := map[string]*state.Record{}
		dec := newRawDecoder(rows)
		for rows.Next() {
			r := &state.Record{}
			if err := dec.decode(rows.RawValues(), r); err != nil {
				rows.Close()
				return s.wrap("record callbacks", fmt.Errorf("%w: %v", state.ErrCorrupt, err))
			}
			recs[r.ForeignID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.wrap("record callbacks", err)
		}
		have := map[string]bool{}
		rows, err = tx.Query(ctx, "SELECT body_hash FROM "+s.schema+".unknown_callbacks WHERE workspace = $1 AND body_hash = ANY($2)", s.workspace, hashes)
		if err != nil {
			return s.wrap("record callbacks", err)
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return s.wrap("record callbacks", err)
			}
			have[h] = true
		}
		rows.Close()
		o, changed, unknown, err := state.ApplyIncoming(in,
			func(id string) (*state.Record, error) { return recs[id], nil },
			func(h string) (bool, error) { return have[h], nil })
		if err != nil {
			return err
		}
		for id, r := range changed {
			if _, err := tx.Exec(ctx, "UPDATE "+s.schema+".records SET status = $3, history = $4::text::jsonb, paid_at_ns = $5, updated_at_ns = $6 WHERE workspace = $1 AND foreign_id = $2",
				s.workspace, id, r.Status, historyJSON(r.History), nanos(r.PaidAt), nanos(r.UpdatedAt)); err != nil {
				return s.wrap("record callbacks", err)
			}
		}
		for _, u := range unknown {
			cb, err := json.Marshal(u.Callback)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+s.schema+".unknown_callbacks (workspace, body_hash, foreign_id, invoice_id, received_at_ns, callback) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb) ON CONFLICT DO NOTHING",
				s.workspace, u.BodyHash, u.ForeignID, u.InvoiceID, u.ReceivedAt.UnixNano(), string(cb)); err != nil {
				return s.wrap("record callbacks", err)
			}
		}
		if len(changed) > 0 {
			tag, err := tx.Exec(ctx, "UPDATE "+s.schema+".states SET serial = serial + 1 WHERE workspace = $1", s.workspace)
			if err != nil {
				return s.wrap("record callbacks", err)
			}
			if tag.RowsAffected() != 1 {
				return s.wrap("record callbacks", fmt.Errorf("%w: the workspace was deleted", state.ErrNotFound))
			}
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// importUnknown writes snap's unknown callbacks in tx (Import).
func (s *Store) importUnknown(ctx context.Context, tx pgx.Tx, snap *state.Snapshot) error {
	for _, u := range snap.Unknown {
		cb, err := json.Marshal(u.Callback)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+s.schema+".unknown_callbacks (workspace, body_hash, foreign_id, invoice_id, received_at_ns, callback) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)",
			s.workspace, u.BodyHash, u.ForeignID, u.InvoiceID, u.ReceivedAt.UnixNano(), string(cb)); err != nil {
			return s.wrap("import", err)
		}
	}
	return nil
}
