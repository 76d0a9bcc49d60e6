package pgstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/invoiceform/invoiceform/state"
)

// Defaults of Options.
const (
	DefaultSchema    = "invoiceform"
	DefaultWorkspace = "default"
)

// Options configure Open.
type Options struct {
	// ReadOnly opens without the writer lock, as plan does. A workspace (or database) that
	// has no state yet is state.ErrNotFound; nothing is ever created or migrated.
	ReadOnly bool
	// LockTimeout is how long to wait for another writer of the workspace before
	// state.ErrLocked. Zero fails at once.
	LockTimeout time.Duration
	// Writers is how many goroutines will Put at once (apply's -parallelism). A group commit
	// starts as soon as that many writes have joined it, or 1 ms after the first one. Zero
	// means 64.
	Writers int
	// Schema is the PostgreSQL schema of the tables; empty means DefaultSchema.
	Schema string
	// Workspace names the state within the database; empty means DefaultWorkspace.
	Workspace string
	// StatementTimeout bounds every statement on the server (PostgreSQL's statement_timeout),
	// so that a lock held elsewhere or a stuck server ends a run instead of hanging it; zero
	// means DefaultStatementTimeout. A statement_timeout in the connection string wins.
	StatementTimeout time.Duration
	// Callbacks opens a store for `invoiceform serve`: it creates or migrates the tables and
	// the workspace like a writable open, but takes no advisory lock, so it never waits for
	// apply nor holds apply up. Only Snapshot and RecordCallbacks (row locks, one short
	// transaction per batch) may be used; the other writes return state.ErrReadOnly.
	Callbacks bool
}

// DefaultStatementTimeout is the statement_timeout of the store's connection: far above
// what any statement of a 100,000-record state takes, far below "for ever".
const DefaultStatementTimeout = 60 * time.Second

// TCP keepalives of the connection: a server or network that vanishes without closing the
// connection is noticed within about 30 s (15 s idle, then 3 probes 5 s apart), where the
// operating system's defaults would wait for hours.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// ErrConnString is returned by Open when the connection string cannot be parsed.
var ErrConnString = errors.New("state: the PostgreSQL connection string is not valid")

// backquoted is how pgx quotes a connection string in its errors.
var backquoted = regexp.MustCompile("`[^`]*`")

var workspaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// CheckWorkspace reports whether name can name a workspace: 1 to 63 letters, digits, '_',
// '.' and '-', starting with a letter or digit.
func CheckWorkspace(name string) error {
	if !workspaceRE.MatchString(name) {
		return fmt.Errorf("workspace %q: use 1 to 63 letters, digits, '_', '.' and '-', starting with a letter or digit", name)
	}
	return nil
}

// Store is a state in PostgreSQL. It implements state.Store.
type Store struct {
	where     target
	scrub     secretScrubber
	schema    string // quoted
	workspace string
	readOnly  bool
	callbacks bool
	writers   int
	lock      int64

	// Notes are things the operator should be told about the open, such as tables created
	// or migrated; the command prints them.
	Notes []string

	mu     sync.RWMutex // guards closed against Close racing with writers
	closed bool

	connMu sync.Mutex // one statement at a time on conn
	conn   *pgx.Conn

	reqs     chan *request
	loopDone chan struct{}

	// base is the context of what outlives a caller's context: closing, rolling back, and
	// a group commit none of whose callers has given up.
	base context.Context
}

// closeTimeout bounds closing the connection and rolling back.
const closeTimeout = 10 * time.Second

// rollback ends tx whatever ctx's state: the connection must not be left in a transaction.
func (s *Store) rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(s.base, closeTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

var _ state.Store = (*Store)(nil)

// request is one Put or Delete waiting for a group commit.
type request struct {
	ctx  context.Context // the caller's: when it ends, the caller no longer waits
	put  []*state.Record
	del  []string
	done chan error
}

// Open connects to the database of connStr (a postgres:// URL or keyword/value string, as
// libpq takes) and opens the workspace. A writable open creates or migrates the tables,
// takes the workspace's advisory lock (waiting up to opts.LockTimeout) and creates the
// workspace with a new lineage when it has none.
func Open(ctx context.Context, connStr string, opts Options) (*Store, error) {
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	if opts.Workspace == "" {
		opts.Workspace = DefaultWorkspace
	}
	if err := CheckWorkspace(opts.Workspace); err != nil {
		return nil, fmt.Errorf("state: postgres: %v", err)
	}
	cfg, err := pgx.ParseConfig(connStr)
	if err != nil {
		// pgx quotes the string, masking the password only where it can find one: in a string
		// it cannot parse it may not. Quote nothing of it.
		msg := backquoted.ReplaceAllString(err.Error(), "(the connection string)")
		return nil, fmt.Errorf("%w: %s", ErrConnString, secretScrubber{PasswordOf(connStr)}.scrub(msg))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "invoiceform"
	}
	// Put returns only after its commit is durable, whatever the server's default.
	cfg.RuntimeParams["synchronous_commit"] = "on"
	if _, ok := cfg.RuntimeParams["statement_timeout"]; !ok && !strings.Contains(cfg.RuntimeParams["options"], "statement_timeout") {
		d := opts.StatementTimeout
		if d <= 0 {
			d = DefaultStatementTimeout
		}
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(d.Milliseconds(), 10)
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAliveConfig: keepAlive}
	cfg.DialFunc = dialer.DialContext
	s := &Store{
		where:     describe(cfg, opts.Schema, opts.Workspace),
		scrub:     secretScrubber{cfg.Password},
		schema:    pgx.Identifier{opts.Schema}.Sanitize(),
		workspace: opts.Workspace,
		readOnly:  opts.ReadOnly || opts.Callbacks,
		callbacks: opts.Callbacks,
		writers:   opts.Writers,
		lock:      lockKey("workspace:" + opts.Schema + "." + opts.Workspace),
	}
	if s.writers <= 0 {
		s.writers = 64
	}
	// Statements that must finish even when the caller gives up (closing, rolling back) get
	// a context of their own, bounded by closeTimeout.
	s.base = context.WithoutCancel(ctx)
	s.conn, err = pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, s.wrap("cannot connect (check the connection string and that the server is up)", err)
	}
	if err := s.open(ctx, opts); err != nil {
		cctx, cancel := context.WithTimeout(s.base, closeTimeout)
		defer cancel()
		_ = s.conn.Close(cctx)
		return nil, err
	}
	if !s.readOnly {
		s.reqs = make(chan *request, s.writers)
		s.loopDone = make(chan struct{})
		go s.loop()
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, opts Options) error {
	if s.readOnly && !s.callbacks {
		// Only say whether there is a state: never create one.
		tx, err := s.conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
		if err != nil {
			return s.wrap("", err)
		}
		defer s.rollback(tx)
		if err := checkSchema(ctx, tx, opts.Schema); err != nil {
			return s.wrap("", err)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+s.schema+".states WHERE workspace = $1", s.workspace).Scan(&n); err != nil {
			return s.wrap("", err)
		}
		if n == 0 {
			return s.wrap("", state.ErrNotFound)
		}
		return nil
	}
	note, err := migrate(ctx, s.conn, opts.Schema)
	if err != nil {
		return s.wrap("", err)
	}
	if note != "" {
		s.Notes = append(s.Notes, note+" ("+s.where.host+"/"+s.where.database+")")
	}
	if !s.callbacks {
		if err := s.takeLock(ctx, opts.LockTimeout); err != nil {
			return err
		}
	}
	tag, err := s.conn.Exec(ctx, "INSERT INTO "+s.schema+".states (workspace, lineage, serial) VALUES ($1, $2, 0) ON CONFLICT (workspace) DO NOTHING",
		s.workspace, state.NewLineage())
	if err != nil {
		return s.wrap("", err)
	}
	if tag.RowsAffected() == 1 {
		s.Notes = append(s.Notes, fmt.Sprintf("created the state of workspace %q in %s/%s", s.workspace, s.where.host, s.where.database))
	}
	return nil
}

// takeLock takes the workspace's session advisory lock on s.conn, polling until timeout.
func (s *Store) takeLock(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		if err := s.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", s.lock).Scan(&ok); err != nil {
			return s.wrap("taking the lock", err)
		}
		if ok {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("state: %s: %w%s", s.where, state.ErrLocked, s.holder(ctx))
		}
		select {
		case <-ctx.Done():
			return s.wrap("waiting for the lock", ctx.Err())
		case <-time.After(min(left, 100*time.Millisecond)):
		}
	}
}

// holder says who holds the workspace's lock, when the server tells.
func (s *Store) holder(ctx context.Context) string {
	var pid int32
	var app, addr, since string
	err := s.conn.QueryRow(ctx, `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'),
		coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), '')
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		  AND ((l.classid::bigint << 32) | l.objid::bigint) = $1 LIMIT 1`, s.lock).Scan(&pid, &app, &addr, &since)
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" [held by server process %d, %s from %s, connected since %s]", pid, app, addr, since)
}

// Workspace is the name of the store's workspace.
func (s *Store) Workspace() string { return s.workspace }

// Where names the database and workspace for messages, without the password.
func (s *Store) Where() string { return s.where.String() }

// wrapped is an error whose text has passed the password scrubber; it still matches what
// it wraps.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

func (s *Store) wrap(op string, err error) error {
	if op != "" {
		op += ": "
	}
	return &wrapped{msg: s.scrub.scrub(fmt.Sprintf("state: %s: %s%v", s.where, op, err)), err: err}
}

// PasswordOf is the password a connection string gives (in the string, or PGPASSWORD as pgx
// reads it), or "": the command keeps it out of all output.
func PasswordOf(connStr string) string {
	if cfg, err := pgx.ParseConfig(connStr); err == nil {
		return cfg.Password
	}
	if m := kvPassword.FindStringSubmatch(connStr); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}

func (s *Store) use(write bool) (func(), error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, fmt.Errorf("state: %s: %w", s.where, state.ErrClosed)
	}
	if write && s.readOnly {
		s.mu.RUnlock()
		return nil, fmt.Errorf("state: %s: %w", s.where, state.ErrReadOnly)
	}
	return s.mu.RUnlock, nil
}

// Unix nanoseconds hold times from 1678 to 2262; the zero time is stored as NULL.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// checkStorable refuses what PostgreSQL's text and bigint columns cannot hold exactly, so
// that a Put fails with the record named instead of a server error mid-batch.
func checkStorable(r *state.Record) error {
	for name, v := range map[string]string{
		"foreign_id": r.ForeignID, "url": r.URL, "address": r.Address, "status": r.Status, "currency": r.Currency,
		"amount": r.Amount, "sender_currency": r.SenderCurrency, "sender_amount": r.SenderAmount, "last_error": r.LastError,
		"body_hash": r.BodyHash,
	} {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("state: record %q: %s is not UTF-8 text without NUL bytes, which PostgreSQL cannot store", r.ForeignID, name)
		}
	}
	for name, t := range map[string]time.Time{"created_at": r.CreatedAt, "updated_at": r.UpdatedAt, "issued_at": r.IssuedAt} {
		if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
			return fmt.Errorf("state: record %q: %s %s is outside the years 1678 to 2262", r.ForeignID, name, t)
		}
	}
	return nil
}

func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func body(b []byte) []byte {
	if len(b) == 0 {
		return nil // one form for "no body", as the other stores keep
	}
	return b
}

const recordColumns = `foreign_id, phase, body_hash, body, invoice_id, url, address, status, currency, amount,
	sender_currency, sender_amount, fixed_at, release_at, details_known, created_at_ns, updated_at_ns, issued_at_ns, last_error,
	paid_at_ns, history`

// summaryColumns are the columns of a record read as a summary (state.Record.Summarized),
// in the order decodeSummary reads them.
const summaryColumns = `foreign_id, phase, body_hash, invoice_id, status, currency, amount, details_known,
	created_at_ns, updated_at_ns, issued_at_ns, paid_at_ns`

// selectColumns reads recordColumns, the history as JSON text.
var selectColumns = strings.Replace(recordColumns, "history", "history::text", 1)

// historyJSON is the history column's value: a JSON array, never null.
func historyJSON(h []state.Callback) string {
	if len(h) == 0 {
		return "[]"
	}
	b, err := json.Marshal(h)
	if err != nil {
		panic(err) // strings and times only
	}
	return string(b)
}

// rankSQL orders statuses as state.Decide does.
func rankSQL(x string) string {
	return "coalesce(array_position(ARRAY['created','pending','processing','confirmed','failed']::text[], " + x + "), 0)"
}

var recordColumnList = strings.Fields(strings.ReplaceAll(recordColumns, ",", " "))

func recordValues(r *state.Record) []any {
	return []any{r.ForeignID, string(r.Phase), r.BodyHash, body(r.Body), r.ID, r.URL, r.Address, r.Status, r.Currency, r.Amount,
		r.SenderCurrency, r.SenderAmount, r.FixedAt, r.ReleaseAt, r.DetailsKnown, nanos(r.CreatedAt), nanos(r.UpdatedAt), nanos(r.IssuedAt), r.LastError,
		nanos(r.PaidAt), historyJSON(r.History)}
}

// upsertSQL writes many records in one statement: one array per column, unnested. A
// statement per record cost most of a group commit's time in parsing and executing.
func (s *Store) upsertSQL() string {
	var set []string
	for _, c := range recordColumnList[1:] {
		switch c {
		case "status", "paid_at_ns", "history":
			continue
		}
		set = append(set, c+" = EXCLUDED."+c)
	}
	// Once a record has a history, its callback-owned columns are the callbacks' (as
	// state.MergeCallbacks): history and paid time are kept, the status only moves forward.
	noHistory := "records.history = '[]'::jsonb"
	set = append(set,
		"status = CASE WHEN "+noHistory+" THEN EXCLUDED.status WHEN records.status IN ('confirmed', 'failed') THEN records.status WHEN "+
			rankSQL("EXCLUDED.status")+" > "+rankSQL("records.status")+" THEN EXCLUDED.status ELSE records.status END",
		"paid_at_ns = CASE WHEN "+noHistory+" THEN EXCLUDED.paid_at_ns ELSE records.paid_at_ns END",
		"history = CASE WHEN "+noHistory+" THEN EXCLUDED.history ELSE records.history END")
	cols := make([]string, 21)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d", i)
	}
	sel := strings.Join(cols[:20], ", ") + ", c20::jsonb"
	return "INSERT INTO " + s.schema + ".records (workspace, " + recordColumns + ") SELECT $1, " + sel + " FROM unnest(" +
		"$2::text[], $3::text[], $4::text[], $5::bytea[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], " +
		"$12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::boolean[], $17::bigint[], $18::bigint[], $19::bigint[], $20::text[], " +
		"$21::bigint[], $22::text[]) AS u(" + strings.Join(cols, ", ") + ") " +
		"ON CONFLICT (workspace, foreign_id) DO UPDATE SET " + strings.Join(set, ", ")
}

// upsertArgs are the arguments of upsertSQL for records with distinct foreign_ids.
func (s *Store) upsertArgs(rs []*state.Record) []any {
	n := len(rs)
	var (
		ids, phases, hashes, urls, addrs, statuses = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		curs, amounts, scurs, samounts, errs       = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		bodies                                     = make([][]byte, n)
		invoiceIDs                                 = make([]int64, n)
		fixed, release, created, updated, issued   = make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n)
		known                                      = make([]bool, n)
		paid                                       = make([]*int64, n)
		hist                                       = make([]string, n)
	)
	for i, r := range rs {
		ids[i], phases[i], hashes[i], bodies[i], invoiceIDs[i] = r.ForeignID, string(r.Phase), r.BodyHash, body(r.Body), r.ID
		urls[i], addrs[i], statuses[i], curs[i], amounts[i], scurs[i], samounts[i] = r.URL, r.Address, r.Status, r.Currency, r.Amount, r.SenderCurrency, r.SenderAmount
		fixed[i], release[i], known[i] = r.FixedAt, r.ReleaseAt, r.DetailsKnown
		created[i], updated[i], issued[i], errs[i] = nanos(r.CreatedAt), nanos(r.UpdatedAt), nanos(r.IssuedAt), r.LastError
		paid[i], hist[i] = nanos(r.PaidAt), historyJSON(r.History)
	}
	return []any{s.workspace, ids, phases, hashes, bodies, invoiceIDs, urls, addrs, statuses, curs, amounts, scurs, samounts,
		fixed, release, known, created, updated, issued, errs, paid, hist}
}

// queueWrites queues the group's writes in order: each run of Puts as one upsert (the last
// Put of a foreign_id in the run wins, as if applied one after another), each Delete as one
// statement.
func (s *Store) queueWrites(b *pgx.Batch, group []*request) {
	var run []*state.Record
	at := map[string]int{}
	flush := func() {
		if len(run) > 0 {
			b.Queue(s.upsertSQL(), s.upsertArgs(run)...)
		}
		run, at = run[:0:0], map[string]int{}
	}
	for _, r := range group {
		for _, rec := range r.put {
			if i, ok := at[rec.ForeignID]; ok {
				run[i] = rec
				continue
			}
			at[rec.ForeignID] = len(run)
			run = append(run, rec)
		}
		if len(r.del) > 0 {
			flush()
			b.Queue("DELETE FROM "+s.schema+".records WHERE workspace = $1 AND foreign_id = ANY($2)", s.workspace, r.del)
		}
	}
	flush()
}

// Snapshot implements state.Store: one REPEATABLE READ transaction, so the records, the
// serial and the binding are of one moment even while a writer commits.
func (s *Store) Snapshot(ctx context.Context) (*state.Snapshot, error) {
	return s.SnapshotWith(ctx, state.SnapshotOptions{})
}

// SnapshotWith implements state.SnapshotWither. With opts.Full set, it reads every record's
// summary columns (no body, no history), asks Full about each, and then reads whole the
// records Full asked for (foreign_id = ANY), all in one repeatable-read transaction: the
// snapshot is of one serial, as Snapshot's is.
func (s *Store) SnapshotWith(ctx context.Context, opts state.SnapshotOptions) (*state.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done, err := s.use(false)
	if err != nil {
		return nil, err
	}
	defer done()
	s.connMu.Lock()
	defer s.connMu.Unlock()
	tx, err := s.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, s.wrap("snapshot", err)
	}
	defer s.rollback(tx)
	snap := &state.Snapshot{}
	var n int
	err = tx.QueryRow(ctx, "SELECT lineage, serial, endpoint, key_fingerprint, (SELECT count(*) FROM "+s.schema+".records WHERE workspace = $1) FROM "+s.schema+".states WHERE workspace = $1", s.workspace).
		Scan(&snap.Lineage, &snap.Serial, &snap.Binding.Endpoint, &snap.Binding.KeyFingerprint, &n)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, s.wrap("snapshot: the workspace was deleted", state.ErrNotFound)
	}
	if err != nil {
		return nil, s.wrap("snapshot", err)
	}
	snap.Records = make(map[string]*state.Record, n)
	if opts.Full == nil {
		_, err = s.readRecords(ctx, tx, snap.Records, n, "", nil)
	} else {
		err = s.readSummaries(ctx, tx, snap.Records, n, opts.Full)
	}
	if err != nil {
		return nil, err
	}
	if snap.Unknown, err = s.readUnknown(ctx, tx); err != nil {
		return nil, s.wrap("snapshot", err)
	}
	return snap, tx.Commit(ctx)
}

// readRecords reads whole the records of the workspace (and, with where, only those it
// selects, given args as $2...) into recs, and returns how many it read; n is about how
// many there are.
func (s *Store) readRecords(ctx context.Context, tx pgx.Tx, recs map[string]*state.Record, n int, where string, args []any) (int, error) {
	rows, err := tx.Query(ctx, "SELECT "+selectColumns+" FROM "+s.schema+".records WHERE workspace = $1"+where, append([]any{s.workspace}, args...)...)
	if err != nil {
		return 0, s.wrap("snapshot", err)
	}
	defer rows.Close()
	slab := make([]state.Record, n)
	dec := newRawDecoder(rows)
	read := 0
	for i := 0; rows.Next(); i++ {
		if i == len(slab) {
			slab, i = make([]state.Record, 64), 0
		}
		r := &slab[i]
		if err := dec.decode(rows.RawValues(), r); err != nil {
			return 0, s.wrap("snapshot", fmt.Errorf("%w: %v", state.ErrCorrupt, err))
		}
		if err := r.Validate(); err != nil {
			return 0, s.wrap("snapshot", fmt.Errorf("%w: %v", state.ErrCorrupt, err))
		}
		recs[r.ForeignID] = r
		read++
	}
	if err := rows.Err(); err != nil {
		return 0, s.wrap("snapshot", err)
	}
	return read, nil
}

// readSummaries reads the summary of every record of the workspace into recs, and then
// whole those full asks for.
func (s *Store) readSummaries(ctx context.Context, tx pgx.Tx, recs map[string]*state.Record, n int, full func(state.Summary) bool) error {
	rows, err := tx.Query(ctx, "SELECT "+summaryColumns+" FROM "+s.schema+".records WHERE workspace = $1", s.workspace)
	if err != nil {
		return s.wrap("snapshot", err)
	}
	defer rows.Close()
	slab := make([]state.Record, n)
	dec := newRawDecoder(rows)
	var whole []string
	for i := 0; rows.Next(); i++ {
		if i == len(slab) {
			slab, i = make([]state.Record, 64), 0
		}
		r := &slab[i]
		if err := dec.decodeSummary(rows.RawValues(), r); err != nil {
			return s.wrap("snapshot", fmt.Errorf("%w: %v", state.ErrCorrupt, err))
		}
		if r.ForeignID == "" || !r.Phase.Valid() {
			return s.wrap("snapshot", fmt.Errorf("%w: record %q: phase %q", state.ErrCorrupt, r.ForeignID, r.Phase))
		}
		recs[r.ForeignID] = r
		if full(r.Summarize()) {
			whole = append(whole, r.ForeignID)
		}
	}
	if err := rows.Err(); err != nil {
		return s.wrap("snapshot", err)
	}
	rows.Close()
	if len(whole) == 0 {
		return nil
	}
	// The same transaction sees the same rows: each asked for is read again, whole, in
	// place of its summary.
	before := len(recs)
	read, err := s.readRecords(ctx, tx, recs, len(whole), " AND foreign_id = ANY($2)", []any{whole})
	if err != nil {
		return err
	}
	if read != len(whole) || len(recs) != before {
		return s.wrap("snapshot", fmt.Errorf("%w: %d records read whole of the %d summarised", state.ErrCorrupt, read, len(whole)))
	}
	return nil
}

// Put implements state.Store. The records join the next group commit.
func (s *Store) Put(ctx context.Context, records ...*state.Record) error {
	if len(records) == 0 {
		return ctx.Err()
	}
	for _, r := range records {
		if err := r.Validate(); err != nil {
			return err
		}
		if err := checkStorable(r); err != nil {
			return err
		}
	}
	put := make([]*state.Record, len(records))
	for i, r := range records {
		put[i] = r.Clone() // the caller may change its records once Put returns
	}
	return s.submit(ctx, &request{put: put})
}

// Delete implements state.Store.
func (s *Store) Delete(ctx context.Context, foreignIDs ...string) error {
	if len(foreignIDs) == 0 {
		return ctx.Err()
	}
	for _, id := range foreignIDs {
		if !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
			// It cannot be in the table; the write still counts, as in the other stores.
			foreignIDs = slicesWithout(foreignIDs, id)
		}
	}
	return s.submit(ctx, &request{del: append([]string{}, foreignIDs...)})
}

func slicesWithout(ids []string, bad string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != bad {
			out = append(out, id)
		}
	}
	return out
}

// submit hands a write to the group-commit loop and waits for its commit. The commit runs
// under the caller's context (see groupContext): a caller that gives up ends its commit
// with an error instead of waiting on a stalled server, and whether the write committed is
// still known when submit returns. (Apply's writes use a context that is never cancelled.)
func (s *Store) submit(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done, err := s.use(true)
	if err != nil {
		return err
	}
	defer done()
	r.ctx, r.done = ctx, make(chan error, 1)
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		return ctx.Err() // never queued: nothing was written
	}
	return <-r.done
}

// loop group-commits queued writes: a group closes when s.writers writes have joined it or
// 1 ms after its first, and commits in one transaction that adds one to the serial per
// write. If the group fails, each write is retried alone, so one bad write fails only its
// own Put.
func (s *Store) loop() {
	defer close(s.loopDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for first := range s.reqs {
		group := []*request{first}
		timer.Reset(time.Millisecond)
	collect:
		for len(group) < s.writers {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break collect
				}
				group = append(group, r)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		err := s.commitGroup(group)
		if err != nil && len(group) > 1 {
			for _, r := range group {
				r.done <- s.commitGroup([]*request{r})
			}
			continue
		}
		for _, r := range group {
			r.done <- err
		}
	}
}

// commitGroup commits group under groupContext.
func (s *Store) commitGroup(group []*request) error {
	ctx, cancel := s.groupContext(group)
	defer cancel()
	return s.commit(ctx, group)
}

// groupContext is the context of a group's commit: it ends when every caller of the group
// has given up, never while one of them still waits for the outcome.
func (s *Store) groupContext(group []*request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(s.base)
	var left atomic.Int32
	left.Store(int32(len(group)))
	stops := make([]func() bool, 0, len(group))
	for _, r := range group {
		rctx := r.ctx
		if rctx == nil {
			rctx = s.base
		}
		stops = append(stops, context.AfterFunc(rctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// commit writes a group in one round trip: the statements go as one pipeline ending in a
// single Sync, which PostgreSQL runs as one implicit transaction (all or nothing) and
// commits before it answers, so when the results are read the group is durable. BEGIN and
// COMMIT of an explicit transaction would cost two more round trips per group.
func (s *Store) commit(ctx context.Context, group []*request) error {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	b := &pgx.Batch{}
	s.queueWrites(b, group)
	b.Queue("UPDATE "+s.schema+".states SET serial = serial + $2 WHERE workspace = $1", s.workspace, len(group))
	br := s.conn.SendBatch(ctx, b)
	var rows int64
	for range b.Len() {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return s.wrap("write", err)
		}
		rows = tag.RowsAffected()
	}
	if err := br.Close(); err != nil {
		return s.wrap("write", err)
	}
	if rows != 1 {
		return s.wrap("write", fmt.Errorf("%w: the workspace was deleted", state.ErrNotFound))
	}
	return nil
}

// inTx runs fn in one transaction on the store's connection, committed when fn returns nil;
// errors are named op.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	return s.runTx(ctx, op, true, fn)
}

// inTxAny is inTx for RecordCallbacks, which a store opened with Options.Callbacks may do.
func (s *Store) inTxAny(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	if s.readOnly && !s.callbacks {
		return fmt.Errorf("state: %s: %w", s.where, state.ErrReadOnly)
	}
	return s.runTx(ctx, op, false, fn)
}

func (s *Store) runTx(ctx context.Context, op string, write bool, fn func(tx pgx.Tx) error) error {
	done, err := s.use(write)
	if err != nil {
		return err
	}
	defer done()
	s.connMu.Lock()
	defer s.connMu.Unlock()
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return s.wrap(op, err)
	}
	defer s.rollback(tx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return s.wrap(op, err)
	}
	return nil
}

// Bind implements state.Store. A binding that is already the state's is only read.
func (s *Store) Bind(ctx context.Context, want state.Binding) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.inTx(ctx, "bind", func(tx pgx.Tx) error {
		var have state.Binding
		err := tx.QueryRow(ctx, "SELECT endpoint, key_fingerprint FROM "+s.schema+".states WHERE workspace = $1 FOR UPDATE", s.workspace).
			Scan(&have.Endpoint, &have.KeyFingerprint)
		if err != nil {
			return s.wrap("bind", err)
		}
		if err := state.CheckBinding(have, want); err != nil {
			return fmt.Errorf("%s: %w", s.where, err)
		}
		if have == want {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE "+s.schema+".states SET endpoint = $2, key_fingerprint = $3, serial = serial + 1 WHERE workspace = $1",
			s.workspace, want.Endpoint, want.KeyFingerprint); err != nil {
			return s.wrap("bind", err)
		}
		return nil
	})
}

// Import implements state.Store: records are copied with COPY, the lineage, serial and
// binding set, all in one transaction.
func (s *Store) Import(ctx context.Context, snap *state.Snapshot) error {
	if err := state.CheckImport(snap); err != nil {
		return err
	}
	for _, r := range snap.Records {
		if err := checkStorable(r); err != nil {
			return err
		}
	}
	return s.inTx(ctx, "import", func(tx pgx.Tx) error {
		var n int
		var endpoint string
		err := tx.QueryRow(ctx, "SELECT endpoint, (SELECT count(*) FROM "+s.schema+".records WHERE workspace = $1) FROM "+s.schema+".states WHERE workspace = $1 FOR UPDATE", s.workspace).
			Scan(&endpoint, &n)
		if err != nil {
			return s.wrap("import", err)
		}
		var u int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+s.schema+".unknown_callbacks WHERE workspace = $1", s.workspace).Scan(&u); err != nil {
			return s.wrap("import", err)
		}
		if n > 0 || endpoint != "" || u > 0 {
			return fmt.Errorf("state: %s: import: %w", s.where, state.NotEmpty(n, endpoint, u))
		}
		rows := make([][]any, 0, len(snap.Records))
		for _, r := range state.SortedRecords(snap) {
			rows = append(rows, append([]any{s.workspace}, recordValues(r)...))
		}
		cols := append([]string{"workspace"}, recordColumnList...)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.where.schema, "records"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return s.wrap("import", err)
		}
		if err := s.importUnknown(ctx, tx, snap); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE "+s.schema+".states SET lineage = $2, serial = $3, endpoint = $4, key_fingerprint = $5 WHERE workspace = $1",
			s.workspace, snap.Lineage, int64(snap.Serial), snap.Binding.Endpoint, snap.Binding.KeyFingerprint); err != nil {
			return s.wrap("import", err)
		}
		return nil
	})
}

// Close implements state.Store: it waits for queued writes, releases the lock and the
// connection.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.reqs != nil {
		close(s.reqs)
		<-s.loopDone
	}
	s.connMu.Lock()
	defer s.connMu.Unlock()
	ctx, cancel := context.WithTimeout(s.base, closeTimeout)
	defer cancel()
	if !s.readOnly && !s.callbacks && !s.conn.IsClosed() {
		// Closing the connection releases the lock too; unlocking first says so explicitly.
		_, _ = s.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", s.lock)
	}
	if err := s.conn.Close(ctx); err != nil {
		return s.wrap("close", err)
	}
	return nil
}
