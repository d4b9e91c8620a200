package projections

import (
	"context"
	"database/sql"
)

// PatenteeRegions returns the region codes of the organisations that hold
// a patent recorded in the ledger, each once and in order: the regions a
// listing search can usefully be narrowed to.
func (db *DB) PatenteeRegions(ctx context.Context) (_ []string, err error) {
	defer db.queryFailure(&err)
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT o.region FROM lst_orgs o
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
