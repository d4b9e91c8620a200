package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/patentledger/ledger/domain"
)

// WarmUp loads the in-memory indexes of the read models from the tables,
// those that do not mirror them already: the deals index, which answers
// deals tallies, and the search index, which answers listing queries. Until
// then those queries run in SQL. It holds the write lock while it reads
// (seconds for a million events), so projections wait meanwhile. It returns
// an error reading the file; the queries an index would answer then keep
// running in SQL.
func (db *DB) WarmUp(ctx context.Context) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return errors.New("read models: closed")
	}
	if err := db.deals.warmUp(ctx, db.conn, loadDealFacts); err != nil {
		return fmt.Errorf("read models: load the deals index: %w", err)
	}
	if err := db.search.warmUp(ctx, db.conn, loadSearchFacts); err != nil {
		return fmt.Errorf("read models: load the search index: %w", err)
	}
	return nil
}

// mirror holds the facts of a read model in memory while they mirror its
// tables at one checkpoint (see dealIndex and searchIndex). The facts
// change only when a write transaction of the projection commits
// (DB.Update calls committed) and are loaded from the tables by WarmUp.
type mirror[F mirrored] struct {
	mu    sync.RWMutex
	facts F // nil while not loaded
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

// committed mirrors a committed transaction that moved the projection's
// checkpoint by applying its events. A transaction that does not start
// where the facts stand (they are not loaded, or another process wrote the
// file) or that reset the projection leaves them unloaded: a rebuild or a
// catch-up from scratch runs without them, and WarmUp loads them
// afterwards.
func (m *mirror[F]) committed(move checkpointMove, events []domain.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var none F
	if m.facts == none || move.reset || m.facts.checkpoint() != move.from {
		m.facts = none
		return
	}
	m.facts.advance(events, move.to)
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

// warmUp sets the facts to what load reads, unless they are loaded. The
// caller holds the write connection, so that nothing commits meanwhile.
func (m *mirror[F]) warmUp(ctx context.Context, conn *sql.Conn, load func(context.Context, *sql.Conn) (F, error)) error {
	var none F
	m.mu.RLock()
	loaded := m.facts != none
	m.mu.RUnlock()
	if loaded {
		return nil
	}
	f, err := load(ctx, conn)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.facts = f
	m.mu.Unlock()
	return nil
}
