package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Request carries what the command service needs to know about a command
// beyond its fields.
type Request struct {
	// Actor issues the command.
	Actor Actor
	// IdempotencyKey, when set, makes the command retry-safe: a repeat
	// with the same actor, key and fields returns the first result and
	// writes nothing; with other fields it fails with
	// ErrIdempotencyMismatch.
	IdempotencyKey string
	// CorrelationID ties the events to the request that caused them.
	CorrelationID string
	// CausationID is the ID of the message that caused the command.
	CausationID string
}

// Result is the outcome of a command.
type Result struct {
	// Position is the global position of the last event written.
	Position int64
	// ID is the ID the command created (organisation, declaration,
	// licence, transfer, pledge, key), or the patent number.
	ID string
	// Events are the payloads written, in order.
	Events []Event
	// Warnings are soft-limit notes that did not prevent the command.
	Warnings []string
	// Repeat is true when the result is that of an earlier command with
	// the same idempotency key; nothing was written this time.
	Repeat bool
}

// ServiceOptions configure a Service.
type ServiceOptions struct {
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// NewID returns a fresh UUID string; required.
	NewID func() string
	// Codec decodes stored events; DefaultCodec when nil.
	Codec *Codec
	// MaxAttempts bounds how often a command is decided again after a
	// concurrent write won; 8 when zero.
	MaxAttempts int
	// CacheSize is how many streams' states are kept in memory; 10,000
	// when zero.
	CacheSize int
	// Snapshots, when set, keeps snapshots of patents with long streams so
	// that loading them does not replay every event, and of the
	// organisation index (Orgs), so that a restart does not read the whole
	// log again.
	Snapshots SnapshotStore
	// SnapshotEvery is how many events a stream grows by before a new
	// snapshot is taken; 500 when zero.
	SnapshotEvery int
	// OnSnapshotError receives failures to read or write snapshots, which
	// never fail a command; nil ignores them.
	OnSnapshotError func(error)
	// SoleWriter says that no other running process makes import claims
	// in the store (a server on SQLite, holding the data folder's lock): an
	// import under an idempotency key that another process claimed and
	// never finished is one whose process died, which a repeat runs again
	// at once (ImportOnce).
	SoleWriter bool
	// StaleImportAfter is how long after its claim an unfinished import of
	// another process is taken for dead when the store has other writers;
	// an hour when zero. A repeat before then answers ErrConflict.
	StaleImportAfter time.Duration
	// OnAppend, when set, is told the outcome of every append the service
	// makes to the store: nil once the store took it, else its error (an
	// error matching ErrUnavailable says the store takes no writes now).
	// It is called from many goroutines and must not block.
	OnAppend func(err error)
}

// Service is the command service: it loads a command's streams, decides,
// and appends with the expected versions, deciding again on a version
// conflict. It is safe for concurrent use.
type Service struct {
	store       EventStore
	clock       func() time.Time
	newID       func() string
	codec       *Codec
	maxAttempts int
	cache       *stateCache
	kinds       sync.Map // organisation ID → OrgKind of registered organisations
	snapshots   SnapshotStore
	snapEvery   int64
	onSnapErr   func(error)
	orgs        *OrgNameIndex
	// processID names this Service in the import claims it makes.
	processID string
	// importClaims serialises the import claims of this process, and
	// runningImports holds the IDs of the imports it runs.
	importClaims   sync.Mutex
	runningImports sync.Map // import ID → struct{}
	soleWriter     bool
	staleImport    time.Duration
	onAppend       func(error)
}

// NewService returns a command service over store.
func NewService(store EventStore, opts ServiceOptions) (*Service, error) {
	if opts.NewID == nil {
		return nil, errors.New("domain: ServiceOptions.NewID is required")
	}
	s := &Service{store: store, newID: opts.NewID, clock: opts.Clock, codec: opts.Codec,
		snapshots: opts.Snapshots, onSnapErr: opts.OnSnapshotError,
		maxAttempts: positiveOr(opts.MaxAttempts, 8),
		snapEvery:   int64(positiveOr(opts.SnapshotEvery, 500)),
		cache:       newStateCache(positiveOr(opts.CacheSize, 10_000)),
		orgs:        NewOrgNameIndex(store),
		processID:   opts.NewID(),
		soleWriter:  opts.SoleWriter,
		staleImport: opts.StaleImportAfter,
		onAppend:    opts.OnAppend,
	}
	if s.staleImport <= 0 {
		s.staleImport = defaultStaleImport
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.codec == nil {
		s.codec = DefaultCodec
	}
	if s.onSnapErr == nil {
		s.onSnapErr = func(error) {}
	}
	if s.onAppend == nil {
		s.onAppend = func(error) {}
	}
	if s.snapshots != nil {
		s.orgs.withSnapshots(s.snapshots, s.onSnapErr)
	}
	return s, nil
}

// append appends to the store and tells OnAppend how it went.
func (s *Service) append(ctx context.Context, appends ...StreamAppend) (AppendResult, error) {
	ar, err := s.store.Append(ctx, appends...)
	s.onAppend(err)
	return ar, err
}

// positiveOr returns v when it is positive, else def.
func positiveOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Orgs returns the index of the organisations on the service's log, by
// name and by credit code, which imports and registrations share: it reads
// the log once, then only what is new.
func (s *Service) Orgs() *OrgNameIndex { return s.orgs }

// Store returns the event store the service writes to.
func (s *Service) Store() EventStore { return s.store }

// Today returns the current business date in Asia/Shanghai.
func (s *Service) Today() Date { return DateOf(s.clock()) }

// newState makes the empty aggregate of a stream from its name.
func newState(stream string) aggregate {
	switch {
	case strings.HasPrefix(stream, "org-"):
		return &Org{}
	case strings.HasPrefix(stream, "credit-"):
		return &creditCodeClaim{}
	}
	return &Patent{}
}

// decideFunc decides a command over the states of its streams, returning
// the events for each stream in the same order.
type decideFunc func(d decision, states []aggregate) ([][]Event, error)

// command is one execution of a command over its streams.
type command struct {
	req     Request
	hash    commandHashes
	streams []string
	decide  decideFunc
}

// execute runs a command over its streams' states. A state the cache
// already holds is taken as current without reading the store: if another
// process has written since, the expected-version check refuses the append
// and the command catches up and decides again. A refusal, too, is only
// returned once it was decided on states just read from the store, so a
// stale cache never turns a valid command away; a store that cannot be
// reached is no refusal and is answered at once. At most maxAttempts
// decisions are made.
func (s *Service) execute(ctx context.Context, c command) (Result, error) {
	entries := s.cache.acquire(c.streams, newState)
	broken := false
	defer func() { s.cache.release(entries, broken, newState) }()
	fresh := false
	for _, e := range entries {
		if !e.loaded {
			fresh = true
		}
	}
	for attempt := 0; attempt < s.maxAttempts; attempt++ {
		if fresh {
			if err := s.catchUp(ctx, entries); err != nil {
				broken = true
				return Result{}, err
			}
		}
		res, err := s.attempt(ctx, c, entries)
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, ErrUnavailable):
			// Not a decision: trying again would wait out the store once
			// more. Should the append have landed, the cached states are
			// stale, which the next command's expected versions find.
			return Result{}, err
		case errors.Is(err, ErrConflict) || (isDomainError(err) && !fresh):
			fresh = true
		case isDomainError(err):
			return Result{}, err
		default:
			broken = true
			return Result{}, err
		}
	}
	return Result{}, Conflict(nil, "concurrent writes to %s won %d times; retry", strings.Join(c.streams, ", "), s.maxAttempts)
}

// attempt answers a repeat from the states, or decides and appends.
func (s *Service) attempt(ctx context.Context, c command, entries []*cacheEntry) (Result, error) {
	if res, ok, err := s.repeated(c, entries); ok || err != nil {
		return res, err
	}
	return s.decideAndAppend(ctx, c, entries)
}

func isDomainError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// catchUp applies the events appended to each entry's stream since its
// state was last brought up to date.
func (s *Service) catchUp(ctx context.Context, entries []*cacheEntry) error {
	for _, e := range entries {
		if e.state.base().Version() == 0 {
			e.state = s.fromSnapshot(ctx, e.stream, e.state)
		}
		if err := s.loadInto(ctx, e.stream, e.state); err != nil {
			return err
		}
		s.maybeSnapshot(ctx, e.stream, e.state)
		e.loaded = true
	}
	return nil
}

// Load batch sizes: a catch-up usually finds a few new events or none, so
// the first read asks for few; a long stream is then read in large batches.
const (
	firstLoadBatch = 64
	loadBatch      = 5000
)

// loadInto reads the events of stream after state's version and applies
// them.
func (s *Service) loadInto(ctx context.Context, stream string, state aggregate) error {
	for limit := firstLoadBatch; ; limit = loadBatch {
		batch, err := s.store.ReadStream(ctx, stream, state.base().Version(), limit)
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
		for _, re := range batch {
			e, err := s.codec.Decode(re.Type, re.Data)
			if err != nil {
				return fmt.Errorf("%s version %d: %w", stream, re.Version, err)
			}
			state.Apply(e)
			state.base().track(re, e)
		}
		if len(batch) < limit {
			return nil
		}
	}
}

// repeated reports whether the command's idempotency key was already used
// on its first stream, and answers the first result if so.
func (s *Service) repeated(c command, entries []*cacheEntry) (Result, bool, error) {
	if c.req.IdempotencyKey == "" {
		return Result{}, false, nil
	}
	id := CommandID(c.req.Actor.String(), c.req.IdempotencyKey)
	rec := entries[0].state.base().commands[id]
	if rec == nil {
		return Result{}, false, nil
	}
	if !c.hash.matches(rec.Hash) {
		return Result{}, true, errKeyReused()
	}
	res := Result{Repeat: true, Position: rec.LastPosition}
	for _, e := range entries {
		if r := e.state.base().commands[id]; r != nil {
			res.Position = max(res.Position, r.LastPosition)
			res.Events = append(res.Events, r.Events...)
		}
	}
	res.ID, res.Warnings = createdID(res.Events), warningsOf(res.Events)
	return res, true, nil
}

// errKeyReused is the answer to a request whose idempotency key was used
// for a different request.
func errKeyReused() error {
	return &Error{Code: CodeIdempotencyMismatch, Message: "this Idempotency-Key was used for a different request"}
}

// decideAndAppend decides over the current states and appends the events
// with each stream's version as the expectation. On success it applies the
// events to the cached states.
func (s *Service) decideAndAppend(ctx context.Context, c command, entries []*cacheEntry) (Result, error) {
	d := decision{actor: c.req.Actor, today: s.Today(), newID: s.newID}
	cmdID := ""
	if c.req.IdempotencyKey != "" {
		cmdID = CommandID(c.req.Actor.String(), c.req.IdempotencyKey)
		d.newID = derivedIDSource(cmdID)
	}
	states := make([]aggregate, len(entries))
	for i, e := range entries {
		states[i] = e.state
	}
	perStream, err := c.decide(d, states)
	if err != nil {
		return Result{}, err
	}
	appends, err := s.buildAppends(c, cmdID, entries, perStream)
	if err != nil {
		return Result{}, err
	}
	ar, err := s.append(ctx, appends...)
	if cmdID != "" && errors.Is(err, ErrIdempotencyMismatch) {
		return Result{}, errKeyReused() // the key's first event is stored on another stream
	}
	if err != nil {
		return Result{}, err
	}
	s.applyAppended(entries, appends, perStream, ar)
	for _, e := range entries {
		s.maybeSnapshot(ctx, e.stream, e.state)
	}
	res := Result{Position: ar.Position}
	for _, evs := range perStream {
		res.Events = append(res.Events, evs...)
	}
	res.ID, res.Warnings = createdID(res.Events), warningsOf(res.Events)
	return res, nil
}

func (s *Service) buildAppends(c command, cmdID string, entries []*cacheEntry, perStream [][]Event) ([]StreamAppend, error) {
	now := s.clock().UTC().Truncate(time.Microsecond)
	var appends []StreamAppend
	for i, events := range perStream {
		if len(events) == 0 {
			continue
		}
		sa := StreamAppend{Stream: entries[i].stream, Expected: ExpectVersion(entries[i].state.base().Version())}
		for j, e := range events {
			typ, data, err := s.codec.Encode(e)
			if err != nil {
				return nil, err
			}
			id := s.newID()
			if cmdID != "" {
				id = eventIDFor(cmdID, sa.Stream, j, len(appends) == 0 && j == 0)
			}
			sa.Events = append(sa.Events, EventData{ID: id, Type: typ, Data: data, Meta: Metadata{
				RecordedAt: now, Actor: c.req.Actor.String(), CorrelationID: c.req.CorrelationID,
				CausationID: c.req.CausationID, IdempotencyKey: c.req.IdempotencyKey,
				CommandHash: c.hash.current, SchemaVersion: SchemaVersion(typ)}})
		}
		appends = append(appends, sa)
	}
	if len(appends) == 0 {
		return nil, Violation(RuleNothingToChange, "the command changes nothing")
	}
	return appends, nil
}

// applyAppended folds freshly appended events into the cached states when
// the store confirms they landed right after the versions the states
// reflect; otherwise the states stay as they were and catch up on next use.
func (s *Service) applyAppended(entries []*cacheEntry, appends []StreamAppend, perStream [][]Event, ar AppendResult) {
	var targets []aggregate
	var batches [][]Event
	for i, events := range perStream {
		if len(events) > 0 {
			targets = append(targets, entries[i].state)
			batches = append(batches, events)
		}
	}
	total := 0
	for k, state := range targets {
		if ar.Streams[k].Version != state.base().Version()+int64(len(batches[k])) {
			return
		}
		total += len(batches[k])
	}
	pos := ar.Position - int64(total)
	for k, state := range targets {
		for j, e := range batches[k] {
			pos++
			state.Apply(e)
			state.base().track(RecordedEvent{Position: pos, Stream: appends[k].Stream,
				Version: state.base().Version() + 1, EventData: appends[k].Events[j]}, e)
		}
	}
}

// hashTarget is what a command's idempotency hash names it acts on: its
// stream, and the record on it when the command's path names one.
func hashTarget(stream, record string) string {
	if record == "" {
		return stream // as before records were named, so that earlier commands still repeat
	}
	return stream + "\x00" + record
}
