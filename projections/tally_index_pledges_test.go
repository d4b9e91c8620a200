package projections

import (
	"context"
	"reflect"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// TestPledgesTallyOfAPledgeOfSeveralPatents checks the pledges tally of a
// pledge of an invention and a utility model beside a pledge of another
// invention, live from memory, in SQL and after a rebuild: the IPC
// and kind filters each ask for one of a pledge's patents (not for one
// patent with both), and a pledge of two patents counts once.
func TestPledgesTallyOfAPledgeOfSeveralPatents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	p := startPipeline(t, st, dir)
	if err := p.db.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, st)
	university := registerOrg(t, svc, 1, orgSpec{"华南理工大学", domain.OrgUniversity, "440106", false})
	bank := registerOrg(t, svc, 2, orgSpec{"中国银行广州分行", domain.OrgBank, "440104", false})
	invention, utility, other := patentNumber(t, 2021, 1, 1), patentNumber(t, 2021, 2, 2), patentNumber(t, 2021, 1, 3)
	registerPatent(t, svc, invention, "一种锂离子电池电极材料", []string{"H01M 4/36"}, date("2021-03-01"), university)
	registerPatent(t, svc, other, "一种锂电池隔膜", []string{"H01M 50/40"}, date("2021-05-01"), university)
	registerPatent(t, svc, utility, "一种触控输入装置", []string{"G06F 3/041"}, date("2021-04-01"), university)
	pledge := func(on string, securedFen domain.Fen, numbers ...string) string {
		res, err := svc.RegisterPledge(ctx, admin, domain.RegisterPledge{PledgorID: university, PledgeeID: bank,
			Patents: numbers, SecuredAmountFen: securedFen, RegisteredOn: date(on),
			DebtDueOn: date(on).AddDays(365), OpenLicenseConsent: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	both := pledge("2024-03-15", 5_000_000, string(invention), string(utility))
	pledge("2024-04-02", 3_000_000, string(other))
	if _, err := svc.ReleasePledge(ctx, admin, domain.ReleasePledge{PledgeID: both, ReleasedOn: date("2024-07-01"),
		Reason: domain.ReleaseRepaid}); err != nil {
		t.Fatal(err)
	}
	waitHead(t, p, st)

	// Per month from January to August: registered, released, secured_fen
	// and in_force_at_end.
	bothOnly := [][4]int64{{}, {}, {1, 0, 5_000_000, 1}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 1, 0, 0}, {}}
	each := [][4]int64{{}, {}, {1, 0, 5_000_000, 1}, {1, 0, 3_000_000, 2}, {0, 0, 0, 2}, {0, 0, 0, 2}, {0, 1, 0, 1}, {0, 0, 0, 1}}
	none := make([][4]int64, 8)
	query := TallyQuery{Subject: Pledges, Period: Month, From: date("2024-01-01"), To: date("2024-08-31")}
	cases := []struct {
		name string
		edit func(*TallyQuery)
		want [][4]int64
	}{
		{"no filter", func(*TallyQuery) {}, each},
		{"utility model with an H01M code", func(q *TallyQuery) { q.Kind, q.IPCPrefix = domain.KindUtilityModel, "H01M" }, bothOnly},
		{"utility model", func(q *TallyQuery) { q.Kind = domain.KindUtilityModel }, bothOnly},
		{"H01M", func(q *TallyQuery) { q.IPCPrefix = "H01M" }, each},
		{"design", func(q *TallyQuery) { q.Kind = domain.KindDesign }, none},
		{"the pledgor in Guangzhou", func(q *TallyQuery) { q.PatenteeID, q.Region = university, "4401" }, each},
		{"the bank as pledgor", func(q *TallyQuery) { q.PatenteeID = bank }, none},
		{"Shenzhen", func(q *TallyQuery) { q.Region = "4403" }, none},
	}
	rebuilt := rebuiltDB(t, st)
	if err := rebuilt.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		q := query
		c.edit(&q)
		want := pledgesTally(q, c.want)
		for _, db := range []struct {
			what string
			db   *DB
		}{{"live", p.db}, {"rebuilt", rebuilt}} {
			inMemory, inSQL := bothWays(t, db.db, q)
			if !reflect.DeepEqual(inMemory, want) || !reflect.DeepEqual(inSQL, want) {
				t.Errorf("%s, %s:\nmemory %s\nSQL    %s\nwant   %s", db.what, c.name, mustJSON(inMemory), mustJSON(inSQL), mustJSON(want))
			}
		}
	}
}

// pledgesTally is the monthly pledges tally of q with the given values,
// from the month of q.From on.
func pledgesTally(q TallyQuery, months [][4]int64) Tally {
	spans, err := q.spans()
	if err != nil {
		panic(err)
	}
	t := newTally(q, subjects[Pledges], spans)
	for i, m := range months {
		copy(t.Buckets[i].Values, m[:])
		for c := range 3 {
			t.Total.Values[c] += m[c]
		}
		t.Total.Values[3] = m[3]
	}
	return t
}
