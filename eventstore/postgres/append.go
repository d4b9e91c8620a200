package postgres

import (
	"context"

	"github.com/patentledger/ledger/domain"
)

// Append writes the events of every StreamAppend atomically, as
// domain.EventStore.Append describes, and returns once PostgreSQL has
// committed them durably. It returns errors matching domain.ErrConflict,
// domain.ErrIdempotencyMismatch and domain.ErrInvalidArgument as the port
// says. Beyond the port, an append that names the same stream twice, or
// whose stream name, event ID, type or metadata text is not valid UTF-8 or
// holds a NUL byte (PostgreSQL text cannot), matches
// domain.ErrInvalidArgument. A zero Meta.RecordedAt is stamped with the
// current time; every RecordedAt is stored in UTC to the microsecond.
//
// If ctx ends before the writer takes the append up, Append returns
// ctx.Err() and writes nothing; once taken up, the append completes and
// Append reports its outcome. Append returns ErrClosed after Close, an error
// matching domain.ErrUnavailable when PostgreSQL cannot be reached or the
// connection is lost, and a wrapped PostgreSQL error when the database
// refuses the append's rows or the transaction fails otherwise; when a
// COMMIT fails in flight the append may have been written, and repeating it
// is safe.
func (s *Store) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	return s.q.Append(ctx, appends)
}
