package projections

import (
	"context"
	"reflect"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// TestDealBeforeTransferRecordedAfterIt: an open licence effective before
// a transfer but recorded after it was concluded with the patentee of its
// effective date, the declarant; the deals, the region of the deals and
// the rankings count it for that patentee, not for the assignee.
func TestDealBeforeTransferRecordedAfterIt(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	svc := newService(t, st)
	ctx := context.Background()
	u := registerOrg(t, svc, 1, orgSpec{name: "华南理工大学", kind: domain.OrgUniversity, region: "440106"})
	buyer := registerOrg(t, svc, 2, orgSpec{name: "北京创新公司", kind: domain.OrgEnterprise, region: "110108"})
	first := registerOrg(t, svc, 3, orgSpec{name: "番禺电池", kind: domain.OrgEnterprise, region: "440113", sme: true})
	late := registerOrg(t, svc, 4, orgSpec{name: "天河材料", kind: domain.OrgEnterprise, region: "440106", sme: true})
	after := registerOrg(t, svc, 5, orgSpec{name: "南京电机", kind: domain.OrgEnterprise, region: "320102"})
	n := patentNumber(t, 2019, 1, 1)
	registerPatent(t, svc, n, "电池", []string{"H01M 10/05"}, date("2019-01-01"), u)
	decl := declare(t, svc, n, date("2024-01-10"), 12, lumpSum(10000))
	open := func(licensee, on string) {
		t.Helper()
		_, err := svc.GrantLicense(ctx, admin, n, domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: licensee,
			EffectiveOn: date(on), FeePaidFen: 10000, DeclarationID: decl.ID})
		if err != nil {
			t.Fatalf("open licence of %s on %s: %v", licensee, on, err)
		}
	}
	open(first, "2024-03-05")
	if _, err := svc.TransferPatent(ctx, admin, n, domain.TransferPatent{ToIDs: []string{buyer}, EffectiveOn: date("2024-06-01"),
		PriceFen: 100000}); err != nil {
		t.Fatal(err)
	}
	open(late, "2024-05-01")  // recorded after the transfer, effective before it: the university's deal
	open(after, "2024-07-01") // the assignee's deal
	p := startPipeline(t, st, dir)
	waitHead(t, p, st)
	if err := p.db.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}

	year := TallyQuery{Subject: Deals, Period: Quarter, From: date("2024-01-01"), To: date("2024-12-31")}
	// deals, licensees, patents, fees_fen per quarter, then the total.
	for _, c := range []struct {
		name string
		q    TallyQuery
		want [][]int64
	}{
		{"the university", withPatentee(year, u), [][]int64{{1, 1, 1, 10000}, {1, 1, 1, 10000}, {0, 0, 0, 0}, {0, 0, 0, 0}, {2, 2, 1, 20000}}},
		{"the assignee", withPatentee(year, buyer), [][]int64{{0, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 1, 10000}, {0, 0, 0, 0}, {1, 1, 1, 10000}}},
		{"Guangzhou", withRegion(year, "4401"), [][]int64{{1, 1, 1, 10000}, {1, 1, 1, 10000}, {0, 0, 0, 0}, {0, 0, 0, 0}, {2, 2, 1, 20000}}},
		{"Beijing", withRegion(year, "11"), [][]int64{{0, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 1, 10000}, {0, 0, 0, 0}, {1, 1, 1, 10000}}},
	} {
		inMemory, inSQL := bothWays(t, p.db, c.q)
		for what, got := range map[string]Tally{"in memory": inMemory, "in SQL": inSQL} {
			if v := tallyValues(got); !reflect.DeepEqual(v, c.want) {
				t.Errorf("deals of %s %s = %v, want %v", c.name, what, v, c.want)
			}
		}
	}

	regions, err := p.db.DealsByRegion(ctx, RegionDealsQuery{From: date("2024-01-01"), To: date("2024-12-31"), Digits: 6})
	if err != nil {
		t.Fatal(err)
	}
	if want := []RegionDeals{{"440106", 2, 20000}, {"110108", 1, 10000}}; !reflect.DeepEqual(regions, want) {
		t.Errorf("deals by district = %v, want %v", regions, want)
	}
	for _, m := range []struct {
		metric string
		want   []int64
	}{{MetricLicenses, []int64{2, 1}}, {MetricFees, []int64{20000, 10000}}} {
		inMemory, inSQL := rankedBothWays(t, p.db, RankingQuery{Metric: m.metric, From: date("2024-01-01"), To: date("2024-12-31")})
		want := []Ranking{{u, "华南理工大学", m.want[0]}, {buyer, "北京创新公司", m.want[1]}}
		if !reflect.DeepEqual(inMemory, want) || !reflect.DeepEqual(inSQL, want) {
			t.Errorf("ranking by %s = %v in memory, %v in SQL, want %v", m.metric, inMemory, inSQL, want)
		}
	}
}

func withPatentee(q TallyQuery, id string) TallyQuery { q.PatenteeID = id; return q }

func withRegion(q TallyQuery, region string) TallyQuery { q.Region = region; return q }

// tallyValues returns the values of each bucket, then of the total.
func tallyValues(t Tally) [][]int64 {
	var out [][]int64
	for _, b := range append(t.Buckets, t.Total) {
		out = append(out, b.Values)
	}
	return out
}
