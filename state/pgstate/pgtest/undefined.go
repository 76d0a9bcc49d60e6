package pgtest

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

func isUndefined(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000")
}
