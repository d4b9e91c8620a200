package projections

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"

	"github.com/patentledger/ledger/domain"
)

// Ranking metrics.
const (
	// MetricLicenses counts the licences a patentee granted (as one of the
	// licensors) that took effect in the range.
	MetricLicenses = "licenses"
	// MetricFees sums the fees and royalties paid in the range under the
	// licences a patentee granted.
	MetricFees = "fees_fen"
	// MetricDeclared counts the declarations a patentee filed (as one of
	// the patentees) dated in the range.
	MetricDeclared = "declared"
	// MetricConversion is the share of those declarations that reached an
	// open licence by the end of the range (DOMAIN.md: conversion,
	// licensed ÷ declared), in basis points rounded half up.
	MetricConversion = "conversion_bp"
)

// Ranking page sizes.
const (
	DefaultRankingLimit = 10
	MaxRankingLimit     = 100
)

// rankingQueries select (org_id, value) per patentee for a date range.
var rankingQueries = map[string]string{
	MetricLicenses: `SELECT x.org_id AS org_id, COUNT(*) AS value FROM tly_licenses l
		JOIN tly_license_orgs x ON x.license_id = l.license_id WHERE l.effective_on BETWEEN ? AND ? GROUP BY x.org_id`,
	MetricFees: `SELECT x.org_id AS org_id, SUM(y.amount_fen) AS value FROM tly_payments y
		JOIN tly_license_orgs x ON x.license_id = y.license_id WHERE y.paid_on BETWEEN ? AND ? GROUP BY x.org_id`,
	MetricDeclared: `SELECT x.org_id AS org_id, COUNT(*) AS value FROM tly_declarations d
		JOIN tly_declaration_orgs x ON x.declaration_id = d.declaration_id WHERE d.declared_on BETWEEN ? AND ? GROUP BY x.org_id`,
	MetricConversion: `SELECT x.org_id AS org_id,
		(20000 * SUM(f.first_on IS NOT NULL AND f.first_on <= ?2) + COUNT(*)) / (2 * COUNT(*)) AS value
		FROM tly_declarations d JOIN tly_declaration_orgs x ON x.declaration_id = d.declaration_id
		LEFT JOIN tly_first_licences f ON f.declaration_id = d.declaration_id
		WHERE d.declared_on BETWEEN ?1 AND ?2 GROUP BY x.org_id`,
}

// RankingQuery asks for the patentees ranked by a metric.
type RankingQuery struct {
	// Metric is MetricLicenses, MetricFees or MetricDeclared.
	Metric string
	// From and To bound the business dates counted; zero means unbounded.
	From, To domain.Date
	// Limit is how many patentees to return, 1–MaxRankingLimit;
	// DefaultRankingLimit when 0.
	Limit int
}

// Check returns nil when q can be answered, else an invalid_argument
// *domain.Error naming every parameter at fault: an unknown metric, a
// range ending before it starts, a limit out of bounds.
func (q RankingQuery) Check() error {
	var fe domain.FieldErrors
	if _, ok := rankingQueries[q.Metric]; !ok {
		fe.Addf("metric", "unknown metric %s; want licenses, fees_fen, declared or conversion_bp", domain.Quote(q.Metric))
	}
	fe.Add("to", CheckRange(q.From, q.To))
	if q.Limit < 0 || q.Limit > MaxRankingLimit {
		fe.Addf("limit", "must be from 1 to %d", MaxRankingLimit)
	}
	return fe.Err()
}

// Ranking is one patentee's place in a ranking. Co-owners each get the
// whole figure of a shared fact.
type Ranking struct {
	PatenteeID string `json:"patentee_id"`
	Name       string `json:"name"`
	Value      int64  `json:"value"`
}

// Rankings returns the patentees with the highest values of the metric,
// highest first (ties by ID). It returns an invalid_argument *domain.Error
// naming "metric", "to" or "limit" for an unknown metric, a range ending
// before it starts, or a limit out of bounds.
func (db *DB) Rankings(ctx context.Context, q RankingQuery) (_ []Ranking, err error) {
	defer db.queryFailure(&err)
	if err := q.Check(); err != nil {
		return nil, err
	}
	inner := rankingQueries[q.Metric]
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var out []Ranking
	if position, err := readCheckpoint(ctx, tx, TalliesName); err == nil && db.tallies.rank(q, position, &out) {
		return out, nil
	}
	return rankInSQL(ctx, tx, q, inner)
}

// rankInSQL ranks the patentees with the query inner of q.Metric, in the
// read transaction tx.
func rankInSQL(ctx context.Context, tx *sql.Tx, q RankingQuery, inner string) ([]Ranking, error) {
	from, to := cmp.Or(q.From.String(), "0000-00-00"), cmp.Or(q.To.String(), "9999-99-99")
	rows, err := tx.QueryContext(ctx, `SELECT r.org_id, COALESCE(o.name, ''), r.value FROM (`+inner+`) r
		LEFT JOIN tly_orgs o ON o.id = r.org_id ORDER BY r.value DESC, r.org_id LIMIT ?`,
		from, to, cmp.Or(q.Limit, DefaultRankingLimit))
	if err != nil {
		return nil, fmt.Errorf("rank by %s: %w", q.Metric, err)
	}
	defer rows.Close()
	out := []Ranking{}
	for rows.Next() {
		var r Ranking
		if err := rows.Scan(&r.PatenteeID, &r.Name, &r.Value); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
