package projections

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// extraModel adds to the brute-force model what the extra tallies need:
// the recordals, read straight from the store's events.
type extraModel struct {
	*model
	recordals map[string]domain.LicenseRecorded
}

func buildExtraModel(t testing.TB, st domain.EventStore) *extraModel {
	m := &extraModel{model: buildModel(t, st), recordals: map[string]domain.LicenseRecorded{}}
	eachEvent(t, st, func(_ domain.RecordedEvent, ev domain.Event) {
		if v, ok := ev.(domain.LicenseRecorded); ok {
			m.recordals[v.LicenseID] = v
		}
	})
	return m
}

// recordSome records about two thirds of the history's licences, some in
// time and some late. It returns the recordal dates and the effective
// dates of the licences left unrecorded.
func recordSome(t testing.TB, h *history) (recorded, unrecorded []domain.Date) {
	var n []domain.Date
	for i, l := range h.licenses {
		if h.rng.IntN(3) == 0 {
			unrecorded = append(unrecorded, l.on)
			continue
		}
		due := domain.RecordalDeadline(l.on)
		on := []domain.Date{l.on, due, due.AddDays(1), l.on.AddDays(h.rng.IntN(200))}[h.rng.IntN(4)]
		_, err := h.svc.RecordLicense(context.Background(), admin, domain.RecordLicense{LicenseID: l.id,
			RecordNo: fmt.Sprintf("2024440%09d", i), RecordedOn: on})
		h.record(err)
		if err == nil {
			n = append(n, on)
		}
	}
	return n, unrecorded
}

// recordalDue recounts the recordal deadline of IR 87 with the time
// package: the same day three months on, or that month's last day when it
// has no such day (IR 5).
func recordalDue(effective domain.Date) domain.Date {
	t := effective.Time()
	first := time.Date(t.Year(), t.Month()+3, 1, 12, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return domain.DateOf(first.AddDate(0, 0, min(t.Day(), last)-1))
}

// expectExtra recounts an extra tally day by day from the model.
func (m *extraModel) expectExtra(q TallyQuery) Tally {
	cols := subjects[q.Subject].columns
	r := newRecount(q, len(cols))
	switch q.Subject {
	case Recordals:
		m.expectRecordals(r)
	case MultiLicensee:
		m.expectMultiLicensee(r)
	case FeeReductions:
		m.expectFeeReductions(r)
	case TimeToFirstLicence:
		m.expectTimeToFirstLicence(r)
	case Fees:
		m.expectFees(r)
	}
	return r.tally(cols)
}

// expectFees sums the payments by kind: under an open licence whose
// declaration's fee mode is instalment, every payment is an instalment;
// else the fee on taking a licence is a lump sum and a later payment a
// royalty.
func (m *extraModel) expectFees(r *recount) {
	byInstalments := map[string]bool{}
	for _, d := range m.decls {
		byInstalments[d.DeclarationID] = d.Fee.Mode == domain.FeeInstalment
	}
	for _, p := range m.payments {
		l := m.licByID[p.license]
		if !m.matches(r.q, m.licenseRefs(l)) {
			continue
		}
		col := 4 // royalties_fen
		switch {
		case l.Type == domain.LicenseOpen && byInstalments[l.DeclarationID]:
			col = 3
		case p.onTaking:
			col = 2
		}
		r.add(p.on, 0, 1)
		r.add(p.on, 1, p.fen)
		r.add(p.on, col, p.fen)
	}
}

func (m *extraModel) expectRecordals(r *recount) {
	for _, l := range m.licenses {
		if !m.matches(r.q, m.licenseRefs(l)) {
			continue
		}
		r.add(l.EffectiveOn, 0, 1)
		rec, ok := m.recordals[l.LicenseID]
		switch {
		case !ok || rec.RecordedOn.After(r.q.To):
			r.add(l.EffectiveOn, 3, 1)
			if recordalDue(l.EffectiveOn).Before(r.q.To) {
				r.add(l.EffectiveOn, 4, 1)
			}
		case !rec.RecordedOn.After(rec.DueBy):
			r.add(l.EffectiveOn, 1, 1)
		default:
			r.add(l.EffectiveOn, 2, 1)
		}
	}
}

// multiOn counts the patents with at least n distinct licensees among the
// filtered licences effective on or before day.
func (m *extraModel) multiOn(q TallyQuery, day domain.Date, n int) int64 {
	licensees := map[domain.PatentNumber]map[string]bool{}
	for _, l := range m.licenses {
		if l.EffectiveOn.After(day) || !m.matches(q, m.licenseRefs(l)) {
			continue
		}
		if licensees[l.Number] == nil {
			licensees[l.Number] = map[string]bool{}
		}
		licensees[l.Number][l.LicenseeID] = true
	}
	var c int64
	for _, set := range licensees {
		if len(set) >= n {
			c++
		}
	}
	return c
}

func (m *extraModel) expectMultiLicensee(r *recount) {
	prev := m.multiOn(r.q, r.q.From.AddDays(-1), 2)
	for _, l := range r.labels {
		end := m.multiOn(r.q, r.lastDay[l], 2)
		r.values[l][0] = end - prev
		r.total[0] += end - prev
		prev = end
	}
	r.atEnd(1, func(d domain.Date) int64 { return m.multiOn(r.q, d, 2) })
	r.atEnd(2, func(d domain.Date) int64 { return m.multiOn(r.q, d, 1) })
}

func (m *extraModel) expectFeeReductions(r *recount) {
	var kept []*domain.Declaration
	for _, d := range m.decls {
		if m.matches(r.q, refs{patentees: d.PatenteeIDs, patents: []domain.PatentNumber{d.Number}}) {
			kept = append(kept, d)
		}
	}
	for d := r.q.From; !d.After(r.q.To); d = d.AddDays(1) {
		inEffect := map[domain.PatentNumber]bool{}
		for _, decl := range kept {
			if decl.InEffectOn(d) && m.activeOn(decl.Number, d) {
				inEffect[decl.Number] = true
			}
		}
		for n := range inEffect {
			r.distinct(d, 0, string(n))
			r.add(d, 1, 1)
		}
	}
	for _, l := range r.labels {
		var y int
		fmt.Sscan(l, &y)
		diy := float64(time.Date(y, 12, 31, 12, 0, 0, 0, time.UTC).YearDay())
		bp := int64(math.Floor(float64(r.values[l][1])*0.15*10000/diy + 0.5))
		r.values[l][2] = bp
		r.total[2] += bp
	}
}

func (m *extraModel) expectTimeToFirstLicence(r *recount) {
	days := map[string][]int64{}
	var all []int64
	for _, d := range m.decls {
		if !m.matches(r.q, refs{patentees: d.PatenteeIDs, patents: []domain.PatentNumber{d.Number}}) {
			continue
		}
		var first domain.Date
		for _, l := range m.licenses {
			if l.Type == domain.LicenseOpen && l.DeclarationID == d.DeclarationID && (first.IsZero() || l.EffectiveOn.Before(first)) {
				first = l.EffectiveOn
			}
		}
		if !r.in(first) {
			continue
		}
		n := int64(math.Round(first.Time().Sub(d.DeclaredOn.Time()).Hours() / 24))
		label := bruteLabel(r.q.Period, first)
		days[label] = append(days[label], n)
		all = append(all, n)
	}
	summary := func(ds []int64) []int64 {
		if len(ds) == 0 {
			return []int64{0, 0, 0}
		}
		slices.Sort(ds)
		var median, sum float64
		if k := len(ds); k%2 == 1 {
			median = float64(ds[k/2])
		} else {
			median = float64(ds[k/2-1]+ds[k/2]) / 2
		}
		for _, d := range ds {
			sum += float64(d)
		}
		return []int64{int64(len(ds)), int64(math.Floor(median + 0.5)), int64(math.Floor(sum/float64(len(ds)) + 0.5))}
	}
	for _, l := range r.labels {
		r.values[l] = summary(days[l])
	}
	r.total = summary(all)
}

// extraTallyQueries are the queries of the extra property test: every
// extra subject and period (years only for fee reductions) over the ranges
// of tallyQueries, without a filter and with one that applies.
func extraTallyQueries(rng *rand.Rand, h *history, recorded, unrecorded []domain.Date) []TallyQuery {
	ranges := [][2]string{{"2021-01-01", "2025-12-31"}, {"2022-12-26", "2023-01-09"}, {"2024-02-15", "2024-04-15"},
		{"2024-12-23", "2025-01-05"}, {"2023-03-17", "2024-11-02"}, {"2023-01-01", "2023-12-31"}}
	// Ranges ending on the recordal deadline of an unrecorded licence and
	// the day after: overdue only in the second.
	for _, on := range unrecorded[:min(3, len(unrecorded))] {
		due := recordalDue(on)
		ranges = append(ranges, [2]string{on.String(), due.String()}, [2]string{on.String(), due.AddDays(1).String()})
	}
	// Ranges starting or ending on the day of a licence.
	for range 3 { // and on the day of a recordal
		rec := recorded[rng.IntN(len(recorded))]
		ranges = append(ranges, [2]string{rec.AddDays(-200).String(), rec.String()})
		on := h.licenses[rng.IntN(len(h.licenses))].on
		ranges = append(ranges, [2]string{on.String(), on.AddDays(150).String()}, [2]string{on.AddDays(-100).String(), on.String()})
	}
	var out []TallyQuery
	for _, subj := range ExtraSubjects {
		for _, p := range Periods {
			if subj == FeeReductions && p != Year {
				continue
			}
			for i, rg := range ranges {
				if p == Day && i == 0 {
					rg = [2]string{"2023-11-20", "2024-03-10"}
				}
				q := TallyQuery{Subject: subj, Period: p, From: date(rg[0]), To: date(rg[1])}
				out = append(out, q, withFilter(rng, h, q), withFilter(rng, h, q))
			}
		}
	}
	return out
}

// TestExtraTallyProperty writes a random valid history (with recordals)
// while the live pipeline projects it and its tally index, loaded before
// the first event, follows every commit; it compares every extra tally,
// from memory and in SQL, with a brute-force recount from the events; then
// again after a rebuild, with the index loaded from the tables.
func TestExtraTallyProperty(t *testing.T) {
	seed := propertySeed(t) + 7
	dir := t.TempDir()
	st := openStore(t, dir)
	p := startPipeline(t, st, dir)
	if err := p.db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := newHistory(t, newService(t, st), seed)
	steps := 300
	if testing.Short() {
		steps = 200
	}
	h.run(steps)
	for more := 0; more < 5 && len(feesLeftAtZero(t, st)) > 0; more++ {
		h.run(steps / 3)
	}
	recorded, unrecorded := recordSome(t, h)
	waitHead(t, p, st)
	m := buildExtraModel(t, st)
	if len(m.licenses) < 10 || len(m.decls) < 10 || len(recorded) < 3 || len(unrecorded) < 3 {
		t.Fatalf("history too thin: %d licences, %d declarations, %d recordals, %d unrecorded", len(m.licenses), len(m.decls), len(recorded), len(unrecorded))
	}
	queries := extraTallyQueries(rand.New(rand.NewPCG(seed, 2)), h, recorded, unrecorded)
	compareExtra(t, "live", p.db, m, queries)

	rebuilt := rebuiltDB(t, st)
	compareExtra(t, "rebuilt", rebuilt, m, queries)
}

// feesLeftAtZero names the columns of the fees tally that the history
// leaves at zero over the years it covers: a history without instalments
// paid, say, cannot test their sums.
func feesLeftAtZero(t *testing.T, st domain.EventStore) []string {
	total := buildExtraModel(t, st).expectExtra(TallyQuery{Subject: Fees, Period: Year, From: date("2019-01-01"), To: date("2025-12-31")}).Total
	var zero []string
	for i, c := range subjects[Fees].columns {
		if total.Values[i] == 0 {
			zero = append(zero, c)
		}
	}
	return zero
}

func compareExtra(t *testing.T, what string, db *DB, m *extraModel, queries []TallyQuery) {
	t.Helper()
	if err := db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	nonzero := map[string]bool{}
	for _, q := range queries {
		got, err := db.Tally(context.Background(), q)
		if err != nil {
			t.Fatalf("%s %+v: %v", what, q, err)
		}
		want := m.expectExtra(q)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s tally %+v:\ngot  %s\nwant %s", what, q, mustJSON(got), mustJSON(want))
		}
		if inMemory, inSQL := bothWays(t, db, q); !reflect.DeepEqual(inMemory, want) || !reflect.DeepEqual(inSQL, want) {
			t.Fatalf("%s tally %+v:\nmemory %s\nSQL    %s\nwant   %s", what, q, mustJSON(inMemory), mustJSON(inSQL), mustJSON(want))
		}
		for i, c := range got.Columns {
			if got.Total.Values[i] != 0 {
				nonzero[q.Subject+"."+c] = true
			}
		}
	}
	// The history must exercise every column, or the comparison proves little.
	for _, subj := range ExtraSubjects {
		for _, c := range subjects[subj].columns {
			if !nonzero[subj+"."+c] {
				t.Errorf("%s: column %s.%s is zero in every query", what, subj, c)
			}
		}
	}
}

// TestExtraTallyArguments checks the refusals of the extra tallies.
func TestExtraTallyArguments(t *testing.T) {
	dir := t.TempDir()
	db := startPipeline(t, openStore(t, dir), dir).db
	ctx := context.Background()
	base := TallyQuery{Period: Month, From: date("2024-01-01"), To: date("2024-12-31")}
	cases := []struct {
		q     TallyQuery
		field string
	}{
		{withSubject(base, FeeReductions), "period"},
		{func() TallyQuery { q := withSubject(base, MultiLicensee); q.LicenseeID = "x"; return q }(), "licensee_id"},
		{func() TallyQuery { q := withSubject(base, TimeToFirstLicence); q.Type = domain.LicenseOpen; return q }(), "type"},
		{func() TallyQuery {
			q := withSubject(base, FeeReductions)
			q.Period = Year
			q.Campaign = "2024"
			return q
		}(), "campaign"},
	}
	for _, c := range cases {
		_, err := db.Tally(ctx, c.q)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalidArgument || !slices.ContainsFunc(de.Fields, func(f domain.FieldError) bool { return f.Field == c.field }) {
			t.Errorf("%s %+v: want invalid_argument naming %s, got %v", c.q.Subject, c.q, c.field, err)
		}
	}
	// An empty ledger answers zero-filled buckets.
	for _, subj := range ExtraSubjects {
		q := withSubject(base, subj)
		q.Period = Year
		got, err := db.Tally(ctx, q)
		if err != nil || len(got.Buckets) != 1 || got.Buckets[0].Label != "2024" || len(got.Total.Values) != len(got.Columns) {
			t.Errorf("%s on an empty ledger: %+v, %v", subj, got, err)
		}
	}
}

func withSubject(q TallyQuery, s string) TallyQuery { q.Subject = s; return q }

// TestDaysSummaryMatchesSorting compares daysSummary with the median and
// mean of the sorted values, on random lists of every length up to 60:
// values a few apart (counted), spread over the whole int32 range (sorted)
// and negative ones.
func TestDaysSummaryMatchesSorting(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		ds := make([]int64, i%61)
		spread, base := []int64{1, 5, 40, 4000, math.MaxInt32}[i%5], int64(rng.IntN(2000)-1000)
		for k := range ds {
			ds[k] = base + rng.Int64N(spread)
		}
		sorted := slices.Sorted(slices.Values(ds))
		want := []int64{0, 0, 0}
		if n := int64(len(sorted)); n > 0 {
			var sum int64
			for _, d := range sorted {
				sum += d
			}
			median := sorted[n/2]
			if n%2 == 0 {
				median = roundHalfUp(sorted[n/2-1]+sorted[n/2], 2)
			}
			want = []int64{n, median, roundHalfUp(sum, n)}
		}
		if got := daysSummary(slices.Clone(ds)); !reflect.DeepEqual(got, want) {
			t.Fatalf("daysSummary(%v) = %v, want %v", ds, got, want)
		}
	}
}

// TestDaysSummary checks the count, median and mean of lists of days.
func TestDaysSummary(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want []int64
	}{
		{nil, []int64{0, 0, 0}},
		{[]int64{5}, []int64{1, 5, 5}},
		{[]int64{1, 2}, []int64{2, 2, 2}},        // median 1.5 → 2, mean 1.5 → 2
		{[]int64{10, 0, 3, 4}, []int64{4, 4, 4}}, // median 3.5 → 4, mean 4.25 → 4
		{[]int64{1, 1, 100}, []int64{3, 1, 34}},
	} {
		if got := daysSummary(slices.Clone(c.in)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("daysSummary(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestPatentFeeReductionsAddUpToTheTally checks each patent's annual-fee
// reductions by year (domain.Patent.FeeReductions, which the patent detail
// answers) against the fee-reductions tally, in memory and in SQL, over a
// random history: per year, the patents with declared days and the sum of
// their days.
func TestPatentFeeReductionsAddUpToTheTally(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	p := startPipeline(t, st, dir)
	h := newHistory(t, newService(t, st), propertySeed(t)+11)
	h.run(200)
	waitHead(t, p, st)
	if err := p.db.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	q := TallyQuery{Subject: FeeReductions, Period: Year, From: date("2015-01-01"), To: date("2035-12-31")}
	want := map[string][2]int64{} // by year: patents, days
	for _, hp := range h.patents {
		patent, err := h.svc.LoadPatent(ctx, hp.number)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range patent.FeeReductions() {
			if r.Year < q.From.Year() || r.Year > q.To.Year() {
				t.Fatalf("%s earns a reduction in %d, outside the range the test asks for", hp.number, r.Year)
			}
			w := want[fmt.Sprint(r.Year)]
			want[fmt.Sprint(r.Year)] = [2]int64{w[0] + 1, w[1] + r.DeclaredDays}
		}
	}
	if len(want) < 3 {
		t.Fatalf("reductions in only %d years: the history is too thin", len(want))
	}
	inMemory, inSQL := bothWays(t, p.db, q)
	for _, got := range []Tally{inMemory, inSQL} {
		for _, b := range got.Buckets {
			if w := want[b.Label]; b.Values[0] != w[0] || b.Values[1] != w[1] {
				t.Errorf("%s: the tally counts %d patents and %d days, the patents %d and %d", b.Label, b.Values[0], b.Values[1], w[0], w[1])
			}
		}
	}
}
