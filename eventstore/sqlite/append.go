package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/patentledger/ledger/domain"
)

// Append writes the events of every StreamAppend atomically, as
// domain.EventStore.Append describes, and returns once they are durable
// (the WAL is fsync'd). It returns errors matching domain.ErrConflict,
// domain.ErrIdempotencyMismatch and domain.ErrInvalidArgument as the port
// says. Beyond the port, an append that names the same stream twice, an
// empty event type or an expected version below ExpectAny matches
// domain.ErrInvalidArgument, and an append whose first event is new but a
// later event's ID is stored matches domain.ErrIdempotencyMismatch. A zero
// Meta.RecordedAt is stamped with the current time; every RecordedAt is
// stored in UTC to the microsecond.
//
// If ctx ends before the writer takes the append up, Append returns
// ctx.Err() and writes nothing; once taken up, the append completes and
// Append reports its outcome. Append returns ErrReadOnly on a read-only
// store, ErrClosed after Close, and a wrapped SQLite error when the
// transaction fails: one matching domain.ErrUnavailable when another
// process held the file's write lock for longer than Options.BusyTimeout,
// when the disk is full, or when a write to it failed.
func (s *Store) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	if s.w == nil {
		return domain.AppendResult{}, ErrReadOnly
	}
	return s.q.Append(ctx, appends)
}

// apply writes one validated append in the open transaction and, on
// success only, moves head to the last event written. It returns a domain
// error for a conflict or an idempotency mismatch.
//
// A repeat (the first event's ID already stored) is answered whatever the
// expected versions say. apply looks for one only when the write fails, on
// a conflict or on an insert that the unique index on id refuses, which
// saves a query on every ordinary append.
func (w *writer) apply(head *domain.Head, appends []domain.StreamAppend) (domain.AppendResult, error) {
	res, err := w.write(head, appends)
	if err != nil {
		return w.repeatOr(appends, err)
	}
	return res, nil
}

// write checks the expected versions and inserts the events of appends,
// moving head along.
func (w *writer) write(head *domain.Head, appends []domain.StreamAppend) (domain.AppendResult, error) {
	versions, err := w.checkVersions(appends)
	if err != nil {
		return domain.AppendResult{}, err
	}
	recs := chain(*head, appends, versions)
	if err := w.insert(recs); err != nil {
		return domain.AppendResult{}, err
	}
	res := domain.AppendResult{Streams: make([]domain.StreamVersion, len(appends))}
	for i, a := range appends {
		res.Streams[i] = domain.StreamVersion{Stream: a.Stream, Version: versions[i] + int64(len(a.Events))}
	}
	last := recs[len(recs)-1]
	*head = domain.Head{Position: last.Position, Hash: last.Hash}
	res.Position = last.Position
	return res, nil
}

// repeatOr answers appends as a repeat when its first event is stored, and
// returns err otherwise.
func (w *writer) repeatOr(appends []domain.StreamAppend, err error) (domain.AppendResult, error) {
	_, found, lookupErr := w.lookup(appends[0].Events[0].ID)
	switch {
	case lookupErr != nil:
		return domain.AppendResult{}, errors.Join(err, lookupErr)
	case found:
		return w.repeat(appends)
	}
	return domain.AppendResult{}, err
}

// chain returns the events of appends as recorded after head: at the next
// positions, at the next versions of their streams (whose current versions
// are given) and with their chained hashes.
func chain(head domain.Head, appends []domain.StreamAppend, versions []int64) []domain.RecordedEvent {
	var recs []domain.RecordedEvent
	for i, a := range appends {
		for j, e := range a.Events {
			rec := domain.RecordedEvent{Position: head.Position + 1, Stream: a.Stream, Version: versions[i] + int64(j) + 1, EventData: e}
			rec.Hash = domain.ChainHash(head.Hash, rec)
			head = domain.Head{Position: rec.Position, Hash: rec.Hash}
			recs = append(recs, rec)
		}
	}
	return recs
}

// checkVersions returns each stream's current version, or a conflict error
// when an expected version does not hold.
func (w *writer) checkVersions(appends []domain.StreamAppend) ([]int64, error) {
	versions := make([]int64, len(appends))
	for i, a := range appends {
		if err := w.stmts.streamVersion.QueryRow(a.Stream).Scan(&versions[i]); err != nil {
			return nil, fmt.Errorf("read version of stream %q: %w", a.Stream, err)
		}
		if a.Expected != domain.ExpectAny && int64(a.Expected) != versions[i] {
			return nil, domain.Conflict(nil, "stream %q is at version %d, expected %d", a.Stream, versions[i], a.Expected)
		}
	}
	return versions, nil
}

// lookup reads the stored event with the given ID.
func (w *writer) lookup(id string) (domain.StoredEvent, bool, error) {
	var e domain.StoredEvent
	err := w.stmts.byID.QueryRow(id).Scan(&e.Position, &e.Stream, &e.Version, &e.Type, &e.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("look up event %s: %w", id, err)
	}
	return e, true, nil
}

// repeat answers an append whose first event is already stored: when every
// event is stored as given, at consecutive positions in the order given, it
// returns the original result; otherwise an idempotency mismatch.
func (w *writer) repeat(appends []domain.StreamAppend) (domain.AppendResult, error) {
	res := domain.AppendResult{Streams: make([]domain.StreamVersion, len(appends))}
	for i, a := range appends {
		for _, e := range a.Events {
			stored, found, err := w.lookup(e.ID)
			if err != nil {
				return domain.AppendResult{}, err
			}
			if err := domain.CheckRepeat(stored, found, a.Stream, e, res.Position); err != nil {
				return domain.AppendResult{}, err
			}
			res.Position = stored.Position
			res.Streams[i] = domain.StreamVersion{Stream: a.Stream, Version: stored.Version}
		}
	}
	return res, nil
}
