package main

import (
	"fmt"

	"github.com/invoiceform/invoiceform/redact"
	"github.com/invoiceform/invoiceform/state/pgstate"
)

// environSecrets collects the secret values of the environment: the API secret, and the
// PostgreSQL connection string and password. Everything the command writes passes through
// their redaction, whatever the message that would carry them (a parse error quoting a
// linked file, a server echoing a header, a driver quoting its connection string). A secret
// too short to redact without garbling ordinary text is refused before anything runs.
func environSecrets(e *env) (*redact.Redactor, error) {
	r := &redact.Redactor{}
	if err := r.Add("INVOICEFORM_API_SECRET", e.getenv("INVOICEFORM_API_SECRET")); err != nil {
		return nil, err
	}
	if err := addConnString(r, envPGConnStr, e.getenv(envPGConnStr)); err != nil {
		return nil, err
	}
	if err := r.Add("PGPASSWORD", e.getenv("PGPASSWORD")); err != nil {
		return nil, err
	}
	return r, nil
}

// addConnString adds a connection string's password, and the string itself when it holds one
// (without a password it is no secret, and is printed to say where the state is).
func addConnString(r *redact.Redactor, name, connStr string) error {
	pw := pgstate.PasswordOf(connStr)
	if pw == "" {
		return nil
	}
	if err := r.Add("the password of "+name, pw); err != nil {
		return err
	}
	if err := r.Add(name, connStr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
