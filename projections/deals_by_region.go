package projections

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

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

// Check returns nil when q can be answered, else an invalid_argument
// *domain.Error naming every field at fault.
func (q RegionDealsQuery) Check() error {
	var fe domain.FieldErrors
	if q.From.IsZero() || q.To.IsZero() {
		fe.Addf("from", "from and to are both required")
	}
	fe.Add("to", CheckRange(q.From, q.To))
	if q.Digits != 2 && q.Digits != 4 && q.Digits != 6 {
		fe.Addf("digits", "must be 2 (province), 4 (city) or 6 (district)")
	}
	if q.Limit < 0 {
		fe.Addf("limit", "must not be negative")
	}
	return fe.Err()
}

// DealsByRegion returns the deals of q by region, answered from the
// in-memory tally index when it mirrors the tallies checkpoint, else in
// SQL. It returns an invalid_argument *domain.Error for a query it cannot
// answer.
func (db *DB) DealsByRegion(ctx context.Context, q RegionDealsQuery) (_ []RegionDeals, err error) {
	defer db.queryFailure(&err)
	if err := q.Check(); err != nil {
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
	return regionDealsInSQL(ctx, tx, q)
}

// regionDealsInSQL answers q from the tables in the read transaction tx.
// Rather than look up the licensors of each licence and payment in the
// range, which took seconds, it reads the organisations' regions and
// every licence's licensors once, in table order, and joins them here.
func regionDealsInSQL(ctx context.Context, tx *sql.Tx, q RegionDealsQuery) ([]RegionDeals, error) {
	regionOf := map[string]string{} // organisation → region prefix
	err := scanStrings(ctx, tx, "SELECT id, region FROM tly_orgs", func(c []string) error {
		if len(c[1]) >= q.Digits {
			regionOf[c[0]] = c[1][:q.Digits]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deals by region: %w", err)
	}
	regionsOf := map[string][]string{} // licence → the regions of its licensors, each once
	err = scanStrings(ctx, tx, "SELECT license_id, org_id FROM tly_license_orgs", func(c []string) error {
		if r, ok := regionOf[c[1]]; ok && !slices.Contains(regionsOf[c[0]], r) {
			regionsOf[c[0]] = append(regionsOf[c[0]], r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deals by region: %w", err)
	}
	byRegion := map[string]*RegionDeals{}
	add := func(licence string, deals, fees int64) {
		for _, r := range regionsOf[licence] {
			if byRegion[r] == nil {
				byRegion[r] = &RegionDeals{Region: r}
			}
			byRegion[r].Deals += deals
			byRegion[r].FeesFen += fees
		}
	}
	from, to := q.From.String(), q.To.String()
	err = scanStrings(ctx, tx, "SELECT license_id FROM tly_licenses WHERE effective_on BETWEEN ? AND ?", func(c []string) error {
		add(c[0], 1, 0)
		return nil
	}, from, to)
	if err == nil {
		err = scanStrings(ctx, tx, "SELECT license_id, amount_fen FROM tly_payments WHERE paid_on BETWEEN ? AND ?", func(c []string) error {
			fen, err := strconv.ParseInt(c[1], 10, 64)
			add(c[0], 0, fen)
			return err
		}, from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("deals by region: %w", err)
	}
	out := make([]RegionDeals, 0, len(byRegion))
	for _, r := range byRegion {
		out = append(out, *r)
	}
	return orderRegionDeals(out, q.Limit), nil
}

// dealsByRegion answers q from the facts (see DB.DealsByRegion). Each
// organisation's region is worked out once per query, so that a deal costs
// an index or two: its licensor (licensorsOf) and the region.
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
	add := func(deal int32, deals, fees int64) {
		licensors := f.licensorsOf(deal)
		for i, o := range licensors {
			k := regionOf[o]
			if k < 0 || i > 0 && slices.ContainsFunc(licensors[:i], func(p int32) bool { return regionOf[p] == k }) {
				continue // no region, or counted under an earlier licensor
			}
			regions[k].Deals, regions[k].FeesFen = regions[k].Deals+deals, regions[k].FeesFen+fees
		}
	}
	from, to := dayNumber(q.From), dayNumber(q.To)
	f.eachDeal(from, to, func(i int32) { add(i, 1, 0) })
	f.eachPayment(from, to, func(pay dealPayment) { add(pay.deal, 0, pay.amountFen) })
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
