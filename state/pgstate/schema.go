package pgstate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/invoiceform/invoiceform/state"
)

// SchemaVersion is the layout of the tables this package writes. A database migrated by a
// newer invoiceform is refused with state.ErrNewerFormat; an older one is migrated on the
// first writable open.
const SchemaVersion = 2

// migrations[v] takes the schema from version v to v+1. Each runs in the transaction that
// records the new version, so a failed migration leaves the schema as it was. %[1]s is the
// quoted schema name.
var migrations = map[int]string{
	0: `
CREATE TABLE %[1]s.states (
	workspace       text PRIMARY KEY,
	lineage         text NOT NULL,
	serial          bigint NOT NULL,
	endpoint        text NOT NULL DEFAULT '',
	key_fingerprint text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE %[1]s.records (
	workspace       text NOT NULL REFERENCES %[1]s.states (workspace) ON DELETE CASCADE,
	foreign_id      text NOT NULL,
	phase           text NOT NULL CHECK (phase IN ('pending', 'issued', 'cancelled')),
	body_hash       text NOT NULL,
	body            bytea,
	invoice_id      bigint NOT NULL,
	url             text NOT NULL,
	address         text NOT NULL,
	status          text NOT NULL,
	currency        text NOT NULL,
	amount          text NOT NULL,
	sender_currency text NOT NULL,
	sender_amount   text NOT NULL,
	fixed_at        bigint,
	release_at      bigint,
	details_known   boolean NOT NULL,
	created_at_ns   bigint,
	updated_at_ns   bigint,
	issued_at_ns    bigint,
	last_error      text NOT NULL,
	PRIMARY KEY (workspace, foreign_id)
);`,
	// Version 2: each record's callback history (a JSON array of state.Callback) and paid
	// time; the callbacks for foreign_ids no record has, one row per body hash.
	1: `
ALTER TABLE %[1]s.records ADD COLUMN paid_at_ns bigint, ADD COLUMN history jsonb NOT NULL DEFAULT '[]';
CREATE TABLE %[1]s.unknown_callbacks (
	workspace      text NOT NULL REFERENCES %[1]s.states (workspace) ON DELETE CASCADE,
	body_hash      text NOT NULL,
	foreign_id     text NOT NULL,
	invoice_id     bigint NOT NULL,
	received_at_ns bigint NOT NULL,
	callback       jsonb NOT NULL,
	PRIMARY KEY (workspace, body_hash)
);`,
}

// lockKey is the advisory lock key of name: 64 bits of its SHA-256, so that two names
// practically never share a lock.
func lockKey(name string) int64 {
	sum := sha256.Sum256([]byte("invoiceform:" + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// migrate creates the schema and its tables, or brings them up to SchemaVersion. A
// transaction-level advisory lock serialises processes that open a new database at once.
func migrate(ctx context.Context, conn *pgx.Conn, schema string) (note string, err error) {
	// Tables already current: no DDL at all, so that a role with only the privileges of
	// apply (INSERT, UPDATE, DELETE on the tables) opens them. CREATE ... IF NOT EXISTS would
	// ask for CREATE on the schema and the database even when there is nothing to create.
	var current int
	err = conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+pgx.Identifier{schema}.Sanitize()+".schema_version").Scan(&current)
	switch {
	case err == nil && current == SchemaVersion:
		return "", nil
	case err == nil && current > SchemaVersion:
		return "", fmt.Errorf("%w: schema %s has version %d, this invoiceform reads up to %d; upgrade invoiceform", state.ErrNewerFormat, schema, current, SchemaVersion)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("schema:"+schema)); err != nil {
		return "", err
	}
	q := pgx.Identifier{schema}.Sanitize()
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+q); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+q+".schema_version (version integer NOT NULL)"); err != nil {
		return "", err
	}
	var version int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+q+".schema_version").Scan(&version); err != nil {
		return "", err
	}
	if version > SchemaVersion {
		return "", fmt.Errorf("%w: schema %s has version %d, this invoiceform reads up to %d; upgrade invoiceform", state.ErrNewerFormat, schema, version, SchemaVersion)
	}
	if version == SchemaVersion {
		return "", tx.Commit(ctx)
	}
	from := version
	for ; version < SchemaVersion; version++ {
		if _, err := tx.Exec(ctx, fmt.Sprintf(migrations[version], q)); err != nil {
			return "", fmt.Errorf("migrating schema %s from version %d to %d (nothing was changed): %w", schema, version, version+1, err)
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+q+".schema_version"); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+q+".schema_version (version) VALUES ($1)", SchemaVersion); err != nil {
		return "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", err
	}
	if from == 0 {
		return fmt.Sprintf("created the invoiceform tables in schema %s", schema), nil
	}
	return fmt.Sprintf("migrated schema %s from version %d to %d", schema, from, SchemaVersion), nil
}

// checkSchema is the read-only check: the tables exist (else state.ErrNotFound: nothing was
// ever applied to this database) and are not of a newer version.
func checkSchema(ctx context.Context, tx pgx.Tx, schema string) error {
	var version int
	err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+pgx.Identifier{schema}.Sanitize()+".schema_version").Scan(&version)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000"): // undefined_table, invalid_schema_name
		return state.ErrNotFound
	case err != nil:
		return err
	case version == 0:
		return state.ErrNotFound
	case version > SchemaVersion:
		return fmt.Errorf("%w: schema %s has version %d, this invoiceform reads up to %d; upgrade invoiceform", state.ErrNewerFormat, schema, version, SchemaVersion)
	}
	return nil
}
