package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/grow"
)

// defaultReadLimit is the batch ReadAll returns when given no limit.
const defaultReadLimit = 1000

// eventColumns are the columns scanEvents reads, in its order.
const eventColumns = `position, stream, version, id, type, data, recorded_at, actor,
	correlation_id, causation_id, idempotency_key, command_hash, schema_version, hash`

// The read statements. A NULL limit means no limit.
const (
	readAllSQL    = "SELECT " + eventColumns + " FROM events WHERE position > $1 ORDER BY position LIMIT $2"
	readStreamSQL = "SELECT " + eventColumns + " FROM events WHERE stream = $1 AND version > $2 ORDER BY version LIMIT $3"
	lastSQL       = "SELECT COALESCE(max(position), 0) FROM events"
)

// ReadStream returns up to limit events of stream after afterVersion, in
// version order, as domain.EventStore.ReadStream describes; limit <= 0
// means no limit. A missing stream reads as empty. It returns ErrClosed
// after Close, an error matching domain.ErrUnavailable when PostgreSQL
// cannot be reached, or a wrapped PostgreSQL error.
func (s *Store) ReadStream(ctx context.Context, stream string, afterVersion int64, limit int) ([]domain.RecordedEvent, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if !domain.StorableText(stream) {
		return nil, nil // no append can name it (domain.StorableText)
	}
	var lim *int // NULL: no limit
	if limit > 0 {
		lim = &limit
	}
	events, err := s.query(ctx, limit, readStreamSQL, stream, afterVersion, lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: read stream %q after version %d: %w", stream, afterVersion, err)
	}
	return events, nil
}

// ReadAll returns up to limit events of the global log after afterPosition,
// in position order; limit <= 0 means 1,000. Appends are serialised by a
// row lock held until they commit, so every snapshot holds a prefix of the
// log and a reader that follows it never misses an event (see the package
// documentation). It returns ErrClosed after Close, an error matching
// domain.ErrUnavailable when PostgreSQL cannot be reached, or a wrapped
// PostgreSQL error.
func (s *Store) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]domain.RecordedEvent, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultReadLimit
	}
	events, err := s.query(ctx, limit, readAllSQL, afterPosition, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read log after position %d: %w", afterPosition, err)
	}
	return events, nil
}

// query runs sql, which selects eventColumns, and scans every row; sizeHint
// (when positive) bounds the number of rows expected. Its error is marked
// as bounded marks it.
func (s *Store) query(ctx context.Context, sizeHint int, sql string, args ...any) ([]domain.RecordedEvent, error) {
	events := make([]domain.RecordedEvent, 0, max(0, min(sizeHint, 1024)))
	err := s.bounded(ctx, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		var e domain.RecordedEvent
		m := &e.Meta
		_, err = pgx.ForEachRow(rows, []any{&e.Position, &e.Stream, &e.Version, &e.ID, &e.Type, &e.Data,
			&m.RecordedAt, &m.Actor, &m.CorrelationID, &m.CausationID, &m.IdempotencyKey,
			&m.CommandHash, &m.SchemaVersion, &e.Hash}, func() error {
			m.RecordedAt = m.RecordedAt.UTC()
			events = grow.Append(events, e)
			return nil
		})
		return err
	})
	return events, err
}

// bounded runs read with ctx bounded by the store's read timeout. An error
// that says PostgreSQL cannot be reached, or that the timeout (not ctx)
// ended the read, matches domain.ErrUnavailable; ctx's own end does not.
func (s *Store) bounded(ctx context.Context, read func(context.Context) error) error {
	rctx, cancel := context.WithTimeout(ctx, s.readTimeout)
	defer cancel()
	err := read(rctx)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		return fmt.Errorf("%w: %w",
			domain.Unavailable("the event store (PostgreSQL) did not answer within %s; retry later", s.readTimeout), err)
	}
	return unavailableWhenTransient(err)
}

// Head returns the last position of the global log and its hash; an empty
// log has position 0 and a nil hash. It returns ErrClosed after Close, an
// error matching domain.ErrUnavailable when PostgreSQL cannot be reached, or
// a wrapped PostgreSQL error.
func (s *Store) Head(ctx context.Context) (domain.Head, error) {
	if err := s.checkOpen(); err != nil {
		return domain.Head{}, err
	}
	var h domain.Head
	err := s.bounded(ctx, func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, headSQL).Scan(&h.Position, &h.Hash)
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return domain.Head{}, fmt.Errorf("postgres: read head: %w", err)
	}
	return h, nil
}

// lastPosition returns the last position of the log, 0 when it is empty.
func lastPosition(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var pos int64
	if err := pool.QueryRow(ctx, lastSQL).Scan(&pos); err != nil {
		return 0, fmt.Errorf("read last position: %w", err)
	}
	return pos, nil
}

// WaitForPosition blocks until the log holds a position greater than
// afterPosition. Appends through this Store wake it at once, and commits by
// other nodes as soon as their notification arrives; the listener polls
// every Options.PollInterval as a fallback. It returns ctx.Err() when ctx
// ends first, and ErrClosed when the store is or gets closed.
func (s *Store) WaitForPosition(ctx context.Context, afterPosition int64) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.notify.Wait(ctx, afterPosition, s.q.Done(), ErrClosed, 0, nil)
}
