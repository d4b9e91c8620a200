// Package postgres is the distributed event store: a domain.EventStore kept
// in one schema of a PostgreSQL database (DESIGN.md §3, and the distributed
// mode of §5). Several processes ("nodes") may open the same schema at once.
//
// # Positions in commit order
//
// A bigserial column hands out positions when rows are inserted, not when
// they commit: a transaction that took 7 may commit after one that took 8,
// and a follower that has read 8 never reads 7. This store serialises
// position assignment instead. Every append transaction first locks the one
// row of the append_lock table (SELECT … FOR UPDATE), and only then, in a
// new statement, reads the last stored event and numbers its own events
// from there. The transaction runs at READ COMMITTED whatever the server's
// default, so that this statement's snapshot is taken after the lock is
// granted. The row lock is held until the transaction ends, so no two
// appends from any node overlap; and PostgreSQL makes a committing
// transaction visible to new snapshots before it releases its locks
// (CommitTransaction leaves the proc array, then releases the locks), so the
// next append's read sees the previous one's events. Positions therefore
// follow commit order, every snapshot sees a prefix 1..N of the log, and a
// reader that has seen position N has seen all below it. The same read
// yields the previous event's hash, so the hash chain is extended inside the
// transaction that extends the log. A row lock rather than a table lock
// leaves autovacuum free to work on the events table; a row rather than an
// advisory lock keeps stores in different schemas of one database
// independent.
//
// # Group commit
//
// One writer goroutine per Store, with a connection of its own, takes every
// append waiting at the time and writes them in one transaction with one
// commit, so concurrent appends share one WAL flush and (below 256 rows)
// two round trips. Under the lock it reads, in one round trip, the last event,
// the version of every stream the batch touches and every stored event whose
// ID starts one of the appends. It then decides each append in memory, in
// order: a conflict, an idempotent repeat (also of an append earlier in the
// same batch) or an idempotency mismatch is answered without writing, so it
// fails alone. The events of the appends that hold are written with one
// statement: an INSERT from unnest(…) arrays sent in the same round trip as
// NOTIFY and COMMIT, or a COPY (faster for 256 rows and more, but a round
// trip of its own). Should PostgreSQL refuse the rows (a value it cannot
// store, a constraint added by hand, or a later event's ID that turns out to
// be stored), the writer rolls back and redoes the batch with a SAVEPOINT
// per append, so that the append that fails is undone alone and the others
// commit. When fewer appends are queued than half the last batch held, the
// writer waits up to half a millisecond for the appenders it has just
// answered to come back, so that batches do not alternate between large and
// small.
//
// # Waking followers
//
// The append transaction sends a notification on a channel of the schema,
// carrying the new last position (PostgreSQL delivers it once the
// transaction commits). Each Store listens on a dedicated connection, so
// WaitForPosition wakes on commits made by any node. The same
// goroutine polls the last position every Options.PollInterval when no
// notification arrives, as a fallback for notifications lost while the
// listening connection reconnects and for writers that do not notify.
//
// # Durability
//
// Every connection sets synchronous_commit to on, so an append returns only
// once PostgreSQL has flushed the commit to its WAL (and, where synchronous
// replicas are configured, replicated it). When a COMMIT fails in flight the
// outcome is unknown; the callers get an error, and repeating the same
// append is safe because appends are idempotent by event ID.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/appendqueue"
	"github.com/patentledger/ledger/eventstore/internal/headwatch"
)

var _ domain.EventStore = (*Store)(nil)

// ErrClosed is returned by every call made after Close.
var ErrClosed = errors.New("postgres event store: closed")

// ErrNoStore is returned by Open with Options.Existing when the schema
// holds no event store.
var ErrNoStore = errors.New("holds no event store")

// Options tune a Store. The zero value is a sensible default.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables; it is
	// created when missing. Empty means the first schema of the URL's
	// search_path parameter, or "public" when the URL gives none.
	Schema string
	// PollInterval is how long the store waits for a notification before
	// it reads the last position itself; 0 means 250 milliseconds.
	PollInterval time.Duration
	// MaxConns caps the connection pool of reads; 0 keeps the URL's
	// pool_max_conns, or pgxpool's default. The writer and the listener
	// have one connection each besides.
	MaxConns int32
	// Existing opens a store that must exist already, as `ledger verify`
	// does: the schema is neither created nor migrated, and Open returns
	// ErrNoStore when it holds no store, an error when its version is not
	// this program's.
	Existing bool
	// AppendTimeout bounds the transaction of one group commit: when the
	// database stops answering in the middle of one, its appends fail as
	// unavailable after this long instead of waiting on the operating
	// system (their outcome is then unknown, as when a COMMIT is cut, and
	// repeating them is safe); 0 means 30 seconds.
	AppendTimeout time.Duration
	// ReadTimeout bounds one read (a page of a stream or of the log, the
	// head): when the database stops answering, the read fails as
	// unavailable after this long instead of waiting on the operating
	// system; 0 means 30 seconds.
	ReadTimeout time.Duration
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.AppendTimeout <= 0 {
		o.AppendTimeout = 30 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 30 * time.Second
	}
	return o
}

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool // reads
	wpool  *pgxpool.Pool // the writer's one connection
	w      *writer
	l      *listener
	notify *headwatch.Notifier
	q      *appendqueue.Queue // the appends for w, and whether the store is closed
	// readTimeout bounds each read (Options.ReadTimeout).
	readTimeout time.Duration
	ledgerID    string // "" in a schema not yet migrated to hold one
	// migratedFrom is the schema version the schema had when Open
	// migrated it (0 for a new one; the current version when Open did not
	// migrate).
	migratedFrom int
}

// SchemaUpgrade returns the schema version the store's schema had when
// Open migrated it and the version it has now: from < to when Open
// migrated a schema of an earlier version, which builds before this one
// can then no longer open; from is 0 for a schema Open created, and
// from == to when it changed nothing (always, with Options.Existing).
func (s *Store) SchemaUpgrade() (from, to int) { return s.migratedFrom, len(migrations) }

// Open connects to the PostgreSQL database at url (a postgres:// URL or a
// key=value connection string, as pgx accepts), creates the schema when
// missing, applies the migrations it lacks and starts the writer and the
// listener. It returns an error when the database cannot be reached, the
// schema is newer than this program, or a migration fails; with
// Options.Existing, ErrNoStore when the schema holds no store.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	s, err := open(ctx, url, opts.withDefaults())
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", unavailableWhenTransient(err))
	}
	return s, nil
}

// CheckURL reports whether url is a connection string Open can use, without
// connecting: the error of a URL that cannot be parsed, or whose schema is
// no valid name; nil otherwise.
func CheckURL(url string) error {
	_, _, err := poolConfig(url, Options{}.withDefaults())
	return err
}

// open does the work of Open.
func open(ctx context.Context, url string, opts Options) (_ *Store, err error) {
	cfg, schema, err := poolConfig(url, opts)
	if err != nil {
		return nil, err
	}
	wcfg := cfg.Copy()
	wcfg.MaxConns, wcfg.MinConns = 1, 0
	s := &Store{q: appendqueue.New(ErrClosed), readTimeout: opts.ReadTimeout}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, err
	}
	if s.wpool, err = pgxpool.NewWithConfig(ctx, wcfg); err != nil {
		return nil, err
	}
	s.migratedFrom = len(migrations)
	if opts.Existing {
		err = checkSchema(ctx, s.wpool, schema)
	} else {
		s.migratedFrom, err = migrate(ctx, s.wpool, schema)
	}
	if err != nil {
		return nil, err
	}
	if s.ledgerID, err = readLedgerID(ctx, s.wpool, schema); err != nil {
		return nil, fmt.Errorf("read ledger ID: %w", err)
	}
	channel := newChannel(schema)
	// Listen before reading the last position, so that no commit falls
	// between the two.
	s.notify = headwatch.New(0)
	if s.l, err = listen(ctx, cfg.ConnConfig, s.pool, channel, opts.PollInterval, s.notify); err != nil {
		return nil, err
	}
	last, err := lastPosition(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	s.notify.Advance(last)
	s.w = newWriter(s.wpool, channel, opts.AppendTimeout)
	s.q.Start(func(reqs <-chan *appendqueue.Request) { s.w.run(reqs, s.notify) })
	return s, nil
}

// LedgerID returns the random ID drawn when the store's schema was
// created (or migrated to hold one), the same for every node of the
// ledger and different for every other store: ledger serve names its NATS
// namespace after it. It is "" for a schema opened Existing that ledger
// serve has not yet migrated.
func (s *Store) LedgerID() string { return s.ledgerID }

// Close stops accepting calls, lets the appends already queued commit, then
// stops the listener and closes the connections once the reads in flight
// have returned. It returns ErrClosed when the store is already closed.
func (s *Store) Close() error {
	if err := s.q.Close(); err != nil {
		return err
	}
	s.release()
	return nil
}

// release stops the listener and closes the pools, those that were
// started.
func (s *Store) release() {
	if s.l != nil {
		s.l.stop()
	}
	for _, p := range []*pgxpool.Pool{s.pool, s.wpool} {
		if p != nil {
			p.Close()
		}
	}
}

// checkOpen returns ErrClosed after Close.
func (s *Store) checkOpen() error { return s.q.CheckOpen() }
