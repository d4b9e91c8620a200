package projections

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/patentledger/ledger/domain"
)

// RegionDeals are the deals of one region over a range of days: the
// licences effective in the range with a licensor registered in the
// region, and the fees and royalties paid in the range under licences with
// a licensor there. A licence with licensors in two regions counts in
// each, as a deals tally filtered by either region counts it.
type RegionDeals struct {
	Region  string `json:"region"`
	Deals   int64  `json:"deals"`
	FeesFen int64  `json:"fees_fen"`
}

// RegionDealsQuery asks for the deals of from..to (inclusive) by region:
// the first Digits digits of the licensors' region codes (2 a province, 4
// a city, 6 a district), the Limit regions with the most deals (then the
// most fees, then by code), every one when Limit is 0.
type RegionDealsQuery struct {
	From, To domain.Date
	Digits   int
	Limit    int
}

// check refuses a query that cannot be answered, naming the field.
func (q RegionDealsQuery) check() error {
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return domain.Invalid("from", "from and to are both required")
	case q.To.Before(q.From):
		return domain.Invalid("to", "%s is before from %s", q.To, q.From)
	case q.Digits != 2 && q.Digits != 4 && q.Digits != 6:
		return domain.Invalid("digits", "must be 2 (province), 4 (city) or 6 (district)")
	case q.Limit < 0:
		return domain.Invalid("limit", "must not be negative")
	}
	return nil
}

// DealsByRegion returns the deals of q by region, answered from the
// in-memory tally index when it mirrors the tallies checkpoint, else in
// SQL. It returns an invalid_argument *domain.Error for a query it cannot
// answer.
func (db *DB) DealsByRegion(ctx context.Context, q RegionDealsQuery) ([]RegionDeals, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var out []RegionDeals
	if position, err := readCheckpoint(ctx, tx, TalliesName); err == nil &&
		db.tallies.readAt(position, func(f *tallyFacts) { out = f.dealsByRegion(q) }) {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, regionDealsSQL, q.Digits, q.From.String(), q.To.String())
	if err != nil {
		return nil, fmt.Errorf("deals by region: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r RegionDeals
		if err := rows.Scan(&r.Region, &r.Deals, &r.FeesFen); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return orderRegionDeals(out, q.Limit), nil
}

// regionDealsSQL selects, per region prefix of ?1 digits of the licensors,
// the licences effective from ?2 to ?3 and the fees paid then; a licence
// or payment counts once in each region of its licensors.
const regionDealsSQL = `SELECT region, SUM(deals), SUM(fees) FROM (
	SELECT DISTINCT substr(o.region, 1, ?1) AS region, l.license_id AS id, 1 AS deals, 0 AS fees
		FROM tly_licenses l JOIN tly_license_orgs lo ON lo.license_id = l.license_id JOIN tly_orgs o ON o.id = lo.org_id
		WHERE l.effective_on BETWEEN ?2 AND ?3
	UNION ALL
	SELECT DISTINCT substr(o.region, 1, ?1), p.id, 0, p.amount_fen
		FROM tly_payments p JOIN tly_license_orgs lo ON lo.license_id = p.license_id JOIN tly_orgs o ON o.id = lo.org_id
		WHERE p.paid_on BETWEEN ?2 AND ?3
) GROUP BY region`

// dealsByRegion answers q from the facts (see DB.DealsByRegion). Each
// organisation's region is worked out once per query, so that a deal costs
// an index or two.
func (f *tallyFacts) dealsByRegion(q RegionDealsQuery) []RegionDeals {
	var regions []RegionDeals
	regionOf := make([]int32, len(f.orgs)) // index in regions, -1 for none
	index := map[string]int32{}
	for i := range f.orgs {
		o := &f.orgs[i]
		if !o.known || len(o.region) < q.Digits {
			regionOf[i] = -1
			continue
		}
		k, ok := index[o.region[:q.Digits]]
		if !ok {
			k = int32(len(regions))
			index[o.region[:q.Digits]] = k
			regions = append(regions, RegionDeals{Region: o.region[:q.Digits]})
		}
		regionOf[i] = k
	}
	add := func(d *dealFact, deals, fees int64) {
		if len(d.licensors) == 1 { // most deals: no need to read the licensors' slice
			if k := regionOf[d.licensor]; k >= 0 {
				regions[k].Deals, regions[k].FeesFen = regions[k].Deals+deals, regions[k].FeesFen+fees
			}
			return
		}
		for i, o := range d.licensors {
			k := regionOf[o]
			if k < 0 || slices.ContainsFunc(d.licensors[:i], func(p int32) bool { return regionOf[p] == k }) {
				continue // no region, or counted under an earlier licensor
			}
			regions[k].Deals, regions[k].FeesFen = regions[k].Deals+deals, regions[k].FeesFen+fees
		}
	}
	from, to := dayNumber(q.From), dayNumber(q.To)
	f.eachDeal(from, to, func(i int32) { add(&f.deals[i], 1, 0) })
	f.eachPayment(from, to, func(pay dealPayment) { add(&f.deals[pay.deal], 0, pay.amountFen) })
	return orderRegionDeals(slices.DeleteFunc(regions, func(r RegionDeals) bool { return r.Deals == 0 && r.FeesFen == 0 }), q.Limit)
}

// orderRegionDeals sorts regions by deals, then fees (both most first),
// then code, and keeps the first limit (all when limit is 0).
func orderRegionDeals(out []RegionDeals, limit int) []RegionDeals {
	slices.SortFunc(out, func(a, b RegionDeals) int {
		return cmp.Or(cmp.Compare(b.Deals, a.Deals), cmp.Compare(b.FeesFen, a.FeesFen), cmp.Compare(a.Region, b.Region))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []RegionDeals{}
	}
	return out
}
