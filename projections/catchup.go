package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Progress reports how far a catch-up or rebuild has come.
type Progress struct {
	// Position is the last position read from the log.
	Position int64
	// Head is the head of the log when the work began.
	Head int64
	// Events is how many events were read so far.
	Events int64
	// Elapsed is the time since the work began.
	Elapsed time.Duration
}

// CatchUp brings every projection that has not stopped up to the head of
// the log, reading the store in batches of BatchSize events, each applied
// in one transaction per projection. A projection being rebuilt (not built
// yet, its schema changed, or its rebuild interrupted) is replayed first,
// as Rebuild does. progress, when not nil, is called after each batch. It
// returns the lowest checkpoint afterwards, where a relay should start;
// ctx.Err() when ctx ends first; or an error reading the store or writing
// the file. A projection that cannot apply an event stops; the others go
// on.
func (r *Runner) CatchUp(ctx context.Context, progress func(Progress)) (int64, error) {
	unlock := lockAll(r.states)
	defer unlock()
	if rebuilding := rebuilding(r.states); len(rebuilding) > 0 {
		names := make([]string, len(rebuilding))
		for i, st := range rebuilding {
			names[i] = st.p.Name()
		}
		start := time.Now()
		r.log.Info("projections: rebuilding read models from the event store; their answers are not current until it ends", "projections", names)
		if err := r.replayLocked(ctx, rebuilding, progress); err != nil {
			return 0, err
		}
		r.log.Info("projections: read models rebuilt", "projections", names, "seconds", time.Since(start).Round(time.Millisecond).Seconds())
	}
	if err := r.catchUpLocked(ctx, r.states, progress); err != nil {
		return 0, err
	}
	lowest := r.states[0].position()
	for _, st := range r.states[1:] {
		lowest = min(lowest, st.position())
	}
	return lowest, nil
}

// Rebuild drops the named projections (every one when none is named),
// creates their tables empty and replays the whole log into them from the
// store, as CatchUp does, then creates their secondary indexes. A stopped
// projection that is rebuilt runs again. It returns an error for an
// unknown name, ctx.Err() when ctx ends first, or an error reading the
// store or writing the file.
func (r *Runner) Rebuild(ctx context.Context, names []string, progress func(Progress)) error {
	states, err := r.pick(names)
	if err != nil {
		return err
	}
	unlock := lockAll(states)
	defer unlock()
	for _, st := range states {
		if err := r.reset(ctx, st); err != nil {
			return err
		}
	}
	return r.replayLocked(ctx, states, progress)
}

// replayLocked replays the log into states, whose tables lack their
// secondary indexes, then creates those indexes, also when an error
// reading the store cut the replay short (not when ctx ended). A replay
// writes every row again, so it skips the fsyncs while it runs (after a
// power cut in the middle, the next start rebuilds again) and makes the
// result durable at the end with a checkpoint. Its inserts land all over
// the tables' B-trees, so it keeps up to 1 GiB of their pages in SQLite's
// cache rather than reading them back from the file. The caller holds
// every state's apply lock.
func (r *Runner) replayLocked(ctx context.Context, states []*state, progress func(Progress)) error {
	if err := r.db.pragma(ctx, "synchronous = OFF"); err != nil {
		return err
	}
	defer r.db.pragma(context.WithoutCancel(ctx), "wal_checkpoint(TRUNCATE)") // runs last
	defer r.db.pragma(context.WithoutCancel(ctx), "synchronous = NORMAL")
	if err := r.db.pragma(ctx, fmt.Sprintf("cache_size = %d", rebuildCacheKiB)); err != nil {
		return err
	}
	// Deferred calls run last first: the cache shrinks back, then its
	// memory is handed back (a server keeps running after the replay).
	defer r.db.pragma(context.WithoutCancel(ctx), "shrink_memory")
	defer r.db.pragma(context.WithoutCancel(ctx), fmt.Sprintf("cache_size = %d", writeCacheKiB))
	err := r.catchUpLocked(ctx, states, progress)
	if ctx.Err() != nil {
		return err // stopped: the next start rebuilds from the beginning
	}
	// A replay cut short by an error reading the store has still left rows
	// that match their checkpoints: with their indexes, the projections go
	// on from there (the relay heals the rest) instead of running unindexed.
	for _, st := range states {
		if ierr := r.createIndexes(ctx, st); ierr != nil {
			return errors.Join(err, ierr)
		}
	}
	return err
}

// rebuilding returns the states whose rebuild is under way: their tables
// still lack the secondary indexes. The caller holds their apply locks.
func rebuilding(states []*state) []*state {
	return slices.DeleteFunc(slices.Clone(states), func(st *state) bool { return !st.unindexed })
}

// lockAll takes the apply lock of every state, in order, and returns the
// function that releases them.
func lockAll(states []*state) func() {
	for _, st := range states {
		st.apply.Lock()
	}
	return func() {
		for _, st := range states {
			st.apply.Unlock()
		}
	}
}

// catchUpLocked replays the log from the lowest checkpoint of states to the
// head. Each batch is read and decoded once, while the previous one is
// applied, and applied to each projection in its own transaction. The
// caller holds every state's apply lock.
func (r *Runner) catchUpLocked(ctx context.Context, states []*state, progress func(Progress)) error {
	start := time.Now()
	head, err := r.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	from, ok := lowestRunning(states)
	if !ok {
		return nil
	}
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	p := Progress{Position: from, Head: head.Position}
	for b := range r.readAhead(readCtx, from) {
		if b.err != nil {
			return b.err
		}
		for _, st := range states {
			if err := r.commitRetrying(ctx, st, b.events); err != nil {
				return err
			}
		}
		p.Position, p.Events, p.Elapsed = b.events[len(b.events)-1].Position, p.Events+int64(len(b.events)), time.Since(start)
		if progress != nil {
			progress(p)
		}
	}
	return ctx.Err()
}

// readBatch is a batch of decoded events, or the error that ended reading.
type readBatch struct {
	events []decoded
	err    error
}

// readAhead reads and decodes the log after position from, one batch ahead
// of the consumer, until the end of the log, an error (sent last) or ctx
// is done.
func (r *Runner) readAhead(ctx context.Context, from int64) <-chan readBatch {
	out := make(chan readBatch, 1)
	go func() {
		defer close(out)
		for {
			events, err := r.store.ReadAll(ctx, from, r.batch)
			if err != nil {
				err = fmt.Errorf("catch up after position %d: %w", from, err)
			}
			if len(events) == 0 && err == nil {
				return
			}
			select {
			case out <- readBatch{events: r.decodeAll(events, 0), err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			from = events[len(events)-1].Position
		}
	}()
	return out
}

// lowestRunning returns the lowest checkpoint of the states that have not
// stopped, and false when every one has.
func lowestRunning(states []*state) (int64, bool) {
	lowest, found := int64(0), false
	for _, st := range states {
		if st.stopped() {
			continue
		}
		if !found || st.position() < lowest {
			lowest, found = st.position(), true
		}
	}
	return lowest, found
}

// commitRetrying commits batch to a running projection, retrying failures.
// When the batch still fails, it is applied event by event so that the
// projection stops right before the event it cannot apply. It returns
// ctx.Err(), or the failure when another process still holds the
// read-model file's lock or its disk refuses writes (the projection goes
// on from its checkpoint later); other failures stop the projection
// instead.
func (r *Runner) commitRetrying(ctx context.Context, st *state, batch []decoded) error {
	if st.stopped() || len(batch) == 0 || batch[len(batch)-1].Position <= st.position() {
		return nil
	}
	err := r.retry(ctx, func() error { return r.commit(ctx, st, batch) })
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case lockedOut(err):
		return fmt.Errorf("projection %s at position %d: %w", st.p.Name(), st.position(), err)
	case diskTrouble(err):
		r.waitForDisk(st, err)
		return fmt.Errorf("projection %s at position %d: %w", st.p.Name(), st.position(), err)
	case len(batch) > 1:
		for i := range batch {
			if err := r.commitRetrying(ctx, st, batch[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	}
	r.stop(st, batch[0].Position, err)
	return nil
}

// retry calls fn until it succeeds, at most 1 + MaxRetries times, pausing
// RetryInterval, then twice as long each time up to 2 s.
func (r *Runner) retry(ctx context.Context, fn func() error) error {
	delay := r.interval
	err := fn()
	for i := 0; i < r.retries && err != nil; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
		err = fn()
	}
	return err
}
