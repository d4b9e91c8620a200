package esdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/headwatch"
)

var _ domain.EventStore = (*Store)(nil)

// ErrClosed is returned by every call made after Close.
var ErrClosed = errors.New("esdb event store: closed")

// ErrAltered is matched by the error ReadStream returns when a stored copy
// of an event does not match its hash or its place: the server's data was
// changed outside the ledger. (The log itself is checked by
// domain.VerifyChain, which reports the first bad position instead.)
var ErrAltered = errors.New("esdb event store: stored event altered")

// Options tune a Store. The zero value is a sensible default.
type Options struct {
	// Prefix is put before the name of every EventStoreDB stream the store
	// uses, so that several ledgers (or test runs) can share one server.
	Prefix string
	// CheckpointEvery is how many log positions the store materialises
	// between two records of its progress in the checkpoint stream; 0
	// means 1000. A larger value writes less and makes recovery at Open
	// re-check more events.
	CheckpointEvery int64
	// PollInterval is how often WaitForPosition looks at the head of the
	// log while its subscription to the log stream is down; 0 means one
	// second.
	PollInterval time.Duration
	// Timeout bounds the work of an append once it has been taken up (it
	// no longer follows the caller's context then); 0 means 30 seconds.
	Timeout time.Duration
	// Logger receives the client's log lines; nil discards them. Only
	// Connect uses it.
	Logger esdbclient.LoggingFunc

	// beforeLog and beforeStream, when set by tests, run before the log
	// write and before each stream is materialised; an error stops the
	// append there, as a crash would.
	beforeLog    func() error
	beforeStream func(stream string) error
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 1000
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return o
}

// Store is the EventStoreDB event store. It is safe for concurrent use.
type Store struct {
	c      *esdbclient.Client
	owns   bool // Close closes c
	opts   Options
	names  names
	notify *headwatch.Notifier

	// reqs carries appends to the writer goroutine; Close closes it.
	reqs chan *request
	// sem is the writer's lock: the writer's batches, and roll-forwards
	// before stream reads, hold it.
	sem chan struct{}
	// head is the end of the log as far as the writer knows; held under sem.
	head domain.Head
	// versions caches stream versions as of head, from the writer's own
	// commits and from catching up; held under sem.
	versions map[string]int64
	// applied is the last position whose events are known to be in their
	// streams and ID index; written under sem.
	applied atomic.Int64
	// checkpointed is the position last recorded in the checkpoint stream;
	// held under sem.
	checkpointed int64

	mu       sync.RWMutex // guards closed against calls being started
	closed   bool
	done     chan struct{} // closed by Close to stop waiters and the watcher
	inflight sync.WaitGroup
	writer   sync.WaitGroup
	watcher  sync.WaitGroup
}

// CheckURL reports whether url is a connection string Connect can use,
// without connecting: the error of one that cannot be parsed, nil
// otherwise.
func CheckURL(url string) error {
	_, err := esdbclient.ParseConnectionString(url)
	return err
}

// Connect opens a client for the connection string url (for example
// esdb://127.0.0.1:2113?tls=false) and opens the store over it; Close
// closes the client too.
func Connect(ctx context.Context, url string, opts Options) (*Store, error) {
	conf, err := esdbclient.ParseConnectionString(url)
	if err != nil {
		return nil, fmt.Errorf("esdb: connection string: %w", err)
	}
	conf.Logger = opts.Logger
	if conf.Logger == nil {
		conf.Logger = esdbclient.NoopLogging()
	}
	c, err := esdbclient.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("esdb: client: %w", err)
	}
	s, err := Open(ctx, c, opts)
	if err != nil {
		return nil, errors.Join(err, c.Close())
	}
	s.owns = true
	return s, nil
}

// Open opens the store over client c, which the caller keeps and closes
// after the store. It reads the head of the log and recovers: every
// append the log holds but whose events are not yet in their streams (a
// writer stopped between the two) is finished before Open returns.
func Open(ctx context.Context, c *esdbclient.Client, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	s := &Store{c: c, opts: opts, names: names{prefix: opts.Prefix},
		versions: map[string]int64{}, reqs: make(chan *request), sem: make(chan struct{}, 1), done: make(chan struct{})}
	if err := s.recover(ctx); err != nil {
		return nil, fmt.Errorf("esdb: open: %w", err)
	}
	s.notify = headwatch.New(s.head.Position)
	s.writer.Add(1)
	go s.write()
	s.watcher.Add(1)
	go s.watch()
	return s, nil
}

// recover reads the head and the checkpoint, then rolls the log forward.
func (s *Store) recover(ctx context.Context) error {
	head, err := s.readHead(ctx)
	if err != nil {
		return err
	}
	cp, err := s.readCheckpoint(ctx)
	if err != nil {
		return err
	}
	if cp > head.Position {
		return fmt.Errorf("checkpoint at position %d is past the end of the log (%d)", cp, head.Position)
	}
	s.head, s.checkpointed = head, cp
	s.applied.Store(cp)
	if err := s.catchUp(ctx); err != nil {
		return err
	}
	return s.maybeCheckpoint(ctx, 1)
}

// Close stops accepting calls, lets the calls in flight finish, records
// the recovery checkpoint and, when the store was opened by Connect,
// closes the client. It returns ErrClosed when the store is already closed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.inflight.Wait() // every append taken up is answered
	close(s.reqs)
	s.writer.Wait()
	s.watcher.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	err := s.maybeCheckpoint(ctx, 1)
	if s.owns {
		err = errors.Join(err, s.c.Close())
	}
	return err
}

// enter registers a call in flight, or returns ErrClosed after Close. The
// caller calls s.inflight.Done when the call ends.
func (s *Store) enter() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.inflight.Add(1)
	return nil
}

// lock takes the writer's lock unless ctx ends or the store closes first.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}

// unlock releases the writer's lock.
func (s *Store) unlock() { <-s.sem }
