package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
)

// changeSomeStatuses records register status changes on random patents:
// lapses, invalidations, abandonments and restorations, effective before,
// on and after the grant date and on boundary dates.
func changeSomeStatuses(h *history, n int) {
	bounds := boundaryDates()
	statuses := []domain.PatentStatus{domain.StatusLapsed, domain.StatusInvalidated, domain.StatusAbandoned,
		domain.StatusActive, domain.StatusActive}
	for range n {
		p := h.patent()
		status := statuses[h.rng.IntN(len(statuses))]
		on := []domain.Date{p.granted.AddDays(-10), p.granted, h.date(bounds), h.date(bounds)}[h.rng.IntN(4)]
		_, err := h.svc.ChangeStatus(context.Background(), admin, p.number, domain.ChangeStatus{Status: &status,
			EffectiveOn: on, Reason: "年费未缴"})
		h.record(err)
	}
}

// lapseBeforeGrant appends straight to the store, past the domain's rule
// date_before_fact, a lapse of p effective before its grant, as a ledger
// written before that rule could hold: the grant's active status, later,
// supersedes it.
func lapseBeforeGrant(t *testing.T, st domain.EventStore, p histPatent) {
	t.Helper()
	data, err := json.Marshal(domain.PatentStatusChanged{Number: p.number, Status: domain.StatusLapsed,
		EffectiveOn: p.granted.AddDays(-1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Append(context.Background(), domain.StreamAppend{Stream: domain.PatentStream(p.number), Expected: domain.ExpectAny,
		Events: []domain.EventData{{ID: uuid.NewString(), Type: domain.TypePatentStatusChanged, Data: data,
			Meta: domain.Metadata{CorrelationID: "legacy", SchemaVersion: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// expectCoverage recounts a review coverage from the patents' aggregates,
// as the domain folds their events.
func expectCoverage(m *model, patents []*domain.Patent, q ReviewCoverageQuery) ReviewCoverage {
	out := ReviewCoverage{Campaign: q.Campaign, AsOf: q.AsOf, Items: []CoverageItem{}}
	byOrg := map[string]*CoverageItem{}
	for _, p := range patents {
		if p.StatusOn(q.AsOf) != domain.StatusActive {
			continue
		}
		r := p.Reviews[q.Campaign]
		reviewed := r != nil && !r.ReviewedOn.After(q.AsOf)
		counted := false
		for _, id := range patenteesOn(p, q.AsOf) {
			o, ok := m.orgs[id]
			if !ok || o.Kind != domain.OrgUniversity || (q.PatenteeID != "" && id != q.PatenteeID) ||
				!strings.HasPrefix(string(o.RegionCode), q.Region) {
				continue
			}
			if byOrg[id] == nil {
				byOrg[id] = &CoverageItem{PatenteeID: id, Name: o.Name, Region: string(o.RegionCode)}
			}
			byOrg[id].add(reviewed)
			counted = true
		}
		if counted {
			out.Total.add(reviewed)
		}
	}
	for _, item := range byOrg {
		item.share()
		out.Items = append(out.Items, *item)
	}
	slices.SortFunc(out.Items, func(a, b CoverageItem) int {
		if q.Sort == CoverageByShare && a.ShareBP != b.ShareBP {
			return int(a.ShareBP - b.ShareBP)
		}
		if q.Sort == CoverageByShare && a.ActivePatents != b.ActivePatents {
			return int(b.ActivePatents - a.ActivePatents)
		}
		return strings.Compare(a.PatenteeID, b.PatenteeID)
	})
	out.Universities = len(out.Items)
	if q.Limit > 0 {
		out.Items = out.Items[:min(q.Limit, len(out.Items))]
	}
	out.Total.share()
	return out
}

// patenteesOn returns the patentees of p on day: the new patentees of the
// transfer with the latest effective date by then (the later recorded on
// the same day), else the registered ones (the first transfer's
// assignors, or the patentees when it was never transferred).
func patenteesOn(p *domain.Patent, day domain.Date) []string {
	owners := p.PatenteeIDs
	if len(p.Transfers) > 0 {
		owners = p.Transfers[0].FromIDs
	}
	var latest *domain.PatentTransferred
	for i := range p.Transfers {
		t := &p.Transfers[i]
		if !t.EffectiveOn.After(day) && (latest == nil || !t.EffectiveOn.Before(latest.EffectiveOn)) {
			latest = t
		}
	}
	if latest != nil {
		owners = latest.ToIDs
	}
	return owners
}

// TestReviewCoverageProperty writes a random valid history with status
// changes, transfers and reviews, while the live pipeline projects it and
// its tally index, loaded before the first event, follows every commit;
// it compares the review coverage, on many days and with every filter,
// from memory and in SQL, with a recount from the domain's aggregates;
// then again after a rebuild, with the index loaded from the tables.
func TestReviewCoverageProperty(t *testing.T) {
	seed := propertySeed(t) + 11
	dir := t.TempDir()
	st := openStore(t, dir)
	p := startPipeline(t, st, dir)
	if err := p.db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, st)
	h := newHistory(t, svc, seed)
	h.run(250)
	changeSomeStatuses(h, 40)
	bounds := boundaryDates()
	for range 40 {
		h.record(h.review(h.date(bounds)))
	}
	for range 15 { // two transfers of a patent effective on the same day
		p, on := h.patent(), h.date(bounds)
		h.record(h.transferPatent(p, on))
		h.record(h.transferPatent(p, on))
	}
	h.record(h.registerPatent())
	fresh := h.patents[len(h.patents)-1]
	lapseBeforeGrant(t, st, fresh)
	for _, campaign := range []string{"2025", "2024"} { // two campaigns reviewed on the last day the history uses
		_, err := svc.RecordReview(context.Background(), admin, fresh.number, domain.RecordReview{Campaign: campaign,
			ReviewedOn: date("2025-12-31"), Grade: domain.GradeHigh, Disposition: domain.DispositionLicense, ReviewerID: fresh.patentees[0]})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitHead(t, p, st)
	m := buildModel(t, st)
	var patents []*domain.Patent
	for n := range m.patents {
		agg, err := svc.LoadPatent(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		patents = append(patents, agg)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	var queries []ReviewCoverageQuery
	days := []domain.Date{date("2019-06-01"), date("2031-06-01")} // before most grants; after utility models expire
	for range 12 {
		days = append(days, h.date(bounds))
	}
	for _, day := range days {
		for _, campaign := range []string{"2024", "2025"} {
			q := ReviewCoverageQuery{Campaign: campaign, AsOf: day}
			byUni, byRegion := q, q
			byUni.PatenteeID = h.pick(h.unis)
			byRegion.Region = histRegions[rng.IntN(len(histRegions))][:2+2*rng.IntN(3)]
			byShare, firstFew := q, byRegion
			byShare.Sort = CoverageByShare
			firstFew.Sort, firstFew.Limit = CoverageSorts[rng.IntN(len(CoverageSorts))], 1+rng.IntN(4)
			furthestBehind := byShare // over every university, a list cut whatever the regions drawn
			furthestBehind.Limit = 1
			queries = append(queries, q, byUni, byRegion, byShare, firstFew, furthestBehind)
		}
	}
	compareCoverage(t, "live", p.db, m, patents, queries)
	compareCoverage(t, "rebuilt", rebuiltDB(t, st), m, patents, queries)
	for _, day := range days {
		if got, err := p.db.LatestCampaign(context.Background(), day); err != nil || got != latestCampaign(patents, day) {
			t.Errorf("latest campaign by %s: %q, %v; want %q", day, got, err, latestCampaign(patents, day))
		}
	}
}

// latestCampaign returns the campaign of the latest review dated on or
// before day (the greatest name among those of that day), or "".
func latestCampaign(patents []*domain.Patent, day domain.Date) string {
	var on domain.Date
	campaign := ""
	for _, p := range patents {
		for c, r := range p.Reviews {
			if !r.ReviewedOn.After(day) && (r.ReviewedOn.After(on) || (r.ReviewedOn == on && c > campaign)) {
				on, campaign = r.ReviewedOn, c
			}
		}
	}
	return campaign
}

func compareCoverage(t *testing.T, what string, db *DB, m *model, patents []*domain.Patent, queries []ReviewCoverageQuery) {
	t.Helper()
	if err := db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	var reviewed, partial, expired, reordered, cut bool
	for _, q := range queries {
		got, err := db.ReviewCoverage(context.Background(), q)
		if err != nil {
			t.Fatalf("%s %+v: %v", what, q, err)
		}
		want := expectCoverage(m, patents, q)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s coverage %+v:\ngot  %+v\nwant %+v", what, q, got, want)
		}
		if inMemory, inSQL := coverageBothWays(t, db, q); !reflect.DeepEqual(inMemory, want) || !reflect.DeepEqual(inSQL, want) {
			t.Fatalf("%s coverage %+v:\nmemory %+v\nSQL    %+v\nwant   %+v", what, q, inMemory, inSQL, want)
		}
		reviewed = reviewed || got.Total.Reviewed > 0
		partial = partial || (got.Total.Reviewed > 0 && got.Total.Reviewed < got.Total.ActivePatents)
		expired = expired || (q.AsOf == date("2031-06-01") && got.Total.ActivePatents > 0)
		reordered = reordered || !slices.IsSortedFunc(got.Items, func(a, b CoverageItem) int { return strings.Compare(a.PatenteeID, b.PatenteeID) })
		cut = cut || len(got.Items) < got.Universities
	}
	// The queries must see reviewed and unreviewed patents, patents active
	// in 2031, an order other than by patentee and a cut list, or the
	// comparison proves little.
	if !reviewed || !partial || !expired || !reordered || !cut {
		t.Errorf("%s: thin history: reviewed %v, partly reviewed %v, active in 2031 %v, reordered %v, cut %v",
			what, reviewed, partial, expired, reordered, cut)
	}
}

// coverageBothWays computes a review coverage from the in-memory index and
// from the tables; it fails when the index does not mirror the file.
func coverageBothWays(t *testing.T, db *DB, q ReviewCoverageQuery) (inMemory, inSQL ReviewCoverage) {
	t.Helper()
	inOneRead(t, db, func(position int64) bool { return db.tallies.reviewCoverage(q, position, &inMemory) },
		func(ctx context.Context, tx *sql.Tx) (err error) {
			inSQL, err = reviewCoverageInSQL(ctx, tx, q)
			return err
		})
	return inMemory, inSQL
}

func TestReviewCoverageArguments(t *testing.T) {
	db := rebuiltDB(t, openStore(t, t.TempDir()))
	for _, c := range []struct {
		q     ReviewCoverageQuery
		field string
	}{
		{ReviewCoverageQuery{AsOf: date("2024-12-31")}, "campaign"},
		{ReviewCoverageQuery{Campaign: "20 24", AsOf: date("2024-12-31")}, "campaign"},
		{ReviewCoverageQuery{Campaign: "2024"}, "as_of"},
		{ReviewCoverageQuery{Campaign: "2024", AsOf: date("2024-12-31"), Sort: "name"}, "sort"},
		{ReviewCoverageQuery{Campaign: "2024", AsOf: date("2024-12-31"), Limit: -1}, "limit"},
		{ReviewCoverageQuery{Campaign: "2024", AsOf: date("2024-12-31"), Limit: MaxCoverageLimit + 1}, "limit"},
	} {
		_, err := db.ReviewCoverage(context.Background(), c.q)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument || len(de.Fields) != 1 || de.Fields[0].Field != c.field {
			t.Errorf("%+v: %v, want invalid_argument naming %s", c.q, err, c.field)
		}
	}
	got, err := db.ReviewCoverage(context.Background(), ReviewCoverageQuery{Campaign: "2024", AsOf: date("2024-12-31")})
	if err != nil || got.Items == nil || len(got.Items) != 0 || got.Total != (CoverageFigures{}) {
		t.Errorf("empty ledger: %+v, %v", got, err)
	}
}
