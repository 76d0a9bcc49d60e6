package pgstate

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// RedactConnString returns connStr with its password replaced by "xxxxx", in URL or
// keyword/value form, for messages. A string that cannot be parsed is returned with
// everything after the scheme's "//" up to the host replaced, or as "(connection string)".
func RedactConnString(connStr string) string {
	if strings.HasPrefix(connStr, "postgres://") || strings.HasPrefix(connStr, "postgresql://") {
		u, err := url.Parse(connStr)
		if err != nil {
			return "(a connection string that is not a valid URL)"
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return kvPassword.ReplaceAllString(connStr, "${1}xxxxx")
}

// kvPassword matches password=VALUE in keyword/value form, quoted or not.
var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// target is where a store lives, for messages: never with the password.
type target struct {
	host, database, user, schema, workspace string
}

func (t target) String() string {
	return "postgres " + t.user + "@" + t.host + "/" + t.database + " workspace \"" + t.workspace + "\""
}

func describe(cfg *pgx.ConnConfig, schema, workspace string) target {
	host := cfg.Host
	if cfg.Port != 0 && !strings.HasPrefix(host, "/") {
		host += ":" + strconv.Itoa(int(cfg.Port))
	}
	return target{host: host, database: cfg.Database, user: cfg.User, schema: schema, workspace: workspace}
}

// secretScrubber removes a password from error texts: pgx and the server usually leave it
// out, but a message that quotes the connection string must not be the one that leaks it.
type secretScrubber struct{ password string }

func (s secretScrubber) scrub(msg string) string {
	// A password of one to three characters would garble every message it was replaced in;
	// such a password protects nothing anyway.
	if len(s.password) >= 4 {
		msg = strings.ReplaceAll(msg, s.password, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(s.password), "xxxxx")
		msg = strings.ReplaceAll(msg, url.PathEscape(s.password), "xxxxx")
	}
	return msg
}
