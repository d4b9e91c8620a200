package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/patentledger/ledger/domain"
)

// ErrStopped matches the error of a projection that could not apply an event
// after its retries and stopped (see Runner).
var ErrStopped = errors.New("projection stopped")

// StoppedError says which projection stopped, where, and why. It matches
// ErrStopped.
type StoppedError struct {
	Name       string
	Checkpoint int64
	Err        error
}

// Error implements the error interface.
func (e *StoppedError) Error() string {
	return fmt.Sprintf("projection %s stopped at position %d: %v", e.Name, e.Checkpoint, e.Err)
}

// Is reports whether target is ErrStopped.
func (e *StoppedError) Is(target error) bool { return target == ErrStopped }

// Unwrap returns the cause.
func (e *StoppedError) Unwrap() error { return e.Err }

// RunnerOptions configure a Runner. The zero value is a sensible default.
type RunnerOptions struct {
	// Projections are the read models to maintain; All() when nil.
	Projections []Projection
	// Logger receives errors; slog.Default() when nil.
	Logger *slog.Logger
	// Codec decodes stored events; domain.DefaultCodec when nil.
	Codec *domain.Codec
	// BatchSize is how many events a catch-up or rebuild reads and applies
	// in one transaction; defaultBatchSize when zero.
	BatchSize int
	// MaxRetries is how often a failed apply is retried before the
	// projection stops; 3 when zero.
	MaxRetries int
	// RetryInterval is the first pause between retries, doubled each time
	// up to 2 s; 100 ms when zero.
	RetryInterval time.Duration
}

// Status is the state of one projection.
type Status struct {
	Name       string `json:"name"`
	Checkpoint int64  `json:"checkpoint"`
	Healthy    bool   `json:"healthy"`
	Error      string `json:"error,omitempty"`
	// CatchingUp is set by a Pipeline while its first catch-up replays
	// the log the store held when it started (a rebuild, a new data
	// folder, a server down for long): the projection's answers are not
	// yet current.
	CatchingUp bool `json:"catching_up,omitempty"`
	// Waiting is set while the projection cannot write the read-model
	// file (its disk is full, or a write to it failed): it is unhealthy,
	// and goes on by itself once the file can be written again.
	Waiting bool `json:"waiting,omitempty"`
	// Damaged is set when the read-model file was found damaged: the
	// projection is unhealthy until its operator deletes the file and
	// starts the server again (Error names the file).
	Damaged bool `json:"damaged,omitempty"`
}

// defaultBatchSize is how many events a catch-up or rebuild applies in one
// transaction. Events reach the read models in ledger order, not key order,
// so each batch dirties pages all over their B-trees and its commit writes
// every one of them to the WAL: ten times fewer, larger commits than 5,000
// events each took a rebuild of 1,000,000 events from 21–23 s to 16–18 s,
// and batches of 100,000 or 200,000 did no better.
const defaultBatchSize = 50_000

// Runner applies the global log to projections and keeps their checkpoints.
// Events reach it as watermill messages (AddHandlers) or straight from the
// store (CatchUp, Rebuild). Each projection applies events strictly in
// position order: a message at or below its checkpoint is skipped, and a
// message whose predecessor is not the checkpoint first makes it read the
// missing range from the store. A projection that still cannot apply an
// event after its retries stops: it applies nothing more, reports the error
// in Statuses and fails WaitFor, until the process restarts or it is
// rebuilt. A Runner is safe for concurrent use.
type Runner struct {
	db       *DB
	store    domain.EventStore
	codec    *domain.Codec
	log      *slog.Logger
	batch    int
	retries  int
	interval time.Duration
	states   []*state
	byName   map[string]*state
	// startHead is the store's head when the runner was made, which its
	// checkpoints were checked against (readModelOrigin).
	startHead int64
}

// state is the runtime state of one projection.
type state struct {
	p           Projection
	fingerprint string
	apply       sync.Mutex // held while applying: one apply at a time

	// unindexed says the projection is being rebuilt: its tables lack
	// their secondary indexes until the replay reaches the head. Guarded by
	// apply.
	unindexed bool

	mu         sync.Mutex // guards the fields below
	checkpoint int64
	err        error         // non-nil once stopped
	waiting    error         // non-nil while its disk refuses writes (see waitForDisk); cleared by advance
	changed    chan struct{} // closed and replaced on every change
}

// NewRunner returns a runner of the projections in db, fed from store. A
// projection not built yet, whose schema changed since its rows were built
// or whose rebuild was interrupted is dropped, and the next CatchUp
// rebuilds it as Rebuild does. It returns an error when the file cannot be
// read or prepared.
func NewRunner(ctx context.Context, db *DB, store domain.EventStore, opts RunnerOptions) (*Runner, error) {
	r := &Runner{db: db, store: store, codec: opts.Codec, log: opts.Logger, batch: opts.BatchSize,
		retries: opts.MaxRetries, interval: opts.RetryInterval, byName: map[string]*state{}}
	r.setDefaults(opts.Projections)
	origin, err := r.readOrigin(ctx)
	if err != nil {
		return nil, err
	}
	r.startHead = origin.head
	for _, st := range r.states {
		if err := r.load(ctx, st, origin); err != nil {
			return nil, err
		}
	}
	if origin.storeLedger != "" && origin.storeLedger != origin.heldLedger {
		err := r.db.Update(ctx, func(tx *Tx) error {
			return tx.Exec("INSERT OR REPLACE INTO read_model_ledger (id, ledger_id) VALUES (1, ?)", origin.storeLedger)
		})
		if err != nil {
			return nil, fmt.Errorf("record the ledger of the read models: %w", err)
		}
	}
	return r, nil
}

// readModelOrigin is what tells whether the read models were built from
// the runner's store: the ledger they were built from ("" before such IDs
// were recorded), the store's ledger ("" for a store that keeps no ID) and
// the store's head.
type readModelOrigin struct {
	heldLedger, storeLedger string
	head                    int64
}

// readOrigin reads the ledger the read models were built from and the
// store's ledger and head.
func (r *Runner) readOrigin(ctx context.Context) (readModelOrigin, error) {
	var o readModelOrigin
	err := r.db.Reader().QueryRowContext(ctx, "SELECT ledger_id FROM read_model_ledger WHERE id = 1").Scan(&o.heldLedger)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("read the ledger of the read models: %w", err)
	}
	if s, ok := r.store.(domain.LedgerIdentified); ok {
		o.storeLedger = s.LedgerID()
	}
	head, err := r.store.Head(ctx)
	if err != nil {
		return o, fmt.Errorf("read the store's head: %w", err)
	}
	o.head = head.Position
	return o, nil
}

// foreign returns why read models at checkpoint cannot hold the store's
// events, or "": they were built from another ledger, or are ahead of the
// store's head (a store restored from an older backup beside newer read
// models, or a data folder's read models opened with another store).
func (o readModelOrigin) foreign(checkpoint int64) string {
	switch {
	case o.heldLedger != "" && o.storeLedger != "" && o.heldLedger != o.storeLedger:
		return fmt.Sprintf("they were built from ledger %s and the event store holds ledger %s", o.heldLedger, o.storeLedger)
	case checkpoint > o.head:
		return fmt.Sprintf("they hold the log up to position %d and the event store's head is %d", checkpoint, o.head)
	}
	return ""
}

func (r *Runner) setDefaults(ps []Projection) {
	if ps == nil {
		ps = All()
	}
	if r.codec == nil {
		r.codec = domain.DefaultCodec
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.batch <= 0 {
		r.batch = defaultBatchSize
	}
	if r.retries <= 0 {
		r.retries = 3
	}
	if r.interval <= 0 {
		r.interval = 100 * time.Millisecond
	}
	for _, p := range ps {
		st := &state{p: p, fingerprint: fingerprint(p), changed: make(chan struct{})}
		r.states = append(r.states, st)
		r.byName[p.Name()] = st
	}
}

// load reads a projection's checkpoint, resetting the projection when it
// has none, when its stored fingerprint is not its schema's (the schema
// changed, or a rebuild stopped before its end), or when its rows cannot
// hold the store's events (origin.foreign).
func (r *Runner) load(ctx context.Context, st *state, origin readModelOrigin) error {
	var pos int64
	var fp string
	err := r.db.Reader().QueryRowContext(ctx,
		"SELECT position, fingerprint FROM projection_checkpoints WHERE name = ?", st.p.Name()).Scan(&pos, &fp)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && fp != st.fingerprint):
		return r.reset(ctx, st)
	case err != nil:
		return fmt.Errorf("read checkpoint of %s: %w", st.p.Name(), err)
	}
	if why := origin.foreign(pos); why != "" {
		r.log.Warn("projections: the read models do not belong to this event store; rebuilding them from it",
			"projection", st.p.Name(), "why", why)
		return r.reset(ctx, st)
	}
	st.advance(pos)
	return nil
}

// reset drops a projection's tables, creates them empty and sets its
// checkpoint to 0, for a rebuild. It leaves out the secondary indexes,
// which are cheaper to build once at the end of the replay (createIndexes)
// than to keep up row by row, and it stores no schema fingerprint until
// then, so that a process stopped in the middle of the rebuild starts it
// again. The caller holds st.apply or owns st alone.
func (r *Runner) reset(ctx context.Context, st *state) error {
	tables, _ := splitSchema(st.p.Schema())
	err := r.db.Update(ctx, func(tx *Tx) error {
		for _, t := range st.p.Tables() {
			if err := tx.Exec("DROP TABLE IF EXISTS " + t); err != nil {
				return err
			}
		}
		for _, s := range tables {
			if err := tx.Exec(s); err != nil {
				return err
			}
		}
		tx.moved(st.p.Name(), checkpointMove{reset: true})
		return tx.Exec("INSERT OR REPLACE INTO projection_checkpoints (name, position, fingerprint) VALUES (?, 0, '')",
			st.p.Name())
	})
	if err != nil {
		return fmt.Errorf("reset projection %s: %w", st.p.Name(), err)
	}
	st.unindexed = true
	st.mu.Lock()
	st.checkpoint, st.err = 0, nil
	st.notifyLocked()
	st.mu.Unlock()
	return nil
}

// createIndexes creates the secondary indexes that reset left out and
// stores the projection's schema fingerprint.
func (r *Runner) createIndexes(ctx context.Context, st *state) error {
	_, indexes := splitSchema(st.p.Schema())
	err := r.db.Update(ctx, func(tx *Tx) error {
		for _, s := range indexes {
			if err := tx.Exec(s); err != nil {
				return err
			}
		}
		return tx.Exec("UPDATE projection_checkpoints SET fingerprint = ? WHERE name = ?", st.fingerprint, st.p.Name())
	})
	if err != nil {
		return fmt.Errorf("index projection %s: %w", st.p.Name(), err)
	}
	st.unindexed = false
	return nil
}

// splitSchema separates the statements that create secondary indexes from
// the others.
func splitSchema(schema []string) (tables, indexes []string) {
	for _, s := range schema {
		if strings.HasPrefix(s, "CREATE INDEX ") || strings.HasPrefix(s, "CREATE UNIQUE INDEX ") {
			indexes = append(indexes, s)
		} else {
			tables = append(tables, s)
		}
	}
	return tables, indexes
}

// Names returns the names of the runner's projections, in order.
func (r *Runner) Names() []string {
	names := make([]string, len(r.states))
	for i, st := range r.states {
		names[i] = st.p.Name()
	}
	return names
}

// Statuses returns the state of every projection, in order. Every one is
// unhealthy once the read-model file was found damaged (DB.Damage).
func (r *Runner) Statuses() []Status {
	out := make([]Status, len(r.states))
	damage := r.db.Damage()
	for i, st := range r.states {
		cp, _, err := st.progress()
		waiting := st.waitingOn()
		out[i] = Status{Name: st.p.Name(), Checkpoint: cp, Healthy: err == nil && damage == nil && waiting == nil}
		switch {
		case err != nil:
			out[i].Error, out[i].Damaged = err.Error(), Damaged(err)
		case damage != nil:
			out[i].Error, out[i].Damaged = damage.Error(), true
		case waiting != nil:
			out[i].Error, out[i].Waiting = waiting.Error(), true
		}
	}
	return out
}

// WaitFor blocks until each named projection (every one when none is named)
// has applied the log up to position. It returns a *StoppedError when one
// of them has stopped, ctx.Err() when ctx ends first, and an error for an
// unknown name.
func (r *Runner) WaitFor(ctx context.Context, position int64, names ...string) error {
	states, err := r.pick(names)
	if err != nil {
		return err
	}
	for _, st := range states {
		for {
			cp, changed, stopErr := st.progress()
			if stopErr != nil {
				return &StoppedError{Name: st.p.Name(), Checkpoint: cp, Err: stopErr}
			}
			if cp >= position {
				break
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// pick returns the states of the named projections (all of them when none
// is named) in the runner's order, the order in which they are locked.
func (r *Runner) pick(names []string) ([]*state, error) {
	for _, n := range names {
		if _, ok := r.byName[n]; !ok {
			return nil, fmt.Errorf("no projection %q (have %v)", n, r.Names())
		}
	}
	var out []*state
	for _, st := range r.states {
		if len(names) == 0 || slices.Contains(names, st.p.Name()) {
			out = append(out, st)
		}
	}
	return out, nil
}

// AddHandlers subscribes one handler per projection, named after it, to
// Topic on sub. The router should serve the projections only: the
// middleware added here applies to all its handlers. Outermost first: the
// runner's halt (a projection that failed after the retries stops, and its
// later messages are acknowledged without effect), correlation ID, retry,
// and the recoverer, innermost so that a panic becomes an error the retry
// sees. Call it before the router runs.
func (r *Runner) AddHandlers(router *message.Router, sub message.Subscriber) {
	retry := middleware.Retry{MaxRetries: r.retries, InitialInterval: r.interval, MaxInterval: 2 * time.Second,
		Multiplier: 2}
	router.AddMiddleware(r.halt, middleware.CorrelationID, retry.Middleware, middleware.Recoverer)
	for _, st := range r.states {
		router.AddConsumerHandler(st.p.Name(), Topic, sub, r.handler(st))
	}
}

// halt is the outermost middleware: it drops messages for a stopped
// projection and stops a projection whose handler still fails after the
// retries. Failures caused by shutting down, failures to read the store
// while healing a gap, a lock on the read-model file held by another
// process for longer than the busy timeout, and a disk that refuses
// writes to the file (waitForDisk) are passed on: the bus delivers the
// message again.
func (r *Runner) halt(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		st := r.byName[message.HandlerNameFromCtx(msg.Context())]
		if st == nil {
			return h(msg)
		}
		if st.stopped() {
			return nil, nil
		}
		out, err := h(msg)
		if err == nil || msg.Context().Err() != nil {
			return out, err
		}
		var unread *storeReadError
		switch {
		case errors.As(err, &unread):
			r.log.Warn("projections: the store could not be read to heal a gap; the message comes again",
				"projection", st.p.Name(), "error", err)
			return nil, err // the bus delivers the message again
		case lockedOut(err):
			r.log.Warn("projections: another process holds the read-model file's lock; the message comes again",
				"projection", st.p.Name(), "error", err)
			return nil, err
		case diskTrouble(err):
			r.waitForDisk(st, err)
			return nil, err
		}
		pos, _ := strconv.ParseInt(msg.Metadata.Get(MetaPosition), 10, 64)
		r.stop(st, pos, err)
		return nil, nil
	}
}

// handler applies one relayed event to a projection, healing a gap first.
// When the message says that later events of the relay's batch are in the
// store (MetaBatchLast), it reads them and applies them with this one in
// one transaction, so that under load a projection commits batches rather
// than single events; their own messages are then skipped as duplicates.
func (r *Runner) handler(st *state) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		if pos, err := strconv.ParseInt(msg.Metadata.Get(MetaPosition), 10, 64); err == nil && pos <= st.position() {
			return nil // applied already, most often with an earlier message's batch: no need to decode it
		}
		e, prev, err := DecodeMessage(msg)
		if err != nil {
			return err
		}
		st.apply.Lock()
		defer st.apply.Unlock()
		if st.stopped() || e.Position <= st.position() {
			return nil
		}
		ctx := msg.Context()
		if prev != st.position() {
			if err := r.heal(ctx, st, prev); err != nil {
				return err
			}
		}
		last, _ := strconv.ParseInt(msg.Metadata.Get(MetaBatchLast), 10, 64)
		if last > e.Position && r.commitAhead(ctx, st, e.Position, last) {
			return nil
		}
		return r.commit(ctx, st, []decoded{r.decode(e)})
	}
}

// commitAhead reads the events from position first (the one after the
// checkpoint) up to last from the store and commits them in one
// transaction. It reports whether it did; when it could not, the caller
// applies the event at first alone (and so stops on the right event if
// one of them cannot be applied). The caller holds st.apply.
func (r *Runner) commitAhead(ctx context.Context, st *state, first, last int64) bool {
	events, err := r.store.ReadAll(ctx, first-1, int(min(last-first+1, int64(r.batch))))
	if err != nil || len(events) == 0 || events[0].Position != first {
		return false
	}
	return r.commit(ctx, st, r.decodeAll(events, last)) == nil
}

// heal applies, straight from the store, the events after the checkpoint
// up to position through, the predecessor of the message in hand. It
// returns an error when the store holds no event at through: applying the
// message then would skip the events the store has yet to show. The caller
// holds st.apply.
func (r *Runner) heal(ctx context.Context, st *state, through int64) error {
	for st.position() < through {
		events, err := r.store.ReadAll(ctx, st.position(), r.batch)
		if err != nil {
			return &storeReadError{fmt.Errorf("heal the gap up to position %d: %w", through, err)}
		}
		batch := r.decodeAll(events, through)
		if len(batch) == 0 {
			return fmt.Errorf("heal the gap up to position %d: the store holds no event after %d up to it", through, st.position())
		}
		if err := r.commit(ctx, st, batch); err != nil {
			return err
		}
	}
	return nil
}

// storeReadError is a failure to read the store while healing a gap: the
// store, not the event, is at fault (it may be unreachable for a while),
// so the projection does not stop on it; the message is delivered again.
type storeReadError struct{ err error }

func (e *storeReadError) Error() string { return e.err.Error() }

func (e *storeReadError) Unwrap() error { return e.err }

// decoded is a stored event with its payload decoded, or the decoding error.
type decoded struct {
	domain.RecordedEvent
	ev  domain.Event
	err error
}

// decode decodes the payload of e.
func (r *Runner) decode(e domain.RecordedEvent) decoded {
	ev, err := r.codec.Decode(e.Type, e.Data)
	return decoded{RecordedEvent: e, ev: ev, err: err}
}

// decodeAll decodes the events up to position until (all when until is 0).
func (r *Runner) decodeAll(events []domain.RecordedEvent, until int64) []decoded {
	out := make([]decoded, 0, len(events))
	for _, e := range events {
		if until > 0 && e.Position > until {
			break
		}
		out = append(out, r.decode(e))
	}
	return out
}

// commit applies the events of batch above the checkpoint and stores the
// new checkpoint in the same transaction. The caller holds st.apply.
func (r *Runner) commit(ctx context.Context, st *state, batch []decoded) error {
	from := st.position()
	last := from
	err := r.db.Update(ctx, func(tx *Tx) error {
		for _, d := range batch {
			if d.Position <= last {
				continue
			}
			if d.Position != last+1 { // positions are dense in every store: a hole is a damaged log
				return fmt.Errorf("position %d is missing from the store, before %d: the log has a hole there (ledger verify names it); "+
					"the projection stops rather than skip it", last+1, d.Position)
			}
			if d.err != nil {
				return fmt.Errorf("position %d: %w", d.Position, d.err)
			}
			if err := applySafely(st.p, tx, d); err != nil {
				return fmt.Errorf("apply %s at position %d: %w", d.Type, d.Position, err)
			}
			last = d.Position
		}
		if last == from {
			return nil
		}
		return moveCheckpoint(tx, st.p.Name(), from, last)
	})
	if err != nil {
		return err
	}
	st.advance(last)
	return nil
}

// ErrCheckpointMoved is the failure of a commit that finds the stored
// checkpoint elsewhere than this process left it: another process (a
// `ledger rebuild`, a second server on the same file) wrote the read
// model. The transaction is rolled back rather than applying events twice.
var ErrCheckpointMoved = errors.New("the stored checkpoint moved: another process writes this read model")

// moveCheckpoint moves a projection's stored checkpoint from one position
// to another, failing with ErrCheckpointMoved when it is not at from.
func moveCheckpoint(tx *Tx, name string, from, to int64) error {
	n, err := tx.execCount("UPDATE projection_checkpoints SET position = ? WHERE name = ? AND position = ?", to, name, from)
	if err == nil && n != 1 {
		err = fmt.Errorf("%s, expected at %d: %w", name, from, ErrCheckpointMoved)
	}
	if err == nil {
		tx.moved(name, checkpointMove{from: from, to: to})
	}
	return err
}

// applySafely applies one event, turning a panic into an error.
func applySafely(p Projection, tx *Tx, d decoded) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return p.Apply(tx, d.RecordedEvent, d.ev)
}

// stop marks a projection stopped on the event at pos and logs why.
func (r *Runner) stop(st *state, pos int64, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return
	}
	st.err = fmt.Errorf("cannot apply the event at position %d: %w", pos, err)
	st.notifyLocked()
	msg := "projection stopped: it applies nothing more until rebuilt or restarted"
	if Damaged(err) {
		msg = "projection stopped: the read-model file is damaged; delete it and start again (its error says how)"
	}
	r.log.Error(msg, "projection", st.p.Name(), "checkpoint", st.checkpoint, "position", pos, "error", err)
}

// waitForDisk marks the projection as waiting for its disk, which refused
// to write the read-model file (diskTrouble), and logs it the first time:
// it is unhealthy until an event applies again (advance).
func (r *Runner) waitForDisk(st *state, err error) {
	st.mu.Lock()
	first := st.waiting == nil
	st.waiting = fmt.Errorf("waiting for room to write the read-model file, as its disk refused a write (%w); "+
		"the projection goes on by itself once the disk has room", err)
	st.mu.Unlock()
	if first {
		r.log.Error("projections: the read-model file cannot be written (is its disk full?); the projection waits and tries again",
			"projection", st.p.Name(), "checkpoint", st.position(), "error", err)
	}
}

// waitingOn returns why the projection waits for its disk, or nil.
func (st *state) waitingOn() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.waiting
}

// position returns the checkpoint.
func (st *state) position() int64 {
	cp, _, _ := st.progress()
	return cp
}

// stopped reports whether the projection has stopped.
func (st *state) stopped() bool {
	_, _, err := st.progress()
	return err != nil
}

// progress returns the checkpoint, a channel closed on the next change and
// the stop error.
func (st *state) progress() (int64, <-chan struct{}, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.checkpoint, st.changed, st.err
}

// advance moves the checkpoint to pos, ends a wait for the disk and wakes
// waiters.
func (st *state) advance(pos int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if pos > st.checkpoint {
		st.checkpoint, st.waiting = pos, nil
		st.notifyLocked()
	}
}

// notifyLocked wakes every waiter; the caller holds st.mu.
func (st *state) notifyLocked() {
	close(st.changed)
	st.changed = make(chan struct{})
}
