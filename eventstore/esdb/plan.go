package esdb

import (
	"context"
	"sync"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
)

// outcome is what the writer decided for one request of a batch.
type outcome struct {
	res         domain.AppendResult
	err         error // a conflict or an idempotency mismatch
	repeatAt    int64 // > 0: repeats the stored append whose first event is at this position
	needsCommit bool  // res holds only if the batch's log write succeeds
}

// batchPlan is the plan of one batch: what the lookups found, and the log
// and stream versions as they will be after the requests accepted so far.
type batchPlan struct {
	found    map[uuid.UUID]idEntry
	versions map[string]int64
	head     domain.Head
	pending  map[uuid.UUID]int // ID of an accepted event → its index in recs
	recs     []record
	outcomes []outcome
	// conflicts is set when some request met a conflict.
	conflicts bool
}

// plan looks up, at once, every event ID and the version of every stream of
// the batch, then decides each request in order, as if the ones before it
// had been written.
func (s *Store) plan(ctx context.Context, batch []*request) (*batchPlan, error) {
	p := &batchPlan{found: map[uuid.UUID]idEntry{}, versions: map[string]int64{}, head: s.head,
		pending: map[uuid.UUID]int{}, outcomes: make([]outcome, len(batch))}
	if err := s.lookUp(ctx, batch, p); err != nil {
		return nil, err
	}
	for i, r := range batch {
		p.outcomes[i] = p.decide(r)
		p.conflicts = p.conflicts || domain.ErrorCode(p.outcomes[i].err) == domain.CodeConflict
	}
	return p, nil
}

// lookUp fills p.found with the ID index entries of the batch's event IDs
// and p.versions with the current version of each of its streams.
func (s *Store) lookUp(ctx context.Context, batch []*request, p *batchPlan) error {
	var mu sync.Mutex
	var tasks []func(context.Context) error
	for _, r := range batch {
		for _, id := range r.ids {
			tasks = append(tasks, func(ctx context.Context) error {
				e, ok, err := s.lookupID(ctx, id)
				if ok {
					mu.Lock()
					p.found[id] = e
					mu.Unlock()
				}
				return err
			})
		}
		for _, a := range r.appends {
			if _, seen := p.versions[a.Stream]; seen {
				continue
			}
			if v, cached := s.versions[a.Stream]; cached {
				p.versions[a.Stream] = v
				continue
			}
			p.versions[a.Stream] = 0
			tasks = append(tasks, func(ctx context.Context) error {
				v, err := s.streamVersion(ctx, a.Stream)
				mu.Lock()
				p.versions[a.Stream] = v
				mu.Unlock()
				return err
			})
		}
	}
	return runAll(ctx, tasks)
}

// streamVersion returns the version of stream: the number of its events.
func (s *Store) streamVersion(ctx context.Context, stream string) (int64, error) {
	raw, err := s.readRaw(ctx, s.names.stream(stream), esdbclient.End{}, true, 1)
	if err != nil || len(raw) == 0 {
		return 0, err
	}
	return int64(raw[0].EventNumber) + 1, nil
}

// decide returns the outcome of r: a repeat when its first event is stored
// or accepted earlier in the batch, a mismatch when a later one is, a
// conflict when an expected version does not hold, and else acceptance.
func (p *batchPlan) decide(r *request) outcome {
	first := r.ids[0]
	if e, ok := p.found[first]; ok {
		return outcome{repeatAt: e.Position}
	}
	if i, ok := p.pending[first]; ok {
		res, err := original(p.recs[i:], r.appends)
		return outcome{res: res, err: err, needsCommit: err == nil}
	}
	for _, id := range r.ids[1:] {
		_, stored := p.found[id]
		if _, pending := p.pending[id]; stored || pending {
			return outcome{err: domain.IdempotencyMismatch("event %s is stored, but the append's first event %s is not", id, first)}
		}
	}
	for _, a := range r.appends {
		if v := p.versions[a.Stream]; a.Expected != domain.ExpectAny && int64(a.Expected) != v {
			return outcome{err: domain.Conflict(nil, "stream %q is at version %d, expected %d", a.Stream, v, a.Expected)}
		}
	}
	return p.accept(r)
}

// accept adds r's events to the batch's records, after the ones accepted
// before it, and returns its result.
func (p *batchPlan) accept(r *request) outcome {
	versions := make([]int64, len(r.appends))
	for i, a := range r.appends {
		versions[i] = p.versions[a.Stream]
	}
	recs := chain(p.head, r.appends, versions)
	for i := range recs {
		p.pending[r.ids[i]] = len(p.recs) + i
	}
	p.recs = append(p.recs, recs...)
	last := recs[len(recs)-1]
	p.head = domain.Head{Position: last.Position, Hash: last.Hash}
	res := domain.AppendResult{Position: last.Position, Streams: make([]domain.StreamVersion, len(r.appends))}
	for i, a := range r.appends {
		p.versions[a.Stream] = versions[i] + int64(len(a.Events))
		res.Streams[i] = domain.StreamVersion{Stream: a.Stream, Version: p.versions[a.Stream]}
	}
	return outcome{res: res, needsCommit: true}
}

// chain returns the events of appends as recorded after head: at the next
// positions, at the next versions of their streams (whose current versions
// are given) and with their chained hashes.
func chain(head domain.Head, appends []domain.StreamAppend, versions []int64) []record {
	var recs []record
	for i, a := range appends {
		for j, e := range a.Events {
			rec := record{prev: head.Hash, RecordedEvent: domain.RecordedEvent{
				Position: head.Position + 1, Stream: a.Stream, Version: versions[i] + int64(j) + 1, EventData: e}}
			rec.Hash = domain.ChainHash(head.Hash, rec.RecordedEvent)
			head = domain.Head{Position: rec.Position, Hash: rec.Hash}
			recs = append(recs, rec)
		}
	}
	return recs
}
