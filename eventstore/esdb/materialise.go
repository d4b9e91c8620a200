package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
)

// parallel caps the calls one append or roll-forward has in flight.
const parallel = 32

// syncStreams finishes, before a stream is read, any append the log holds
// beyond s.applied: it looks at the log (one small read) and rolls forward
// under the writer's lock only when there is something to do.
func (s *Store) syncStreams(ctx context.Context) error {
	next, err := s.readRaw(ctx, s.names.log(), esdbclient.Revision(uint64(s.applied.Load())), false, 1)
	if err != nil || len(next) == 0 {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	return s.catchUp(ctx)
}

// catchUp materialises every log event after s.applied, a page at a time,
// and moves s.head and s.applied along. It runs under the writer's lock
// (or in Open, before the store is shared). Events their streams already
// hold are skipped: a stream copy is written only after the ID index
// entries of its batch, so a copy that is there has its entry too.
func (s *Store) catchUp(ctx context.Context) error {
	for {
		from := s.applied.Load()
		recs, err := s.readLog(ctx, from, readPage)
		if err != nil || len(recs) == 0 {
			return err
		}
		for i, r := range recs {
			if r.Position != from+int64(i)+1 {
				return fmt.Errorf("log event at revision %d claims position %d", from+int64(i), r.Position)
			}
		}
		missing, err := s.unmaterialised(ctx, recs)
		if err != nil {
			return err
		}
		if err := s.materialise(ctx, missing); err != nil {
			return err
		}
		s.caughtUp(recs)
	}
}

// caughtUp moves the writer's view past recs, which are materialised.
func (s *Store) caughtUp(recs []record) {
	for _, r := range recs {
		s.cacheVersion(r.Stream, r.Version)
	}
	last := recs[len(recs)-1]
	if last.Position > s.head.Position {
		s.head = domain.Head{Position: last.Position, Hash: last.Hash}
	}
	s.applied.Store(last.Position)
	if s.notify != nil {
		s.notify.Advance(last.Position)
	}
}

// unmaterialised returns the events of recs that their streams do not
// hold yet, reading each stream's version once.
func (s *Store) unmaterialised(ctx context.Context, recs []record) ([]record, error) {
	groups := byStream(recs)
	versions := make([]int64, len(groups))
	tasks := make([]func(context.Context) error, len(groups))
	for i, g := range groups {
		tasks[i] = func(ctx context.Context) (err error) {
			versions[i], err = s.streamVersion(ctx, g[0].Stream)
			return err
		}
	}
	if err := runAll(ctx, tasks); err != nil {
		return nil, err
	}
	var missing []record
	for i, g := range groups {
		for _, r := range g {
			if r.Version > versions[i] {
				missing = append(missing, r)
			}
		}
	}
	return missing, nil
}

// materialise copies log events recs into the ID index and then, once every
// entry is written, into their streams. Every write is idempotent, so
// materialising events again, or events another writer is materialising
// at the same time, is harmless. It returns every error met; the writes
// that succeeded stay.
func (s *Store) materialise(ctx context.Context, recs []record) error {
	var ids, streams []func(context.Context) error
	for _, r := range recs {
		ids = append(ids, func(ctx context.Context) error { return s.indexID(ctx, r) })
	}
	if err := runAll(ctx, ids); err != nil {
		return err
	}
	for _, g := range byStream(recs) {
		streams = append(streams, func(ctx context.Context) error { return s.materialiseStream(ctx, g) })
	}
	return runAll(ctx, streams)
}

// byStream splits recs into runs per stream, each in version order.
func byStream(recs []record) [][]record {
	index := map[string]int{}
	var groups [][]record
	for _, r := range recs {
		i, ok := index[r.Stream]
		if !ok {
			i = len(groups)
			index[r.Stream] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	return groups
}

// materialiseStream appends recs, consecutive events of one stream, at the
// revisions their versions say. When the stream already holds some of them
// (a repeat of the work), it appends only the rest; when it holds other
// events there, something else wrote to it and it returns an error.
func (s *Store) materialiseStream(ctx context.Context, recs []record) error {
	stream := recs[0].Stream
	if s.opts.beforeStream != nil {
		if err := s.opts.beforeStream(stream); err != nil {
			return err
		}
	}
	name := s.names.stream(stream)
	for len(recs) > 0 {
		evs, err := streamEvents(recs)
		if err != nil {
			return err
		}
		err = s.appendRaw(ctx, name, revisionBefore(recs[0].Version), evs...)
		if !hasCode(err, esdbclient.ErrorCodeWrongExpectedVersion) {
			return err
		}
		n, err := s.alreadyStored(ctx, name, recs)
		if err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// streamEvents encodes recs for their stream, under their own IDs.
func streamEvents(recs []record) ([]esdbclient.EventData, error) {
	evs := make([]esdbclient.EventData, len(recs))
	for i, r := range recs {
		id, err := uuid.Parse(r.ID)
		if err != nil {
			return nil, fmt.Errorf("event at position %d: ID %q: %w", r.Position, r.ID, err)
		}
		if evs[i], err = encodeEvent(r, id); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// revisionBefore returns the expected revision of an append whose first
// event gets ledger version v: no stream for version 1, else revision v-2.
func revisionBefore(v int64) esdbclient.ExpectedRevision {
	if v <= 1 {
		return esdbclient.NoStream{}
	}
	return esdbclient.Revision(uint64(v - 2))
}

// alreadyStored returns how many of recs the stream name already holds at
// their revisions (at least one), or an error when it holds none of them or
// other events.
func (s *Store) alreadyStored(ctx context.Context, name string, recs []record) (int, error) {
	stored, err := s.readRaw(ctx, name, esdbclient.Revision(uint64(recs[0].Version-1)), false, uint64(len(recs)))
	if err != nil {
		return 0, err
	}
	for i, e := range stored {
		if e.EventID.String() != canonicalID(recs[i].ID) {
			return 0, fmt.Errorf("stream %q holds event %s at version %d, the log says %s: it was written outside the ledger",
				recs[0].Stream, e.EventID, recs[i].Version, recs[i].ID)
		}
	}
	if len(stored) == 0 {
		return 0, fmt.Errorf("stream %q ends before version %d, which the log holds at position %d",
			recs[0].Stream, recs[0].Version, recs[0].Position)
	}
	return len(stored), nil
}

// canonicalID returns id in EventStoreDB's lower-case form, or id itself
// when it is no UUID.
func canonicalID(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return id
	}
	return u.String()
}

// indexID writes the ID index entry of r. An entry already there for the
// same position is fine; one for another position is an error.
func (s *Store) indexID(ctx context.Context, r record) error {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return fmt.Errorf("event at position %d: ID %q: %w", r.Position, r.ID, err)
	}
	ev, err := encodeJSON(id, idEntryType, idEntry{Position: r.Position, Stream: r.Stream, Version: r.Version})
	if err != nil {
		return err
	}
	err = s.appendRaw(ctx, s.names.id(id), esdbclient.NoStream{}, ev)
	if !hasCode(err, esdbclient.ErrorCodeWrongExpectedVersion) {
		return err
	}
	e, found, err := s.lookupID(ctx, id)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("event ID %s: the index refused an entry it does not hold", id)
	case e.Position != r.Position:
		return fmt.Errorf("event ID %s is indexed at position %d, the log holds it at %d", id, e.Position, r.Position)
	}
	return nil
}

// lookupID returns the ID index entry of id, if there is one.
func (s *Store) lookupID(ctx context.Context, id uuid.UUID) (idEntry, bool, error) {
	raw, err := s.readRaw(ctx, s.names.id(id), esdbclient.Start{}, false, 1)
	if err != nil || len(raw) == 0 {
		return idEntry{}, false, err
	}
	var e idEntry
	if err := json.Unmarshal(raw[0].Data, &e); err != nil {
		return idEntry{}, false, fmt.Errorf("ID index of %s: %w", id, err)
	}
	return e, true, nil
}

// maybeCheckpoint records s.applied in the checkpoint stream when it is at
// least minStep past the last record. It runs under the writer's lock (or
// in Open and Close, when nothing else runs).
func (s *Store) maybeCheckpoint(ctx context.Context, minStep int64) error {
	applied := s.applied.Load()
	if applied-s.checkpointed < minStep {
		return nil
	}
	ev, err := encodeJSON(uuid.New(), checkpointType, checkpoint{Position: applied})
	if err != nil {
		return err
	}
	if err := s.appendRaw(ctx, s.names.checkpoint(), esdbclient.Any{}, ev); err != nil {
		return fmt.Errorf("esdb: record checkpoint %d: %w", applied, err)
	}
	s.checkpointed = applied
	return nil
}

// appendRaw appends evs to the EventStoreDB stream name.
func (s *Store) appendRaw(ctx context.Context, name string, exp esdbclient.ExpectedRevision, evs ...esdbclient.EventData) error {
	_, err := s.c.AppendToStream(ctx, name, esdbclient.AppendToStreamOptions{ExpectedRevision: exp}, evs...)
	if err != nil {
		return clientErr(ctx, err)
	}
	return nil
}

// runAll runs tasks, at most parallel at a time, and returns all their
// errors joined. A failing task does not stop the others.
func runAll(ctx context.Context, tasks []func(context.Context) error) error {
	errs := make([]error, len(tasks))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, task := range tasks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = task(ctx)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
