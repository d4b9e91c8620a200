package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/appendqueue"
	"github.com/patentledger/ledger/eventstore/internal/headwatch"
)

// writer owns the single write connection and runs the group commits.
type writer struct {
	db    *sql.DB
	conn  *sql.Conn
	stmts writerStmts

	inserts map[int]*sql.Stmt // multi-row INSERTs by row count, prepared when first needed
	args    []any             // reused arguments of the INSERTs
	// migratedFrom is the schema version the file had when the writer
	// opened it (0 for a new file).
	migratedFrom int
}

// writerStmts are the statements the writer prepares once on its connection.
type writerStmts struct {
	begin, commit, rollback        *sql.Stmt
	savepoint, release, rollbackTo *sql.Stmt
	head, streamVersion, byID      *sql.Stmt
}

// sql maps each statement to its text.
func (s *writerStmts) sql() map[**sql.Stmt]string {
	return map[**sql.Stmt]string{
		&s.begin:         "BEGIN IMMEDIATE",
		&s.commit:        "COMMIT",
		&s.rollback:      "ROLLBACK",
		&s.savepoint:     "SAVEPOINT append",
		&s.release:       "RELEASE append",
		&s.rollbackTo:    "ROLLBACK TO append",
		&s.head:          "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1",
		&s.streamVersion: "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = ?",
		&s.byID:          "SELECT position, stream, version, type, data FROM events WHERE id = ?",
	}
}

// openWriter opens the write connection, migrates the schema and prepares
// the writer's statements.
func openWriter(ctx context.Context, path string, opts Options) (_ *writer, err error) {
	db, err := sql.Open(driverName, dsn(path, true, opts.BusyTimeout))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	w := &writer{db: db, inserts: map[int]*sql.Stmt{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, w.closeDB())
		}
	}()
	if w.conn, err = db.Conn(ctx); err != nil {
		return nil, err
	}
	// Savepoints keep the original of every page they change in a
	// sub-journal; in memory rather than in a temp file, that costs no I/O.
	if _, err := w.conn.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err != nil {
		return nil, fmt.Errorf("set temp_store: %w", err)
	}
	if w.migratedFrom, err = migrate(ctx, w.conn); err != nil {
		return nil, err
	}
	for stmt, text := range w.stmts.sql() {
		if *stmt, err = w.conn.PrepareContext(ctx, text); err != nil {
			return nil, fmt.Errorf("prepare %q: %w", text, err)
		}
	}
	return w, nil
}

// closeDB closes the statements, the connection and the pool.
func (w *writer) closeDB() error {
	var errs []error
	for stmt := range w.stmts.sql() {
		if *stmt != nil {
			errs = append(errs, (*stmt).Close())
		}
	}
	for _, stmt := range w.inserts {
		errs = append(errs, stmt.Close())
	}
	if w.conn != nil {
		errs = append(errs, w.conn.Close())
	}
	return errors.Join(append(errs, w.db.Close())...)
}

// run commits batches of the appends queued on reqs until reqs is closed
// and empty, telling notify of each commit. A batch is the first request
// and whatever else is queued, up to the caps of appendqueue.
func (w *writer) run(reqs <-chan *appendqueue.Request, notify *headwatch.Notifier) {
	for first := range reqs {
		b := &appendqueue.Batch{}
		b.Take(first)
		b.Drain(reqs)
		if len(b.Reqs) > 0 {
			w.commit(b.Reqs, notify)
		}
	}
}

// commit runs batch in one transaction, commits it once and answers every
// request. An append that fails alone is undone alone and answered with its
// own error; when the transaction itself fails, every append that had
// succeeded is answered with that failure. A failure of the machine's
// rather than the append's (a lock, a full disk: unavailableWhenTransient)
// matches domain.ErrUnavailable.
func (w *writer) commit(batch []*appendqueue.Request, notify *headwatch.Notifier) {
	replies := make([]appendqueue.Reply, len(batch))
	head, err := w.begin()
	if err == nil {
		err = w.finish(w.applyAll(&head, batch, replies), anySucceeded(replies))
	}
	if err != nil {
		appendqueue.FailAll(replies, fmt.Errorf("sqlite: append: %w", err))
	} else {
		notify.Advance(head.Position)
	}
	for i := range replies {
		replies[i].Err = unavailableWhenTransient(replies[i].Err)
	}
	appendqueue.Answer(batch, replies)
}

// finish ends the transaction: it commits when err is nil and keep is set,
// and rolls back otherwise, returning the first failure. A failed ROLLBACK
// is not reported: it fails harmlessly when SQLite has already rolled back
// (as it does after some I/O errors), and an unusable connection shows at
// the next BEGIN.
func (w *writer) finish(err error, keep bool) error {
	if err == nil && keep {
		if err = w.exec(w.stmts.commit); err == nil {
			return nil
		}
	}
	_ = w.exec(w.stmts.rollback)
	return err
}

// anySucceeded reports whether any reply is a success.
func anySucceeded(replies []appendqueue.Reply) bool {
	for _, r := range replies {
		if r.Err == nil {
			return true
		}
	}
	return false
}

// begin starts the write transaction and reads the end of the log. The head
// is read from the file in every transaction, under the write lock, rather
// than kept in memory: the chain then stays right even when another process
// appends to the same file, for the price of one index lookup per batch.
func (w *writer) begin() (domain.Head, error) {
	if err := w.exec(w.stmts.begin); err != nil {
		return domain.Head{}, err
	}
	var h domain.Head
	err := w.stmts.head.QueryRow().Scan(&h.Position, &h.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return domain.Head{}, w.finish(err, false)
	}
	return h, nil
}

// applyAll applies the requests of batch in order, filling replies. When
// the batch holds several appends, each runs in its own savepoint so that a
// failed one is undone alone. An append alone in its batch needs none: when
// it fails, finish rolls the whole transaction back. It is also cheaper, as
// a savepoint copies every page it changes to its sub-journal. applyAll
// returns an error only when the transaction as a whole failed.
func (w *writer) applyAll(head *domain.Head, batch []*appendqueue.Request, replies []appendqueue.Reply) error {
	for i, r := range batch {
		if err := r.Ctx.Err(); err != nil {
			replies[i].Err = err
			continue
		}
		if len(batch) == 1 {
			res, err := w.apply(head, r.Appends)
			replies[i] = appendqueue.Reply{Res: res, Err: err}
			continue
		}
		rep, err := w.applyInSavepoint(head, r.Appends)
		if err != nil {
			return err
		}
		replies[i] = rep
	}
	return nil
}

// applyInSavepoint applies one append in its own savepoint. The append's own
// failure goes in the reply; the error is for a failure of the transaction.
func (w *writer) applyInSavepoint(head *domain.Head, appends []domain.StreamAppend) (appendqueue.Reply, error) {
	if err := w.exec(w.stmts.savepoint); err != nil {
		return appendqueue.Reply{}, err
	}
	res, err := w.apply(head, appends)
	if err != nil {
		if rbErr := w.exec(w.stmts.rollbackTo); rbErr != nil {
			return appendqueue.Reply{}, errors.Join(err, rbErr)
		}
	}
	if relErr := w.exec(w.stmts.release); relErr != nil {
		return appendqueue.Reply{}, relErr
	}
	return appendqueue.Reply{Res: res, Err: err}, nil
}

// exec runs a statement that takes no arguments.
func (w *writer) exec(stmt *sql.Stmt) error {
	_, err := stmt.Exec()
	return err
}
