package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/patentledger/ledger/domain"
)

// WarmUp loads the in-memory indexes of the read models from the tables,
// those that do not mirror them already: the tally index, which answers
// every tally and the rankings, and the search index, which answers
// listing queries. Until then those queries run in SQL. It reads a
// snapshot of the tables (seconds for a million events) while projections
// go on; the transactions they commit meanwhile are mirrored once the
// snapshot is loaded. It then collects the garbage of the load, so that
// the first queries do not pay for it. It returns an error reading the
// file, or when the projection was reset meanwhile; the queries an index
// would answer then keep running in SQL.
func (db *DB) WarmUp(ctx context.Context) error {
	db.mu.Lock()
	read := db.read
	db.mu.Unlock()
	if read == nil {
		return errors.New("read models: closed")
	}
	if err := db.tallies.warmUp(ctx, read, loadTallyFacts); err != nil {
		return fmt.Errorf("read models: load the tally index: %w", db.noteDamage(err))
	}
	if err := db.search.warmUp(ctx, read, loadSearchFacts); err != nil {
		return fmt.Errorf("read models: load the search index: %w", db.noteDamage(err))
	}
	runtime.GC() // hundreds of MB of rows read for a million events
	return nil
}

// indexesLoaded reports whether both in-memory indexes are loaded.
func (db *DB) indexesLoaded() bool {
	return db.tallies.isLoaded() && db.search.isLoaded()
}

// mirror holds the facts of a read model in memory while they mirror its
// tables at one checkpoint (see tallyIndex and searchIndex). The facts
// change only when a write transaction of the projection commits
// (DB.Update calls committed) and are loaded from the tables by WarmUp.
type mirror[F mirrored] struct {
	mu      sync.RWMutex
	facts   F             // nil while not loaded
	loading bool          // warmUp is reading a snapshot; commits wait in pending
	loaded  chan struct{} // closed when that warmUp ends
	pending []pendingCommit
}

// pendingCommit is a transaction committed while the facts were loading.
type pendingCommit struct {
	move   checkpointMove
	events []domain.Event
}

// mirrored is what a mirror holds: a pointer to facts at a checkpoint.
type mirrored interface {
	comparable
	// checkpoint is the projection checkpoint the facts mirror.
	checkpoint() int64
	// advance applies the events of a committed transaction that moved
	// the checkpoint to to.
	advance(events []domain.Event, to int64)
}

// errMirrorReset is the failure of a load during which the projection was
// reset or moved in a way the snapshot cannot follow.
var errMirrorReset = errors.New("the read model was reset while its index loaded")

// committed mirrors a committed transaction that moved the projection's
// checkpoint by applying its events. A transaction that does not start
// where the facts stand (they are not loaded, or another process wrote the
// file) or that reset the projection leaves them unloaded: a rebuild or a
// catch-up from scratch runs without them, and WarmUp loads them
// afterwards.
func (m *mirror[F]) committed(move checkpointMove, events []domain.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loading {
		m.pending = append(m.pending, pendingCommit{move: move, events: events})
		return
	}
	var none F
	if m.facts == none || move.reset || m.facts.checkpoint() != move.from {
		m.facts = none
		return
	}
	m.facts.advance(events, move.to)
}

// isLoaded reports whether the facts are loaded.
func (m *mirror[F]) isLoaded() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var none F
	return m.facts != none
}

// at returns the facts when they mirror checkpoint position. The caller
// holds m.mu for reading.
func (m *mirror[F]) at(position int64) (F, bool) {
	var none F
	if m.facts == none || m.facts.checkpoint() != position {
		return none, false
	}
	return m.facts, true
}

// readAt calls read with the facts, holding m.mu for reading, when they
// mirror checkpoint position; it reports whether it did.
func (m *mirror[F]) readAt(position int64, read func(F)) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.at(position)
	if ok {
		read(f)
	}
	return ok
}

// warmUp sets the facts to what load reads from a snapshot of the tables,
// unless they are loaded, and then mirrors the transactions committed since
// the snapshot. When another warmUp is loading them, it waits for that one
// to end.
func (m *mirror[F]) warmUp(ctx context.Context, read *sql.DB, load func(context.Context, *sql.Tx) (F, error)) error {
	var none F
	m.mu.Lock()
	if m.facts != none {
		m.mu.Unlock()
		return nil
	}
	if m.loading {
		loaded := m.loaded
		m.mu.Unlock()
		select {
		case <-loaded:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.loading, m.loaded = true, make(chan struct{})
	defer close(m.loaded)
	m.mu.Unlock()
	f, err := loadSnapshot(ctx, read, load)
	m.mu.Lock()
	defer m.mu.Unlock()
	pending := m.pending
	m.loading, m.pending = false, nil
	if err != nil {
		return err
	}
	for _, p := range pending {
		switch {
		case !p.move.reset && p.move.to <= f.checkpoint():
			// committed before the snapshot was taken
		case !p.move.reset && p.move.from == f.checkpoint():
			f.advance(p.events, p.move.to)
		default:
			return errMirrorReset
		}
	}
	m.facts = f
	return nil
}

// readCheckpoint returns the stored checkpoint of a projection, as tx sees
// it.
func readCheckpoint(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var position int64
	err := tx.QueryRowContext(ctx, "SELECT position FROM projection_checkpoints WHERE name = ?", name).Scan(&position)
	return position, err
}

// loadSnapshot runs load in a read-only transaction: one snapshot of the
// file.
func loadSnapshot[F any](ctx context.Context, read *sql.DB, load func(context.Context, *sql.Tx) (F, error)) (F, error) {
	tx, err := read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		var none F
		return none, err
	}
	defer tx.Rollback()
	return load(ctx, tx)
}
