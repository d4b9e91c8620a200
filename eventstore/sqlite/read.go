package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/grow"
)

// defaultReadLimit is the batch ReadAll returns when given no limit.
const defaultReadLimit = 1000

// eventColumns are the columns scanEvent reads, in its order.
const eventColumns = `position, stream, version, id, type, data, recorded_at, actor,
	correlation_id, causation_id, idempotency_key, command_hash, schema_version, hash`

// reader is the pool of read-only connections and its statements.
type reader struct {
	db                          *sql.DB
	all, stream, head, position *sql.Stmt
	ledgerID                    string // "" in a file not yet migrated to hold one
}

// openReader opens the read pool, checks the schema version, reads the
// ledger ID and prepares the read statements. immutable opens the file as
// one nothing changes (SQLite's immutable=1): no lock, no -shm file, and no
// WAL read, for a copy on storage this process may not write.
func openReader(ctx context.Context, path string, opts Options, immutable bool) (_ *reader, err error) {
	name := dsn(path, false, opts.BusyTimeout)
	if immutable {
		name += "&immutable=1"
	}
	db, err := sql.Open(driverName, name)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(opts.MaxReaders)
	db.SetMaxIdleConns(opts.MaxReaders)
	r := &reader{db: db}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.close())
		}
	}()
	version, err := checkSchema(ctx, db)
	if err != nil {
		return nil, err
	}
	if r.ledgerID, err = readLedgerID(ctx, db, version); err != nil {
		return nil, err
	}
	for stmt, text := range r.sql() {
		if *stmt, err = db.PrepareContext(ctx, text); err != nil {
			return nil, fmt.Errorf("prepare %q: %w", text, err)
		}
	}
	return r, nil
}

// sql maps each statement to its text.
func (r *reader) sql() map[**sql.Stmt]string {
	return map[**sql.Stmt]string{
		&r.all:      "SELECT " + eventColumns + " FROM events WHERE position > ? ORDER BY position LIMIT ?",
		&r.stream:   "SELECT " + eventColumns + " FROM events WHERE stream = ? AND version > ? ORDER BY version LIMIT ?",
		&r.head:     "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1",
		&r.position: "SELECT COALESCE(MAX(position), 0) FROM events",
	}
}

// close closes the statements and the pool.
func (r *reader) close() error {
	var errs []error
	for stmt := range r.sql() {
		if *stmt != nil {
			errs = append(errs, (*stmt).Close())
		}
	}
	return errors.Join(append(errs, r.db.Close())...)
}

// lastPosition returns the last position of the log, 0 when it is empty.
func (r *reader) lastPosition(ctx context.Context) (int64, error) {
	var pos int64
	if err := r.position.QueryRowContext(ctx).Scan(&pos); err != nil {
		return 0, fmt.Errorf("read last position: %w", err)
	}
	return pos, nil
}

// ReadStream returns up to limit events of stream after afterVersion, in
// version order, as domain.EventStore.ReadStream describes. A missing stream
// reads as empty. It returns ErrClosed after Close, or a wrapped SQLite error.
func (s *Store) ReadStream(ctx context.Context, stream string, afterVersion int64, limit int) ([]domain.RecordedEvent, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if !domain.StorableText(stream) {
		return nil, nil // no append can name it (domain.StorableText)
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	events, err := query(ctx, s.r.stream, limit, stream, afterVersion, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read stream %q after version %d: %w", stream, afterVersion, err)
	}
	return events, nil
}

// ReadAll returns up to limit events of the global log after afterPosition,
// in position order; limit <= 0 means 1,000. Positions are assigned by the one
// writer under the database write lock, so commit order is position order and
// a follower never misses an event. It returns ErrClosed after Close, or a
// wrapped SQLite error.
func (s *Store) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]domain.RecordedEvent, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultReadLimit
	}
	events, err := query(ctx, s.r.all, limit, afterPosition, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read log after position %d: %w", afterPosition, err)
	}
	return events, nil
}

// query runs a statement that selects eventColumns and scans every row;
// sizeHint (when positive) bounds the number of rows expected.
func query(ctx context.Context, stmt *sql.Stmt, sizeHint int, args ...any) ([]domain.RecordedEvent, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	events := make([]domain.RecordedEvent, 0, max(0, min(sizeHint, 16)))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		events = grow.Append(events, e)
	}
	return events, rows.Err()
}

// scanEvent reads one row of eventColumns.
func scanEvent(rows *sql.Rows) (domain.RecordedEvent, error) {
	var e domain.RecordedEvent
	var recordedAt int64
	m := &e.Meta
	err := rows.Scan(&e.Position, &e.Stream, &e.Version, &e.ID, &e.Type, &e.Data,
		&recordedAt, &m.Actor, &m.CorrelationID, &m.CausationID, &m.IdempotencyKey,
		&m.CommandHash, &m.SchemaVersion, &e.Hash)
	m.RecordedAt = time.UnixMicro(recordedAt).UTC()
	return e, err
}

// Head returns the last position of the global log and its hash; an empty
// log has position 0 and a nil hash. It returns ErrClosed after Close, or a
// wrapped SQLite error.
func (s *Store) Head(ctx context.Context) (domain.Head, error) {
	if err := s.checkOpen(); err != nil {
		return domain.Head{}, err
	}
	var h domain.Head
	err := s.r.head.QueryRowContext(ctx).Scan(&h.Position, &h.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return domain.Head{}, fmt.Errorf("sqlite: read head: %w", err)
	}
	return h, nil
}

// WaitForPosition blocks until the log holds a position greater than
// afterPosition. Appends through this Store wake it at once; commits by other
// processes are found by polling every Options.PollInterval. It returns
// ctx.Err() when ctx ends first, ErrClosed when the store is or gets closed,
// or a wrapped SQLite error from polling.
func (s *Store) WaitForPosition(ctx context.Context, afterPosition int64) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.notify.Wait(ctx, afterPosition, s.q.Done(), ErrClosed, s.opts.PollInterval, s.poll)
}

// poll reads the last position from the file and passes it to the notifier.
func (s *Store) poll(ctx context.Context) error {
	pos, err := s.r.lastPosition(ctx)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("sqlite: poll: %w", err)
	}
	s.notify.Advance(pos)
	return nil
}
