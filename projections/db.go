package projections

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"

	sqlitedriver "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/patentledger/ledger/domain"
)

// driverName is the database/sql name of the SQLite driver, the same one the
// embedded event store uses.
const driverName = "sqlite"

// FileName is the name of the read-model file in the data folder.
const FileName = "readmodels.db"

// checkpointSchema holds one row per projection: how far it has applied the
// global log, and the fingerprint of the schema its rows were built with.
const checkpointSchema = `CREATE TABLE IF NOT EXISTS projection_checkpoints (
	name        TEXT PRIMARY KEY,
	position    INTEGER NOT NULL,
	fingerprint TEXT NOT NULL
) STRICT`

// ledgerSchema holds the ID of the ledger whose events the read models
// hold (LedgerID, for a store that keeps one), so that read models are
// never served beside another ledger's store (Runner.load).
const ledgerSchema = `CREATE TABLE IF NOT EXISTS read_model_ledger (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	ledger_id TEXT NOT NULL
) STRICT`

// DB is the SQLite file of the read models (WAL mode). Writes go through one
// connection, serialised by Update, which runs each transaction straight on
// the driver's connection (see rawconn.go); queries use a pool of read-only
// connections that WAL lets run beside the writer. It is safe for concurrent
// use.
type DB struct {
	mu    sync.Mutex // serialises write transactions on conn
	pool  *sql.DB    // the write pool: exactly one connection
	conn  *sql.Conn
	stmts map[string]driverStmt // prepared on conn's driver connection, by text; guarded by mu
	read  *sql.DB
	// readStmts are statements prepared on the read pool, by text; guarded
	// by readStmtsMu.
	readStmts   map[string]*sql.Stmt
	readStmtsMu sync.Mutex
	tallies     *tallyIndex  // the facts of the deals and declarations tallies, mirrored in memory
	search      *searchIndex // the listings' search facts, mirrored in memory
	regions     regionsMemo  // the last answer of PatenteeRegions
	path        string       // the file's absolute path, for messages
	log         *slog.Logger // where the first damage met is logged; nil logs nothing
	damage      atomic.Pointer[damagedFileError]
}

// OpenDB opens (creating when needed) the read-model file at path. It returns
// a wrapped SQLite error when the file cannot be opened.
func OpenDB(ctx context.Context, path string) (_ *DB, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read models: open %s: %w", path, err)
	}
	db := &DB{stmts: map[string]driverStmt{}, readStmts: map[string]*sql.Stmt{}, tallies: &tallyIndex{}, search: &searchIndex{}, path: abs}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("read models: open %s: %w", path, err), db.Close())
		}
	}()
	if db.pool, err = sql.Open(driverName, dsn(abs, true)); err != nil {
		return nil, err
	}
	db.pool.SetMaxOpenConns(1)
	if db.conn, err = db.pool.Conn(ctx); err != nil {
		return nil, err
	}
	for _, schema := range []string{checkpointSchema, ledgerSchema} {
		if _, err = db.conn.ExecContext(ctx, schema); err != nil {
			return nil, err
		}
	}
	if db.read, err = sql.Open(driverName, dsn(abs, false)); err != nil {
		return nil, err
	}
	db.read.SetMaxOpenConns(4)
	db.read.SetMaxIdleConns(4)
	return db, nil
}

// Page cache sizes of the write connection, in SQLite's negative-KiB form:
// 64 MiB normally, 1 GiB during a rebuild.
const (
	writeCacheKiB   = -65536
	rebuildCacheKiB = -1048576
)

// walSizeLimit is the size the WAL file is cut back to after a checkpoint.
const walSizeLimit = 64 << 20

// dsn returns the connection string of the file at path. The write
// connection uses WAL with synchronous=NORMAL: a read model can always be
// rebuilt from the store, and a commit stays atomic with its checkpoint, so
// a power cut can only lose the last commits, which are applied again. It
// cuts the WAL file back to walSizeLimit once it is checkpointed, so that
// a rebuild's large commits do not leave it at their size.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", "5000")
	if write {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "NORMAL")
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Add("_pragma", fmt.Sprintf("cache_size(%d)", writeCacheKiB))
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	} else {
		q.Set("mode", "ro")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the statements and connections.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var errs []error
	if db.conn != nil {
		errs = append(errs, db.conn.Raw(func(any) error {
			var errs []error
			for _, s := range db.stmts {
				errs = append(errs, s.Close())
			}
			return errors.Join(errs...)
		}))
		db.stmts = map[string]driverStmt{}
		errs = append(errs, db.conn.Close())
		db.conn = nil
	}
	db.readStmtsMu.Lock()
	for _, s := range db.readStmts {
		errs = append(errs, s.Close())
	}
	db.readStmts = map[string]*sql.Stmt{}
	db.readStmtsMu.Unlock()
	for _, pool := range []*sql.DB{db.read, db.pool} {
		if pool != nil {
			errs = append(errs, pool.Close())
		}
	}
	db.read, db.pool = nil, nil
	return errors.Join(errs...)
}

// readStmt returns the statement of query on the read pool, prepared on
// first use. A transaction runs it through Tx.StmtContext, which prepares
// it once per connection and keeps it there, so a query that runs on every
// request does not pay for SQLite's parser each time. The caller holds no
// connection of the read pool: preparing may need one.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.readStmtsMu.Lock()
	defer db.readStmtsMu.Unlock()
	if s, ok := db.readStmts[query]; ok {
		return s, nil
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.readStmts[query] = s
	return s, nil
}

// Reader returns the pool of read-only connections, for queries.
func (db *DB) Reader() *sql.DB { return db.read }

// Update runs fn in one IMMEDIATE write transaction and commits it when fn
// returns nil; otherwise it rolls back and returns fn's error. The whole
// transaction runs on the driver's connection, inside Conn.Raw, so that no
// statement pays for database/sql's bookkeeping.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return errors.New("read models: closed")
	}
	tx := &Tx{ctx: ctx, db: db}
	err := db.conn.Raw(func(dc any) error {
		conn, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("read models: the driver connection %T cannot prepare with a context", dc)
		}
		tx.conn = conn
		return tx.run(fn)
	})
	if err != nil {
		return db.noteDamage(err)
	}
	if m, ok := tx.moves[TalliesName]; ok {
		db.tallies.committed(m, tx.tallyEvents)
	}
	if m, ok := tx.moves[ListingsName]; ok {
		db.search.committed(m, tx.listingEvents)
	}
	return nil
}

// run runs fn between BEGIN IMMEDIATE and COMMIT, or rolls back when fn or
// the commit fails. The caller holds db.mu and tx.conn (inside Conn.Raw).
func (tx *Tx) run(fn func(tx *Tx) error) (err error) {
	if err := tx.Exec("BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			rb := &Tx{ctx: context.WithoutCancel(tx.ctx), db: tx.db, conn: tx.conn}
			_ = rb.Exec("ROLLBACK") // fails harmlessly when SQLite already rolled back
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Exec("COMMIT")
}

// pragma runs a PRAGMA statement on the write connection, outside any
// transaction.
func (db *DB) pragma(ctx context.Context, stmt string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return errors.New("read models: closed")
	}
	_, err := db.conn.ExecContext(ctx, "PRAGMA "+stmt)
	return err
}

// Tx is a write transaction on the read models: the only way projections
// change rows. Statements are prepared once per text, on the driver's
// connection, and reused. A Tx is valid only inside the Update call that
// made it.
type Tx struct {
	ctx  context.Context
	db   *DB
	conn driver.ConnPrepareContext // the driver connection of db.conn, lent by Conn.Raw
	// args is the buffer of converted arguments, reused by every statement.
	args []driver.NamedValue
	// moves are the checkpoint changes of this transaction, by projection.
	moves map[string]checkpointMove
	// tallyEvents are the events of this transaction that the in-memory
	// tally index mirrors once it commits.
	tallyEvents []domain.Event
	// listingEvents are the events of this transaction that the in-memory
	// search index mirrors once it commits.
	listingEvents []domain.Event
}

// checkpointMove is how a transaction changes a projection's checkpoint:
// from one position to another, or back to 0 with emptied tables.
type checkpointMove struct {
	from, to int64
	reset    bool
}

// moved records that the transaction moves a projection's checkpoint.
func (tx *Tx) moved(name string, m checkpointMove) {
	if tx.moves == nil {
		tx.moves = map[string]checkpointMove{}
	}
	tx.moves[name] = m
}

// Exec runs a statement. It returns the SQLite error, with the statement.
func (tx *Tx) Exec(query string, args ...any) error {
	_, err := tx.execCount(query, args...)
	return err
}

// execCount runs a statement and returns how many rows it changed.
func (tx *Tx) execCount(query string, args ...any) (int64, error) {
	res, err := tx.exec(query, args)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", firstLine(query), err)
	}
	return res.RowsAffected()
}

// QueryRow runs a query expected to return at most one row. Its error, if
// any, is reported by Scan.
func (tx *Tx) QueryRow(query string, args ...any) *Row {
	rows, err := tx.query(query, args)
	if err != nil {
		return &Row{err: err}
	}
	return firstRow(rows)
}

// firstLine shortens a statement for an error message.
func firstLine(query string) string {
	for i, c := range query {
		if c == '\n' || i >= 60 {
			return query[:i] + "…"
		}
	}
	return query
}

// lockedOut reports whether err says that SQLite gave up waiting for a lock
// on the read-model file (SQLITE_BUSY or SQLITE_LOCKED, in any extended
// form): another process (a sqlite3 shell, a VACUUM) held it for longer
// than the busy timeout. The file, not the event, is at fault then, and the
// same event applies once the lock is released.
func lockedOut(err error) bool {
	code, ok := primaryCode(err)
	return ok && (code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED)
}

// Damaged reports whether err says the read-model file is damaged or is
// no database (SQLITE_CORRUPT, SQLITE_NOTADB): it holds nothing the event
// store does not, so deleting it and rebuilding mends it.
func Damaged(err error) bool {
	code, ok := primaryCode(err)
	return ok && (code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB)
}

// primaryCode returns the primary SQLite result code that err carries (its
// extended code's low byte), and false when it carries none.
func primaryCode(err error) (int, bool) {
	var se *sqlitedriver.Error
	if !errors.As(err, &se) {
		return 0, false
	}
	return se.Code() & 0xff, true
}
