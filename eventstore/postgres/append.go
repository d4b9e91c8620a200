package postgres

import (
	"context"
	"time"

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
// Append reports its outcome. Append returns ErrClosed after Close, and a
// wrapped PostgreSQL error when the database refuses the append's rows or
// the transaction fails; when a COMMIT fails in flight the append may have
// been written, and repeating it is safe.
func (s *Store) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	if err := domain.ValidateAppend(appends); err != nil {
		return domain.AppendResult{}, err
	}
	req := &appendRequest{ctx: ctx, reply: make(chan appendReply, 1)}
	req.appends, req.events = domain.NormalizeAppend(appends, time.Now())
	if err := s.enqueue(ctx, req); err != nil {
		return domain.AppendResult{}, err
	}
	rep := <-req.reply
	return rep.res, rep.err
}

// enqueue hands req to the writer unless the store is closed or ctx ends
// first.
func (s *Store) enqueue(ctx context.Context, req *appendRequest) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.w.reqs <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
