package projections

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// TestPortfolioListsAndCounts: an organisation's portfolio lists the
// patents it holds by number, the licences it has taken and the pledges it
// holds as pledgee newest first, with how many of each there are in all;
// licences and pledges are found through the licensee's and the pledgee's
// indexes, not a scan of every one.
func TestPortfolioListsAndCounts(t *testing.T) {
	w := newListingWorld(t)
	ctx := context.Background()
	var last domain.Result
	for i, on := range []string{"2024-04-01", "2024-05-01"} {
		res, err := w.svc.GrantLicense(ctx, admin, w.n[i], domain.GrantLicense{Type: domain.LicenseOpen, LicenseeID: w.sme,
			EffectiveOn: date(on), FeePaidFen: []domain.Fen{5_000_000, 100_000}[i], DeclarationID: w.decl[i]})
		if err != nil {
			t.Fatal(err)
		}
		last = res
	}
	bank := registerOrg(t, w.svc, 4, orgSpec{"中国工商银行广州分行", domain.OrgBank, "440104", false})
	for _, p := range []struct {
		numbers []string
		on      string
	}{{[]string{string(w.n[4]), string(w.n[0])}, "2024-05-01"}, {[]string{string(w.n[2])}, "2024-06-01"}} {
		owner := w.guangzhou
		if p.numbers[0] == string(w.n[2]) {
			owner = w.shenzen
		}
		res, err := w.svc.RegisterPledge(ctx, admin, domain.RegisterPledge{PledgorID: owner, PledgeeID: bank, Patents: p.numbers,
			SecuredAmountFen: 1_000_000, RegisteredOn: date(p.on), DebtDueOn: date(p.on).AddDays(365), OpenLicenseConsent: true})
		if err != nil {
			t.Fatal(err)
		}
		last = res
	}
	if err := w.p.WaitFor(ctx, last.Position); err != nil {
		t.Fatal(err)
	}
	pledged, err := w.p.Portfolio(ctx, bank, date("2024-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	want := []PortfolioPledge{
		{PledgorName: "深圳大学", Patents: []string{string(w.n[2])}, Secured: 1_000_000, RegisteredOn: "2024-06-01"},
		{PledgorName: "华南理工大学", Patents: []string{string(w.n[0]), string(w.n[4])}, Secured: 1_000_000, RegisteredOn: "2024-05-01"},
	}
	for i := range min(len(want), len(pledged.Pledges)) {
		want[i].PledgeID = pledged.Pledges[i].PledgeID // drawn at random
	}
	if !reflect.DeepEqual(pledged.Pledges, want) || pledged.PledgeCount != 2 || pledged.PatentCount != 0 {
		t.Errorf("bank's pledges %+v (%d); want %+v (2)", pledged.Pledges, pledged.PledgeCount, want)
	}
	uni, err := w.p.Portfolio(ctx, w.guangzhou, date("2024-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, p := range uni.Patents {
		held = append(held, p.Number)
	}
	if want := []string{string(w.n[0]), string(w.n[1]), string(w.n[4])}; !reflect.DeepEqual(held, want) || uni.PatentCount != 3 || uni.LicenseCount != 0 {
		t.Errorf("university: patents %v (%d), %d licences; want %v (3), 0", held, uni.PatentCount, uni.LicenseCount, want)
	}
	sme, err := w.p.Portfolio(ctx, w.sme, date("2024-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sme.Licenses) != 2 || sme.Licenses[0].Number != string(w.n[1]) || sme.Licenses[0].EffectiveOn != "2024-05-01" ||
		sme.LicenseCount != 2 || sme.PatentCount != 0 {
		t.Errorf("SME: %+v; want its two licences, the newest (%s, 2024-05-01) first, counted 2", sme, w.n[1])
	}
	for query, index := range map[string]string{portfolioLicensesSQL: "tly_licenses_licensee", portfolioPledgesSQL: "tly_pledges_pledgee"} {
		if plan := queryPlan(t, w.p.db, query, w.sme, MaxPortfolioRows); !strings.Contains(plan, index) {
			t.Errorf("an organisation's own rows are read by %q, not through %s", plan, index)
		}
	}
}

// queryPlan returns SQLite's plan of query with args, its steps joined by "; ".
func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := scanRows(rows, func(r *sql.Rows) error {
		var id, parent, unused int
		var detail string
		err := r.Scan(&id, &parent, &unused, &detail)
		plan = append(plan, detail)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
