package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
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
	if err := warmUp(ctx, db.conn, &db.deals.mu, &db.deals.facts, loadDealFacts); err != nil {
		return fmt.Errorf("read models: load the deals index: %w", err)
	}
	if err := warmUp(ctx, db.conn, &db.search.mu, &db.search.facts, loadSearchFacts); err != nil {
		return fmt.Errorf("read models: load the search index: %w", err)
	}
	return nil
}

// warmUp sets *facts to what load reads, unless it is loaded already. The
// caller holds the write connection.
func warmUp[F any](ctx context.Context, conn *sql.Conn, mu *sync.RWMutex, facts **F,
	load func(context.Context, *sql.Conn) (*F, error)) error {
	mu.RLock()
	loaded := *facts != nil
	mu.RUnlock()
	if loaded {
		return nil
	}
	f, err := load(ctx, conn)
	if err != nil {
		return err
	}
	mu.Lock()
	*facts = f
	mu.Unlock()
	return nil
}
