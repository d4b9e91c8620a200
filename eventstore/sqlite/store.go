// Package sqlite is the embedded event store: a domain.EventStore kept in one
// SQLite file (DESIGN.md §3, and the embedded mode of §5).
//
// One writer goroutine owns the only write connection. It takes every append
// waiting at the time, runs each in its own savepoint inside one transaction
// and commits once, so that concurrent appends share one fsync (group
// commit). Reads use a separate pool of read-only connections, which WAL mode
// lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/appendqueue"
	"github.com/patentledger/ledger/eventstore/internal/headwatch"
)

var _ domain.EventStore = (*Store)(nil)

// ErrClosed is returned by every call made after Close.
var ErrClosed = errors.New("sqlite event store: closed")

// ErrReadOnly is returned by Append on a store opened with Options.ReadOnly.
var ErrReadOnly = errors.New("sqlite event store: opened read-only")

// Options tune a Store. The zero value is a sensible default.
type Options struct {
	// ReadOnly opens an existing store for reading only, as `ledger verify`
	// does: the file is neither created nor migrated and Append returns
	// ErrReadOnly.
	ReadOnly bool
	// BusyTimeout is how long a statement waits for a lock held by another
	// process before failing; 0 means 5 seconds.
	BusyTimeout time.Duration
	// PollInterval is how often WaitForPosition looks for commits made by
	// other processes; 0 means 100 milliseconds.
	PollInterval time.Duration
	// MaxReaders caps the read connection pool; 0 means 4.
	MaxReaders int
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.MaxReaders <= 0 {
		o.MaxReaders = 4
	}
	return o
}

// Store is the SQLite event store. It is safe for concurrent use.
type Store struct {
	opts   Options
	r      *reader
	w      *writer // nil when read-only
	notify *headwatch.Notifier
	q      *appendqueue.Queue // the appends for w, and whether the store is closed
	// walFilesMade is the path of a file whose -wal and -shm files a
	// read-only open made beside it, which Close removes; "" otherwise.
	walFilesMade string
}

// SchemaUpgrade returns the schema version the file had when this store
// opened it and the version it has now: from < to when the open migrated a
// file of an earlier version, which builds before this one can then no
// longer open; from is 0 for a file the open created, and from == to when
// it changed nothing (always, for a read-only store).
func (s *Store) SchemaUpgrade() (from, to int) {
	if s.w == nil {
		return schemaVersion, schemaVersion
	}
	return s.w.migratedFrom, schemaVersion
}

// Open opens the event store in the SQLite file at path. Unless
// opts.ReadOnly is set it creates the file and migrates its schema when
// needed; a read-only open fails when the file is missing or is not an event
// store of this schema version.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s, err := open(ctx, abs, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// open does the work of Open on an absolute path.
func open(ctx context.Context, path string, opts Options) (_ *Store, err error) {
	s := &Store{opts: opts, q: appendqueue.New(ErrClosed)}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.closeDBs())
		}
	}()
	if !opts.ReadOnly {
		if s.w, err = openWriter(ctx, path, opts); err != nil {
			return nil, err
		}
	}
	_, walErr := os.Stat(path + "-wal")
	_, shmErr := os.Stat(path + "-shm")
	if s.r, err = openReader(ctx, path, opts, false); err != nil && opts.ReadOnly && readOnlyStorage(err) {
		s.r, err = openFrozenCopy(ctx, path, opts, err)
	} else if err == nil && opts.ReadOnly && os.IsNotExist(walErr) && os.IsNotExist(shmErr) {
		s.walFilesMade = path
	}
	if err != nil {
		return nil, err
	}
	last, err := s.r.lastPosition(ctx)
	if err != nil {
		return nil, err
	}
	s.notify = headwatch.New(last)
	if s.w != nil {
		s.q.Start(func(reqs <-chan *appendqueue.Request) { s.w.run(reqs, s.notify) })
	}
	return s, nil
}

// openFrozenCopy opens for reading a store that a read-only open could
// not (failed), because SQLite could not create the -shm file a WAL
// database needs beside it: a copy on read-only media, or in a folder this
// process may not write. It opens the file as immutable, which reads
// events.db alone; a non-empty -wal beside it may hold writes that are not
// in events.db yet (whether it does, only a writable open finds out), so
// it is refused.
func openFrozenCopy(ctx context.Context, path string, opts Options, failed error) (*reader, error) {
	if info, err := os.Stat(path + "-wal"); err == nil && info.Size() > 0 {
		return nil, fmt.Errorf("%w: its folder cannot be written, and %s-wal may hold writes not yet in the file, "+
			"which only a writable open reads: copy the folder somewhere this user may write, and open the copy", failed, filepath.Base(path))
	}
	r, err := openReader(ctx, path, opts, true)
	if err != nil {
		return nil, errors.Join(failed, err)
	}
	return r, nil
}

// Close stops accepting calls, lets the appends already queued commit and
// releases the database. It returns ErrClosed when the store is already
// closed.
func (s *Store) Close() error {
	if err := s.q.Close(); err != nil {
		return err
	}
	if err := s.closeDBs(); err != nil {
		return err
	}
	if s.walFilesMade != "" {
		return removeWALFiles(s.walFilesMade, s.opts.BusyTimeout)
	}
	return nil
}

// removeWALFiles removes the -wal and -shm files that a read-only open
// made beside the file at path (`ledger verify` of a backup left them in
// its folder), which only a writable connection can: it opens one and
// closes it, the last connection to the file, which removes them. It
// writes nothing: it does so only while the -wal is empty, so there is
// nothing to checkpoint. A connection another process has open keeps
// them, as that process needs them; a folder it cannot write keeps them
// too, without an error.
func removeWALFiles(path string, busy time.Duration) error {
	if info, err := os.Stat(path + "-wal"); err != nil || info.Size() > 0 {
		return nil
	}
	db, err := sql.Open(driverName, dsn(path, true, busy))
	if err != nil {
		return nil
	}
	var version int
	_ = db.QueryRow("PRAGMA user_version").Scan(&version) // a read opens the WAL, which the close then removes
	return db.Close()
}

// closeDBs closes the read pool, then the write connection: the last
// connection to a WAL file checkpoints it and removes the WAL, which only a
// writable connection can do.
func (s *Store) closeDBs() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.close())
	}
	if s.w != nil {
		errs = append(errs, s.w.closeDB())
	}
	return errors.Join(errs...)
}

// LedgerID returns the random ID drawn when the store was created, the
// same for every process that opens this file (and a copy of it) and
// different for every other store: ledger serve names its NATS namespace
// after it. It is "" for a file opened read-only that ledger serve has
// not yet migrated.
func (s *Store) LedgerID() string { return s.r.ledgerID }

// checkOpen returns ErrClosed after Close.
func (s *Store) checkOpen() error { return s.q.CheckOpen() }
