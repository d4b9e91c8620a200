package postgres

import (
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/appendqueue"
)

// planned is the decision on one append: the events to write (none when it
// fails or repeats an earlier append) and its reply once they are written.
type planned struct {
	recs  []domain.RecordedEvent
	reply appendqueue.Reply
}

// plan decides one validated append against what t knows of the log,
// without changing it (accept does). An append whose first event is stored
// is answered as a repeat whatever its expected versions say; otherwise the
// expected versions must hold and no later event may be known to be stored.
// The append's own failure is in the reply; the error is for a failure of
// the transaction.
func (t *txn) plan(appends []domain.StreamAppend) (planned, error) {
	if _, ok := t.stored[appends[0].Events[0].ID]; ok {
		rep, err := t.repeat(appends)
		return planned{reply: rep}, err
	}
	versions, err := t.checkVersions(appends)
	if err == nil {
		err = t.checkNew(appends)
	}
	if err != nil {
		return planned{reply: appendqueue.Reply{Err: err}}, nil
	}
	recs := chain(t.head, appends, versions)
	res := domain.AppendResult{Position: recs[len(recs)-1].Position, Streams: make([]domain.StreamVersion, len(appends))}
	for i, a := range appends {
		res.Streams[i] = domain.StreamVersion{Stream: a.Stream, Version: versions[i] + int64(len(a.Events))}
	}
	return planned{recs: recs, reply: appendqueue.Reply{Res: res}}, nil
}

// accept moves what t knows of the log past recs, the events of a
// request's appends as written.
func (t *txn) accept(recs []domain.RecordedEvent) {
	if len(recs) == 0 {
		return
	}
	for _, r := range recs {
		t.stored[r.ID] = domain.StoredEvent{Position: r.Position, Version: r.Version, Stream: r.Stream, Type: r.Type, Data: r.Data}
		t.versions[r.Stream] = r.Version
	}
	last := recs[len(recs)-1]
	t.head = domain.Head{Position: last.Position, Hash: last.Hash}
}

// checkVersions returns each stream's current version, or a conflict error
// when an expected version does not hold.
func (t *txn) checkVersions(appends []domain.StreamAppend) ([]int64, error) {
	versions := make([]int64, len(appends))
	for i, a := range appends {
		versions[i] = t.versions[a.Stream]
		if a.Expected != domain.ExpectAny && int64(a.Expected) != versions[i] {
			return nil, domain.Conflict(nil, "stream %q is at version %d, expected %d", a.Stream, versions[i], a.Expected)
		}
	}
	return versions, nil
}

// checkNew returns an idempotency mismatch when an event of appends is
// known to be stored. Only the stored events looked up so far are known;
// the unique index on id catches the others at insert.
func (t *txn) checkNew(appends []domain.StreamAppend) error {
	for _, a := range appends {
		for _, e := range a.Events {
			if stored, ok := t.stored[e.ID]; ok {
				return domain.IdempotencyMismatch("event %s is already stored at position %d by another append", e.ID, stored.Position)
			}
		}
	}
	return nil
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

// repeat answers an append whose first event is stored: when every event
// is stored as given, at consecutive positions in the order given, with the
// original result; otherwise with an idempotency mismatch. It looks up the
// events t does not know yet; the error is for a failed lookup.
func (t *txn) repeat(appends []domain.StreamAppend) (appendqueue.Reply, error) {
	var unknown []string
	for _, a := range appends {
		for _, e := range a.Events {
			if _, ok := t.stored[e.ID]; !ok {
				unknown = append(unknown, e.ID)
			}
		}
	}
	if len(unknown) > 0 {
		if err := t.lookup(unknown); err != nil {
			return appendqueue.Reply{}, err
		}
	}
	res := domain.AppendResult{Streams: make([]domain.StreamVersion, len(appends))}
	for i, a := range appends {
		for _, e := range a.Events {
			stored, found := t.stored[e.ID]
			if err := domain.CheckRepeat(stored, found, a.Stream, e, res.Position); err != nil {
				return appendqueue.Reply{Err: err}, nil
			}
			res.Position = stored.Position
			res.Streams[i] = domain.StreamVersion{Stream: a.Stream, Version: stored.Version}
		}
	}
	return appendqueue.Reply{Res: res}, nil
}
