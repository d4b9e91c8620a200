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
// patents it holds by number and the licences it has taken newest first,
// with how many of each there are in all; the licences are found through
// the licensee's index, not a scan of every licence.
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
	if err := w.p.WaitFor(ctx, last.Position); err != nil {
		t.Fatal(err)
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
	rows, err := w.p.db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+portfolioLicensesSQL, w.sme, MaxPortfolioRows)
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
	if joined := strings.Join(plan, "; "); !strings.Contains(joined, "tly_licenses_licensee") {
		t.Errorf("the licences of an organisation are read by %q, not through tly_licenses_licensee", joined)
	}
}
