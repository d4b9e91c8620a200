package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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
	if err := validate(appends); err != nil {
		return domain.AppendResult{}, err
	}
	req := &appendRequest{ctx: ctx, reply: make(chan appendReply, 1)}
	req.appends, req.events = normalize(appends, time.Now())
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

// validate returns an invalid_argument error for an append the store must
// refuse before looking at the log.
func validate(appends []domain.StreamAppend) error {
	if len(appends) == 0 {
		return domain.Invalid("appends", "no events to append")
	}
	streams := make(map[string]bool, len(appends))
	ids := make(map[string]bool)
	for i, a := range appends {
		if err := validateStream(i, a, streams); err != nil {
			return err
		}
		for j, e := range a.Events {
			if err := validateEvent(i, j, e, ids); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateStream checks the i-th StreamAppend apart from its events.
func validateStream(i int, a domain.StreamAppend, seen map[string]bool) error {
	field := func(name string) string { return fmt.Sprintf("appends[%d].%s", i, name) }
	switch {
	case a.Stream == "":
		return domain.Invalid(field("stream"), "must not be empty")
	case seen[a.Stream]:
		return domain.Invalid(field("stream"), "stream %q appears twice in one append", a.Stream)
	case a.Expected < domain.ExpectAny:
		return domain.Invalid(field("expected"), "expected version %d is below %d", a.Expected, domain.ExpectAny)
	case len(a.Events) == 0:
		return domain.Invalid(field("events"), "no events")
	}
	seen[a.Stream] = true
	if !storable(a.Stream) {
		return domain.Invalid(field("stream"), "must be valid UTF-8 without NUL bytes")
	}
	return nil
}

// validateEvent checks event j of the i-th StreamAppend.
func validateEvent(i, j int, e domain.EventData, seen map[string]bool) error {
	field := func(name string) string { return fmt.Sprintf("appends[%d].events[%d].%s", i, j, name) }
	switch {
	case e.ID == "":
		return domain.Invalid(field("id"), "must not be empty")
	case e.Type == "":
		return domain.Invalid(field("type"), "must not be empty")
	case seen[e.ID]:
		return domain.Invalid(field("id"), "event ID %s appears twice in one append", e.ID)
	}
	seen[e.ID] = true
	m := e.Meta
	texts := [...]struct{ name, text string }{
		{"id", e.ID}, {"type", e.Type}, {"meta.actor", m.Actor},
		{"meta.correlation_id", m.CorrelationID}, {"meta.causation_id", m.CausationID},
		{"meta.idempotency_key", m.IdempotencyKey}, {"meta.command_hash", m.CommandHash},
	}
	for _, t := range texts {
		if !storable(t.text) {
			return domain.Invalid(field(t.name), "must be valid UTF-8 without NUL bytes")
		}
	}
	return nil
}

// storable reports whether s can be stored as PostgreSQL text: valid UTF-8
// without NUL bytes.
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// normalize returns a copy of appends whose events carry their recorded time
// in UTC to the microsecond (now for a zero time) and non-nil data, and the
// number of events.
func normalize(appends []domain.StreamAppend, now time.Time) ([]domain.StreamAppend, int) {
	out := make([]domain.StreamAppend, len(appends))
	n := 0
	for i, a := range appends {
		events := make([]domain.EventData, len(a.Events))
		for j, e := range a.Events {
			if e.Meta.RecordedAt.IsZero() {
				e.Meta.RecordedAt = now
			}
			e.Meta.RecordedAt = time.UnixMicro(e.Meta.RecordedAt.UnixMicro()).UTC()
			if e.Data == nil {
				e.Data = []byte{}
			}
			events[j] = e
		}
		a.Events = events
		out[i] = a
		n += len(events)
	}
	return out, n
}
