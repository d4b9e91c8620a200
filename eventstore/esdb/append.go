package esdb

import (
	"bytes"
	"context"
	"fmt"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
)

// Limits of the writer: how often a batch is retried when other processes
// keep writing to the log first, and how many appends, and about how many
// bytes, one batch takes. EventStoreDB refuses appends over its
// MaxAppendSize (1 MiB by default); a batch stays well below it, and an
// append larger than that on its own fails with the server's error.
const (
	maxAttempts   = 100
	maxBatch      = 64
	maxBatchBytes = 512 << 10
)

// request is an append handed to the writer.
type request struct {
	appends []domain.StreamAppend
	ids     []uuid.UUID // every event's ID, in order
	reply   chan reply
}

// reply is the writer's answer to a request.
type reply struct {
	res domain.AppendResult
	err error
}

// Append writes the events of every StreamAppend atomically, as
// domain.EventStore.Append describes: it checks the expected versions and
// event IDs, writes all events in one EventStoreDB append to the log stream
// (the commit), then copies them into their streams and the ID index (see
// the package doc). Appends waiting at the same time share one log write.
// Append returns once the log write is acknowledged, which EventStoreDB
// gives after fsync. If copying fails after the commit, Append still
// returns the result: the append is committed, and the next append,
// stream read or Open finishes the copy.
//
// It returns errors matching domain.ErrConflict, domain.ErrIdempotencyMismatch
// and domain.ErrInvalidArgument as the port says; event IDs must be UUIDs
// and are compared as UUIDs. If ctx ends before the writer takes the append
// up it returns ctx.Err() and writes nothing; once taken up the append runs
// to completion within Options.Timeout. It returns ErrClosed after Close and
// a wrapped client error when the server cannot be reached; when that
// happens during the log write the outcome is unknown, and repeating the
// append (same IDs) returns the original result if it was committed.
func (s *Store) Append(ctx context.Context, appends ...domain.StreamAppend) (domain.AppendResult, error) {
	if err := validate(appends); err != nil {
		return domain.AppendResult{}, err
	}
	if err := s.enter(); err != nil {
		return domain.AppendResult{}, err
	}
	defer s.inflight.Done()
	if err := ctx.Err(); err != nil {
		return domain.AppendResult{}, err
	}
	req := &request{appends: normalize(appends, time.Now()), reply: make(chan reply, 1)}
	for _, a := range req.appends {
		for _, e := range a.Events {
			req.ids = append(req.ids, uuid.MustParse(e.ID)) // validated
		}
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return domain.AppendResult{}, ctx.Err()
	case <-s.done:
		return domain.AppendResult{}, ErrClosed
	}
	rep := <-req.reply
	return rep.res, rep.err
}

// write is the writer goroutine: it takes every request waiting, up to
// maxBatch requests and maxBatchBytes, runs them as one batch under the
// writer's lock and answers them, until Close closes s.reqs.
func (s *Store) write() {
	defer s.writer.Done()
	var next *request // taken from s.reqs but left for the next batch
	for {
		if next == nil {
			r, ok := <-s.reqs
			if !ok {
				return
			}
			next = r
		}
		var batch []*request
		batch, next = s.gather(next)
		s.sem <- struct{}{}
		replies := s.runBatch(batch)
		s.unlock()
		for i, r := range batch {
			r.reply <- replies[i]
		}
	}
}

// gather returns a batch starting with first and holding the requests
// waiting now, within the batch limits, and the request taken that did not
// fit, if any.
func (s *Store) gather(first *request) ([]*request, *request) {
	batch, size := []*request{first}, first.size()
	for len(batch) < maxBatch {
		var r *request
		select {
		case r = <-s.reqs:
		default:
		}
		if r == nil {
			break
		}
		if size+r.size() > maxBatchBytes {
			return batch, r
		}
		batch, size = append(batch, r), size+r.size()
	}
	return batch, nil
}

// size estimates the bytes the request adds to a log write.
func (r *request) size() int {
	n := 0
	for _, a := range r.appends {
		for _, e := range a.Events {
			n += len(e.Data) + len(e.Type) + len(a.Stream) + 800 // metadata and framing
		}
	}
	return n
}

// runBatch plans the batch against what the streams and the ID index hold,
// which is the log up to s.head once s.applied == s.head, and commits the
// accepted appends in one log write conditional on the log still ending at
// s.head; that write confirms the plan. When another process wrote to the
// log first, it catches up and plans again.
func (s *Store) runBatch(batch []*request) []reply {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	stale := false
	for range maxAttempts {
		if stale || s.applied.Load() < s.head.Position {
			if err := s.catchUp(ctx); err != nil {
				return failAll(batch, fmt.Errorf("esdb: catch up with the log: %w", err))
			}
		}
		p, err := s.plan(ctx, batch)
		if err != nil {
			return failAll(batch, fmt.Errorf("esdb: append: %w", err))
		}
		if len(p.recs) == 0 && p.conflicts && !stale {
			stale = true // no write confirms the conflicts: the streams may lag the log
			continue
		}
		if len(p.recs) > 0 {
			err = s.writeLog(ctx, p.recs)
			if hasCode(err, esdbclient.ErrorCodeWrongExpectedVersion) {
				stale = true
				continue
			}
			if err != nil {
				err = fmt.Errorf("esdb: append to the log: %w", err)
			} else {
				s.cacheVersions(p.versions) // exact: the write confirmed what they were read from
				s.committed(ctx, p.recs)
			}
		}
		return s.answer(ctx, batch, p.outcomes, err)
	}
	return failAll(batch, fmt.Errorf("esdb: append: the log moved on %d times in a row", maxAttempts))
}

// failAll answers every request of batch with err.
func failAll(batch []*request, err error) []reply {
	replies := make([]reply, len(batch))
	for i := range replies {
		replies[i].err = err
	}
	return replies
}

// answer turns the outcomes of a batch into replies: repeats of stored
// appends are answered from the log, and outcomes that need the batch's
// log write get writeErr when it failed.
func (s *Store) answer(ctx context.Context, batch []*request, outs []outcome, writeErr error) []reply {
	replies := make([]reply, len(batch))
	for i, o := range outs {
		switch {
		case o.repeatAt > 0:
			replies[i].res, replies[i].err = s.repeat(ctx, batch[i].appends, o.repeatAt)
		case o.needsCommit && writeErr != nil:
			replies[i].err = writeErr
		default:
			replies[i] = reply{res: o.res, err: o.err}
		}
	}
	return replies
}

// committed records a successful log write of recs and copies the events
// into their streams and the ID index.
func (s *Store) committed(ctx context.Context, recs []record) {
	last := recs[len(recs)-1]
	s.head = domain.Head{Position: last.Position, Hash: last.Hash}
	s.notify.Advance(last.Position)
	if err := s.materialise(ctx, recs); err == nil {
		s.applied.Store(last.Position)
		_ = s.maybeCheckpoint(ctx, s.opts.CheckpointEvery) // a hint only: recovery starts earlier without it
	}
}

// maxCached bounds the stream versions the writer caches.
const maxCached = 100_000

// cacheVersions records stream versions as of s.head.
func (s *Store) cacheVersions(versions map[string]int64) {
	for stream, v := range versions {
		s.cacheVersion(stream, v)
	}
}

// cacheVersion records a stream's version as of s.head, forgetting every
// cached version first when the cache is full.
func (s *Store) cacheVersion(stream string, v int64) {
	if len(s.versions) >= maxCached {
		clear(s.versions)
	}
	s.versions[stream] = v
}

// writeLog appends recs to the log stream in one EventStoreDB append,
// expecting the log to end at s.head: this write is the commit.
func (s *Store) writeLog(ctx context.Context, recs []record) error {
	if s.opts.beforeLog != nil {
		if err := s.opts.beforeLog(); err != nil {
			return err
		}
	}
	evs := make([]esdbclient.EventData, len(recs))
	for i, r := range recs {
		var err error
		if evs[i], err = encodeEvent(r, logEventID(r.Hash)); err != nil {
			return err
		}
	}
	exp := esdbclient.ExpectedRevision(esdbclient.NoStream{})
	if s.head.Position > 0 {
		exp = esdbclient.Revision(uint64(s.head.Position - 1))
	}
	return s.appendRaw(ctx, s.names.log(), exp, evs...)
}

// repeat answers an append whose first event is stored at position first:
// when every event is stored as given, at consecutive positions in the
// order given, it returns the original result; otherwise an idempotency
// mismatch.
func (s *Store) repeat(ctx context.Context, appends []domain.StreamAppend, first int64) (domain.AppendResult, error) {
	n := 0
	for _, a := range appends {
		n += len(a.Events)
	}
	stored, err := s.readLog(ctx, first-1, n)
	if err != nil {
		return domain.AppendResult{}, fmt.Errorf("esdb: read the original of a repeated append: %w", err)
	}
	return original(stored, appends)
}

// original returns the result appends had when stored were written, or an
// idempotency mismatch unless stored[k] is the k-th event of appends, in
// its stream with the same type and data, at consecutive positions.
func original(stored []record, appends []domain.StreamAppend) (domain.AppendResult, error) {
	res := domain.AppendResult{Streams: make([]domain.StreamVersion, len(appends))}
	k := 0
	for i, a := range appends {
		for _, e := range a.Events {
			if err := sameEvent(stored, k, a.Stream, e); err != nil {
				return domain.AppendResult{}, err
			}
			res.Position = stored[k].Position
			res.Streams[i] = domain.StreamVersion{Stream: a.Stream, Version: stored[k].Version}
			k++
		}
	}
	return res, nil
}

// sameEvent returns an idempotency mismatch unless stored[k] is e, stored
// in stream k positions after stored[0] with the same type and data.
func sameEvent(stored []record, k int, stream string, e domain.EventData) error {
	if k >= len(stored) || stored[k].Position != stored[0].Position+int64(k) {
		return domain.IdempotencyMismatch("event %s is not stored right after the append's previous event", e.ID)
	}
	got := stored[k]
	switch {
	case canonicalID(got.ID) != canonicalID(e.ID):
		return domain.IdempotencyMismatch("position %d holds event %s, not %s", got.Position, got.ID, e.ID)
	case got.Stream != stream:
		return domain.IdempotencyMismatch("event %s is stored in stream %q, not %q", e.ID, got.Stream, stream)
	case got.Type != e.Type:
		return domain.IdempotencyMismatch("event %s is stored with type %q, not %q", e.ID, got.Type, e.Type)
	case !bytes.Equal(got.Data, e.Data):
		return domain.IdempotencyMismatch("event %s is stored with other data", e.ID)
	}
	return nil
}
