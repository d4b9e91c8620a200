package projections

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"sync"
	"time"
)

// regionsMemo keeps the answer of PatenteeRegions with the listings'
// checkpoint it was read at and when: the search page asks for it on every
// view, and it changes only when an organisation holding patents does.
type regionsMemo struct {
	mu       sync.Mutex
	position int64
	at       time.Time // when regions were read; zero before the first read
	regions  []string
	// maxAge is how long an answer stands while the listings apply events
	// (under a steady flow of writes every view would read it again);
	// regionsMaxAge when zero.
	maxAge time.Duration
}

// regionsMaxAge is how long the answer of PatenteeRegions stands while the
// listings apply events: the suggestions of a search page may lag a new
// patentee's region by as much.
const regionsMaxAge = 10 * time.Second

// PatenteeRegions returns the region codes of the organisations that hold
// a patent recorded in the ledger, each once and in order: the regions a
// listing search can usefully be narrowed to. It reads them again only
// when the listings have applied events since the last time, and then at
// most once every regionsMaxAge.
func (db *DB) PatenteeRegions(ctx context.Context) (_ []string, err error) {
	defer db.queryFailure(&err)
	m := &db.regions
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.at.IsZero() && time.Since(m.at) < cmp.Or(m.maxAge, regionsMaxAge) {
		return slices.Clone(m.regions), nil // young enough: no need to read even the checkpoint
	}
	return loadSnapshot(ctx, db.read, func(ctx context.Context, tx *sql.Tx) ([]string, error) {
		position, err := readCheckpoint(ctx, tx, ListingsName)
		if err != nil {
			return nil, err
		}
		if !m.at.IsZero() && m.position == position {
			return slices.Clone(m.regions), nil
		}
		regions, err := readPatenteeRegions(ctx, tx)
		if err != nil {
			return nil, err
		}
		m.position, m.at, m.regions = position, time.Now(), regions
		return slices.Clone(regions), nil
	})
}

// readPatenteeRegions reads the regions of PatenteeRegions in tx.
func readPatenteeRegions(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT o.region FROM lst_orgs o
		WHERE EXISTS (SELECT 1 FROM lst_patentees p WHERE p.org_id = o.id) ORDER BY o.region`)
	if err != nil {
		return nil, err
	}
	var regions []string
	err = scanRows(rows, func(r *sql.Rows) error {
		var region string
		err := r.Scan(&region)
		regions = append(regions, region)
		return err
	})
	return regions, err
}
