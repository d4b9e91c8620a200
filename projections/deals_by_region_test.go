package projections

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// TestDealsByRegionAgreesWithTheRegionTallies writes a random history with
// licensors in six districts of four cities and three provinces, and
// checks deals by region, per province, city and district, over several
// ranges: from memory and in SQL alike, each region's figures equal the
// totals of a deals tally filtered by that region, every region with a
// deal or a fee is there, and the order and the limit hold.
func TestDealsByRegionAgreesWithTheRegionTallies(t *testing.T) {
	for _, seed := range []uint64{21, 22, 23} {
		dealsByRegionOfHistory(t, seed)
	}
}

// dealsByRegionOfHistory runs TestDealsByRegionAgreesWithTheRegionTallies
// on the history of seed.
func dealsByRegionOfHistory(t *testing.T, seed uint64) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	h := newHistory(t, newService(t, st), seed)
	h.run(300)
	rebuildInto(t, dir, st)
	inSQL := openDB(t, dir)
	inMemory := openDB(t, dir)
	if err := inMemory.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	counted := 0
	for _, r := range [][2]string{{"2021-01-01", "2025-12-31"}, {"2023-01-01", "2023-12-31"}, {"2024-02-29", "2024-06-30"}} {
		for _, digits := range []int{2, 4, 6} {
			q := RegionDealsQuery{From: date(r[0]), To: date(r[1]), Digits: digits}
			fromSQL, err := inSQL.DealsByRegion(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			fromMemory, err := inMemory.DealsByRegion(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromSQL, fromMemory) {
				t.Fatalf("%+v:\nSQL    %+v\nmemory %+v", q, fromSQL, fromMemory)
			}
			counted += checkRegionDeals(t, inSQL, q, fromSQL)
		}
	}
	if counted < 12 {
		t.Fatalf("only %d regions with deals: the history tests too little", counted)
	}
	all, err := inSQL.DealsByRegion(ctx, RegionDealsQuery{From: date("2021-01-01"), To: date("2025-12-31"), Digits: 6})
	if err != nil {
		t.Fatal(err)
	}
	top, err := inMemory.DealsByRegion(ctx, RegionDealsQuery{From: date("2021-01-01"), To: date("2025-12-31"), Digits: 6, Limit: 2})
	if err != nil || !reflect.DeepEqual(top, all[:2]) {
		t.Fatalf("limit 2: %+v, %v; want %+v", top, err, all[:2])
	}
}

// checkRegionDeals checks one answer of q against deals tallies filtered
// by region, and returns how many of its regions have deals.
func checkRegionDeals(t *testing.T, db *DB, q RegionDealsQuery, got []RegionDeals) int {
	t.Helper()
	if !slices.IsSortedFunc(got, func(a, b RegionDeals) int {
		if a.Deals != b.Deals {
			return int(b.Deals - a.Deals)
		}
		return int(b.FeesFen - a.FeesFen)
	}) {
		t.Fatalf("%+v: not ordered by deals, then fees: %+v", q, got)
	}
	want := map[string]RegionDeals{}
	for _, code := range histRegions {
		region := code[:q.Digits]
		tally, err := db.Tally(context.Background(), TallyQuery{Subject: Deals, Period: Year, From: q.From, To: q.To, Region: region})
		if err != nil {
			t.Fatal(err)
		}
		deals, fees := tally.Total.Values[slices.Index(tally.Columns, "deals")], tally.Total.Values[slices.Index(tally.Columns, "fees_fen")]
		if deals > 0 || fees > 0 {
			want[region] = RegionDeals{Region: region, Deals: deals, FeesFen: fees}
		}
	}
	withDeals := 0
	for _, r := range got {
		if r != want[r.Region] {
			t.Errorf("%+v: region %+v, the tally says %+v", q, r, want[r.Region])
		}
		if r.Deals > 0 {
			withDeals++
		}
		delete(want, r.Region)
	}
	if len(want) > 0 {
		t.Errorf("%+v: regions missing: %+v", q, want)
	}
	return withDeals
}

// TestDealsByRegionCountsALicenceOncePerRegion: a licence of two
// co-owners in one district, with its fee and a royalty, counts once there,
// and once in each district of co-owners in two.
func TestDealsByRegionCountsALicenceOncePerRegion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	s := &synth{}
	org := func(id, region string) domain.Event {
		return domain.OrgRegistered{OrgID: id, Name: id, Kind: domain.OrgUniversity, RegionCode: domain.RegionCode(region)}
	}
	s.add("orgs", org("u1", "440106"), org("u2", "440106"), org("u3", "440305"))
	licence := func(n domain.PatentNumber, id string, licensors ...string) []domain.Event {
		return []domain.Event{domain.PatentRegistered{Number: n, Kind: domain.KindInvention, Title: "电池", PatenteeIDs: licensors,
			FiledOn: date("2019-03-01"), GrantedOn: date("2020-06-01"), ExpiresOn: date("2039-02-28")},
			domain.LicenseGranted{Number: n, LicenseID: id, Type: domain.LicenseOrdinary, LicensorIDs: licensors, LicenseeID: "f1",
				EffectiveOn: date("2024-03-01"), EndsOn: date("2025-02-28"), FeePaidFen: 1_000},
			domain.RoyaltyPaid{Number: n, LicenseID: id, PaidOn: date("2024-04-01"), AmountFen: 500}}
	}
	n1, n2 := patentNumber(t, 2020, 1, 1), patentNumber(t, 2020, 1, 2)
	s.add(domain.PatentStream(n1), licence(n1, "L1", "u1", "u2")...)
	s.add(domain.PatentStream(n2), licence(n2, "L2", "u2", "u3")...)
	s.flush(t, st)
	rebuildInto(t, dir, st)
	inMemory := openDB(t, dir)
	if err := inMemory.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, db := range []*DB{openDB(t, dir), inMemory} {
		for digits, want := range map[int][]RegionDeals{
			6: {{Region: "440106", Deals: 2, FeesFen: 3_000}, {Region: "440305", Deals: 1, FeesFen: 1_500}},
			4: {{Region: "4401", Deals: 2, FeesFen: 3_000}, {Region: "4403", Deals: 1, FeesFen: 1_500}},
			2: {{Region: "44", Deals: 2, FeesFen: 3_000}}} {
			got, err := db.DealsByRegion(ctx, RegionDealsQuery{From: date("2024-01-01"), To: date("2024-12-31"), Digits: digits})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%d digits: %+v, %v; want %+v", digits, got, err, want)
			}
		}
	}
}

func TestDealsByRegionRefusesBadQueries(t *testing.T) {
	db := openDB(t, t.TempDir())
	day := domain.NewDate(2024, 1, 1)
	for _, c := range []struct {
		q     RegionDealsQuery
		field string
	}{{RegionDealsQuery{To: day, Digits: 6}, "from"}, {RegionDealsQuery{From: day, To: day.AddDays(-1), Digits: 6}, "to"},
		{RegionDealsQuery{From: day, To: day, Digits: 3}, "digits"}, {RegionDealsQuery{From: day, To: day, Digits: 6, Limit: -1}, "limit"}} {
		_, err := db.DealsByRegion(context.Background(), c.q)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument || len(de.Fields) != 1 || de.Fields[0].Field != c.field {
			t.Errorf("%+v: %v, want invalid_argument naming %s", c.q, err, c.field)
		}
	}
}
