package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// ReviewCoverageQuery asks how much of the universities' active patents
// the stock-patent reviews of a campaign covered on a day (DOMAIN.md,
// tally 5: the share of a university's active patents reviewed).
type ReviewCoverageQuery struct {
	// Campaign is the review campaign, such as "2024"; required.
	Campaign string
	// AsOf is the day of the figures; required.
	AsOf domain.Date
	// PatenteeID, when set, keeps that university only.
	PatenteeID string
	// Region, when set, keeps the universities whose region code starts
	// with it.
	Region string
	// Sort orders the items: CoverageByPatentee (the default when empty)
	// or CoverageByShare.
	Sort string
	// Limit, when above zero, keeps the first Limit items of that order;
	// the total still counts every university.
	Limit int
}

// The orders of a review coverage's items.
const (
	// CoverageByPatentee orders the items by patentee ID.
	CoverageByPatentee = "patentee_id"
	// CoverageByShare puts the lowest share first, the university with
	// more active patents first on equal shares, then by patentee ID: the
	// universities furthest behind in the campaign lead.
	CoverageByShare = "share"
)

// CoverageSorts are the orders a ReviewCoverageQuery accepts.
var CoverageSorts = []string{CoverageByPatentee, CoverageByShare}

// MaxCoverageLimit is the largest limit of a ReviewCoverageQuery.
const MaxCoverageLimit = 10_000

// ReviewCoverage is the answer to a ReviewCoverageQuery: one item per
// university with at least one active patent on AsOf, in the query's order
// and up to its limit; how many universities there are; and the total over
// all their patents (a patent co-owned by two universities counts once).
type ReviewCoverage struct {
	Campaign     string          `json:"campaign"`
	AsOf         domain.Date     `json:"as_of"`
	Items        []CoverageItem  `json:"items"`
	Universities int             `json:"universities"`
	Total        CoverageFigures `json:"total"`
}

// CoverageItem is one university's review coverage.
type CoverageItem struct {
	PatenteeID string `json:"patentee_id"`
	Name       string `json:"name"`
	Region     string `json:"region"`
	CoverageFigures
}

// CoverageFigures count the active patents and those of them reviewed.
// ShareBP is Reviewed ÷ ActivePatents in basis points, rounded half up; 0
// when there are no active patents.
type CoverageFigures struct {
	ActivePatents int64 `json:"active_patents"`
	Reviewed      int64 `json:"reviewed"`
	ShareBP       int64 `json:"share_bp"`
}

// reviewCoverageSchema is the table the review coverage adds to the
// Tallies projection (beside the grant, expiry and registered patentees of
// tly_patents): the patents' register status changes with the position of
// their event (seq), which orders changes effective on the same day as the
// domain does.
var reviewCoverageSchema = []string{
	`CREATE TABLE tly_patent_status (number TEXT NOT NULL, effective_on TEXT NOT NULL, seq INTEGER NOT NULL,
		status TEXT NOT NULL, PRIMARY KEY (number, effective_on, seq)) STRICT, WITHOUT ROWID`,
}

// reviewCoverageSQL selects, for every patent active on ?1 and each of its
// patentees on ?1 that is a registered university, the patent, the
// university and whether the patent has a review of campaign ?2 dated on or
// before ?1. As in domain.Patent:
//   - a patent is active on a day from its grant to its expiry when its
//     last status effective by then is active; the registration makes it
//     active on the grant date, so changes effective before it do not
//     count, and of changes effective on the same day the later one wins;
//   - its patentees on a day are the new patentees of its transfer with the
//     latest effective date by then (the later recorded on the same day),
//     or its registered patentees when it has none.
const reviewCoverageSQL = `
WITH last_transfer AS (
	SELECT number, transfer_id FROM (
		SELECT number, transfer_id, row_number() OVER (PARTITION BY number ORDER BY effective_on DESC, seq DESC) AS rn
		FROM tly_transfers WHERE effective_on <= ?1)
	WHERE rn = 1),
last_status AS (
	SELECT number, status FROM (
		SELECT s.number, s.status, row_number() OVER (PARTITION BY s.number ORDER BY s.effective_on DESC, s.seq DESC) AS rn
		FROM tly_patent_status s JOIN tly_patents p ON p.number = s.number
		WHERE s.effective_on <= ?1 AND s.effective_on >= p.granted_on)
	WHERE rn = 1),
owners AS (
	SELECT t.number, x.org_id FROM last_transfer t
		JOIN tly_transfer_orgs x ON x.transfer_id = t.transfer_id AND x.role = 'to'
	UNION ALL
	SELECT p.number, j.value FROM tly_patents p, json_each(p.owners) j WHERE p.number NOT IN (SELECT number FROM last_transfer))
SELECT w.number, o.id, o.name, o.region,
	EXISTS (SELECT 1 FROM tly_reviews r WHERE r.number = w.number AND r.campaign = ?2 AND r.reviewed_on <= ?1)
FROM owners w
JOIN tly_orgs o ON o.id = w.org_id AND o.kind = 'university'
JOIN tly_patents p ON p.number = w.number AND p.granted_on <= ?1 AND p.expires_on >= ?1
LEFT JOIN last_status ls ON ls.number = w.number
WHERE coalesce(ls.status, 'active') = 'active'`

// ReviewCoverage computes the review coverage of a campaign, from the
// in-memory tally index when it mirrors the file, else in SQL. It returns
// an invalid_argument *domain.Error naming campaign or as_of when either
// is missing or invalid, sort when it is not one of CoverageSorts, and
// limit when it is negative or above MaxCoverageLimit.
func (db *DB) ReviewCoverage(ctx context.Context, q ReviewCoverageQuery) (_ ReviewCoverage, err error) {
	defer db.queryFailure(&err)
	if _, err := domain.ParseCampaign(q.Campaign); err != nil {
		return ReviewCoverage{}, err
	}
	if q.AsOf.IsZero() {
		return ReviewCoverage{}, domain.Invalid("as_of", "is required (YYYY-MM-DD)")
	}
	if q.Sort != "" && !slices.Contains(CoverageSorts, q.Sort) {
		return ReviewCoverage{}, domain.Invalid("sort", "unknown order %s; want patentee_id or share", domain.Quote(q.Sort))
	}
	if q.Limit < 0 || q.Limit > MaxCoverageLimit {
		return ReviewCoverage{}, domain.Invalid("limit", "must be an integer from 1 to %d", MaxCoverageLimit)
	}
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return ReviewCoverage{}, err
	}
	defer tx.Rollback()
	var out ReviewCoverage
	if position, err := readCheckpoint(ctx, tx, TalliesName); err == nil && db.tallies.reviewCoverage(q, position, &out) {
		return out, nil
	}
	return reviewCoverageInSQL(ctx, tx, q)
}

// LatestCampaign returns the campaign of the latest review dated on or
// before asOf (of those dated the same day, the greatest name), or "" when
// there is none.
func (db *DB) LatestCampaign(ctx context.Context, asOf domain.Date) (_ string, err error) {
	defer db.queryFailure(&err)
	var campaign string
	err = db.read.QueryRowContext(ctx, `SELECT campaign FROM tly_reviews WHERE reviewed_on <= ?
		ORDER BY reviewed_on DESC, campaign DESC LIMIT 1`, asOf.String()).Scan(&campaign)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return campaign, err
}

// reviewCoverageInSQL computes a review coverage from the tables, in the
// read transaction tx.
func reviewCoverageInSQL(ctx context.Context, tx *sql.Tx, q ReviewCoverageQuery) (ReviewCoverage, error) {
	query, args := reviewCoverageSQL, []any{q.AsOf.String(), q.Campaign}
	if q.PatenteeID != "" {
		query += " AND o.id = ?"
		args = append(args, q.PatenteeID)
	}
	if q.Region != "" {
		lo, hi := prefixRange(q.Region)
		query += " AND o.region >= ? AND o.region < ?"
		args = append(args, lo, hi)
	}
	var c coverageCount
	err := scanStrings(ctx, tx, query, func(col []string) error {
		c.add(col[0], coverageOrg{id: col[1], name: col[2], region: col[3]}, col[4] == "1")
		return nil
	}, args...)
	if err != nil {
		return ReviewCoverage{}, err
	}
	return c.result(q), nil
}

// coverageOrg identifies a university of a review coverage.
type coverageOrg struct{ id, name, region string }

// coverageCount adds up a review coverage, one (patent, university) pair
// at a time.
type coverageCount struct {
	byOrg    map[coverageOrg]*CoverageFigures
	reviewed map[string]bool // every active patent counted → whether it was reviewed
}

func (c *coverageCount) add(patent string, org coverageOrg, reviewed bool) {
	if c.byOrg == nil {
		c.byOrg, c.reviewed = map[coverageOrg]*CoverageFigures{}, map[string]bool{}
	}
	figures := c.byOrg[org]
	if figures == nil {
		figures = &CoverageFigures{}
		c.byOrg[org] = figures
	}
	figures.add(reviewed)
	c.reviewed[patent] = reviewed
}

// result returns the coverage counted: the items, and the total over the
// distinct patents.
func (c *coverageCount) result(q ReviewCoverageQuery) ReviewCoverage {
	items := []CoverageItem{}
	for org, figures := range c.byOrg {
		items = append(items, CoverageItem{PatenteeID: org.id, Name: org.name, Region: org.region, CoverageFigures: *figures})
	}
	var total CoverageFigures
	for _, r := range c.reviewed {
		total.add(r)
	}
	return newReviewCoverage(q, items, total)
}

// newReviewCoverage returns the answer to q from the items counted and
// the total: their shares set, the items in q's order and cut to its
// limit.
func newReviewCoverage(q ReviewCoverageQuery, items []CoverageItem, total CoverageFigures) ReviewCoverage {
	for i := range items {
		items[i].share()
	}
	slices.SortFunc(items, func(a, b CoverageItem) int { return strings.Compare(a.PatenteeID, b.PatenteeID) })
	if q.Sort == CoverageByShare {
		slices.SortStableFunc(items, func(a, b CoverageItem) int {
			return cmp.Or(cmp.Compare(a.ShareBP, b.ShareBP), cmp.Compare(b.ActivePatents, a.ActivePatents))
		})
	}
	universities := len(items)
	if q.Limit > 0 && len(items) > q.Limit {
		items = items[:q.Limit]
	}
	total.share()
	return ReviewCoverage{Campaign: q.Campaign, AsOf: q.AsOf, Items: items, Universities: universities, Total: total}
}

// reviewCoverage computes a review coverage from memory into out when the
// index mirrors the tallies checkpoint position; it reports whether it
// did.
func (idx *tallyIndex) reviewCoverage(q ReviewCoverageQuery, position int64, out *ReviewCoverage) bool {
	return idx.readAt(position, func(f *tallyFacts) { *out = f.reviewCoverage(q) })
}

// reviewCoverage computes a review coverage with the meaning of
// reviewCoverageSQL.
func (f *tallyFacts) reviewCoverage(q ReviewCoverageQuery) ReviewCoverage {
	day := dayNumber(q.AsOf)
	counted := make([]bool, len(f.orgs)) // the universities the query counts
	for i, o := range f.orgs {
		counted[i] = o.known && o.kind == domain.OrgUniversity && (q.PatenteeID == "" || o.id == q.PatenteeID) &&
			(q.Region == "" || inPrefixRange(o.region, q.Region))
	}
	reviewed := make([]bool, len(f.patents))
	for i := range f.reviews {
		if r := &f.reviews[i]; r.campaign == q.Campaign && r.day <= day {
			reviewed[r.patent] = true
		}
	}
	byOrg := make([]CoverageFigures, len(f.orgs))
	var total CoverageFigures
	for i := range f.patents {
		p := &f.patents[i]
		if !p.known || p.granted > day || p.expires < day || (p.changed && !f.activeOn(int32(i), day)) {
			continue
		}
		owners := p.owners
		if p.changed {
			owners = f.ownersOn(int32(i), day)
		}
		inTotal := false
		for _, o := range owners {
			if counted[o] {
				byOrg[o].add(reviewed[i])
				inTotal = true
			}
		}
		if inTotal {
			total.add(reviewed[i])
		}
	}
	items := []CoverageItem{}
	for i, figures := range byOrg {
		if figures.ActivePatents > 0 {
			o := &f.orgs[i]
			items = append(items, CoverageItem{PatenteeID: o.id, Name: o.name, Region: o.region, CoverageFigures: figures})
		}
	}
	return newReviewCoverage(q, items, total)
}

// activeOn reports whether the last status change of a patent effective
// by day, and not before its grant, leaves it active (no change: active).
func (f *tallyFacts) activeOn(patent, day int32) bool {
	active, latest := true, f.patents[patent].granted
	for _, c := range f.statusChanges[patent] {
		if c.day <= day && c.day >= latest {
			active, latest = c.active, c.day
		}
	}
	return active
}

// ownersOn returns the patentees of a patent on day: the new patentees of
// its transfer with the latest effective date by then (the later recorded
// on the same day), else its registered patentees.
func (f *tallyFacts) ownersOn(patent, day int32) []int32 {
	owners, latest := f.patents[patent].owners, int32(math.MinInt32)
	for _, i := range f.transfersOf[patent] {
		if t := &f.transfers[i]; t.day <= day && t.day >= latest {
			owners, latest = t.to, t.day
		}
	}
	return owners
}

// add counts one active patent, reviewed or not.
func (f *CoverageFigures) add(reviewed bool) {
	f.ActivePatents++
	if reviewed {
		f.Reviewed++
	}
}

// share sets ShareBP from the counts.
func (f *CoverageFigures) share() {
	if f.ActivePatents > 0 {
		f.ShareBP = roundHalfUp(f.Reviewed*10_000, f.ActivePatents)
	}
}
