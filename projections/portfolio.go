package projections

import (
	"context"
	"database/sql"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// MaxPortfolioRows bounds each list of a portfolio.
const MaxPortfolioRows = 500

// Portfolio is what an organisation's own page lists: the patents it holds,
// the licences it has taken and the pledges it holds as pledgee (a bank's),
// from the listings and tallies read models.
type Portfolio struct {
	Patents  []PortfolioPatent
	Licenses []PortfolioLicense
	Pledges  []PortfolioPledge
	// PatentCount, LicenseCount and PledgeCount are how many there are in
	// all, of which the lists hold the first MaxPortfolioRows.
	PatentCount, LicenseCount, PledgeCount int
}

// PortfolioPledge is a pledge an organisation holds as pledgee: its
// pledgor, the patents pledged (by number, in order), the amount secured,
// and when it was registered and released ("" while in force).
type PortfolioPledge struct {
	PledgeID, PledgorName    string
	Patents                  []string
	Secured                  domain.Fen
	RegisteredOn, ReleasedOn string
}

// PortfolioPatent is a patent an organisation holds.
type PortfolioPatent struct {
	Number, Title, Kind string
	// DeclarationID is the declaration in effect today, or "".
	DeclarationID string
}

// PortfolioLicense is a licence an organisation has taken.
type PortfolioLicense struct {
	LicenseID, Number, Title, Type, EffectiveOn string
}

// portfolioLicensesSQL selects the licences an organisation has taken,
// newest first, through tly_licenses_licensee (a scan of every licence
// took 30–47 ms over 235,000).
const portfolioLicensesSQL = `SELECT l.license_id, l.number, COALESCE(p.title, ''), l.type, l.effective_on
	FROM tly_licenses l LEFT JOIN lst_patents p ON p.number = l.number
	WHERE l.licensee_id = ? ORDER BY l.effective_on DESC, l.license_id LIMIT ?`

// Portfolio returns the patents org holds (by number) and the licences it
// has taken (newest first), at most MaxPortfolioRows of each; today decides
// which declarations are in effect.
func (db *DB) Portfolio(ctx context.Context, org string, today domain.Date) (_ Portfolio, err error) {
	defer db.queryFailure(&err)
	var out Portfolio
	// One read transaction: the lists and their counts of one moment, not
	// of moments apart while the projections apply new events.
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return out, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT p.number, p.title, p.kind,
			COALESCE((SELECT d.declaration_id FROM lst_declarations d
				WHERE d.number = p.number AND d.declared_on <= ?1 AND d.last_day >= ?1 LIMIT 1), '')
		FROM lst_patentees o JOIN lst_patents p ON p.number = o.number
		WHERE o.org_id = ?2 ORDER BY p.number LIMIT ?3`, today.String(), org, MaxPortfolioRows)
	if err != nil {
		return out, err
	}
	if err := scanRows(rows, func(r *sql.Rows) error {
		var p PortfolioPatent
		err := r.Scan(&p.Number, &p.Title, &p.Kind, &p.DeclarationID)
		out.Patents = append(out.Patents, p)
		return err
	}); err != nil {
		return out, err
	}
	err = tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM lst_patentees WHERE org_id = ?1),
		(SELECT count(*) FROM tly_licenses WHERE licensee_id = ?1), (SELECT count(*) FROM tly_pledges WHERE pledgee_id = ?1)`,
		org).Scan(&out.PatentCount, &out.LicenseCount, &out.PledgeCount)
	if err != nil {
		return out, err
	}
	if out.Pledges, err = pledgesHeld(ctx, tx, org); err != nil {
		return out, err
	}
	rows, err = tx.QueryContext(ctx, portfolioLicensesSQL, org, MaxPortfolioRows)
	if err != nil {
		return out, err
	}
	err = scanRows(rows, func(r *sql.Rows) error {
		var l PortfolioLicense
		err := r.Scan(&l.LicenseID, &l.Number, &l.Title, &l.Type, &l.EffectiveOn)
		out.Licenses = append(out.Licenses, l)
		return err
	})
	return out, err
}

// portfolioPledgesSQL selects the pledges an organisation holds as
// pledgee, newest first, through tly_pledges_pledgee, each with its
// pledgor's name and its patents' numbers.
const portfolioPledgesSQL = `SELECT g.pledge_id, COALESCE(o.name, g.pledgor_id), g.secured_fen, g.registered_on,
		COALESCE(g.released_on, ''), (SELECT group_concat(number, ' ') FROM
			(SELECT number FROM tly_pledge_patents n WHERE n.pledge_id = g.pledge_id ORDER BY number))
	FROM tly_pledges g LEFT JOIN tly_orgs o ON o.id = g.pledgor_id
	WHERE g.pledgee_id = ? ORDER BY g.registered_on DESC, g.pledge_id LIMIT ?`

// pledgesHeld returns the pledges org holds as pledgee, at most
// MaxPortfolioRows, newest first, read in tx.
func pledgesHeld(ctx context.Context, tx *sql.Tx, org string) ([]PortfolioPledge, error) {
	rows, err := tx.QueryContext(ctx, portfolioPledgesSQL, org, MaxPortfolioRows)
	if err != nil {
		return nil, err
	}
	var out []PortfolioPledge
	err = scanRows(rows, func(r *sql.Rows) error {
		var p PortfolioPledge
		var numbers string
		var secured int64
		err := r.Scan(&p.PledgeID, &p.PledgorName, &secured, &p.RegisteredOn, &p.ReleasedOn, &numbers)
		p.Patents, p.Secured = strings.Fields(numbers), domain.Fen(secured)
		out = append(out, p)
		return err
	})
	return out, err
}

// scanRows calls scan for every row and closes rows.
func scanRows(rows *sql.Rows, scan func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Portfolio returns an organisation's patents and licences.
func (p *Pipeline) Portfolio(ctx context.Context, org string, today domain.Date) (Portfolio, error) {
	return p.db.Portfolio(ctx, org, today)
}
