package projections

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// model is a brute-force recount of the facts, built straight from the
// events of the store, independently of the projections.
type model struct {
	orgs     map[string]domain.OrgRegistered
	patents  map[domain.PatentNumber]domain.PatentRegistered
	licenses []domain.LicenseGranted
	licByID  map[string]domain.LicenseGranted
	// licensors holds, by licence, the patentees on its effective date,
	// worked out from the registrations and transfers recorded before it.
	licensors map[string][]string
	payments  []payment
	decls     []*domain.Declaration
	pledges   map[string]*domain.Pledge
	pledgeIDs []string
	transfers []domain.PatentTransferred
	reviews   map[[2]string]domain.ReviewRecorded
	// register holds each patent's registration and status changes, for
	// its status on a day.
	register map[domain.PatentNumber]*domain.Patent
}

// activeOn reports whether a patent is active on day, as the domain
// decides it.
func (m *model) activeOn(n domain.PatentNumber, day domain.Date) bool {
	return m.register[n].StatusOn(day) == domain.StatusActive
}

// payment is a fee paid on taking a licence (onTaking) or a later
// payment under it.
type payment struct {
	license  string
	on       domain.Date
	fen      int64
	onTaking bool
}

func buildModel(t testing.TB, st domain.EventStore) *model {
	m := &model{orgs: map[string]domain.OrgRegistered{}, patents: map[domain.PatentNumber]domain.PatentRegistered{},
		licByID: map[string]domain.LicenseGranted{}, licensors: map[string][]string{}, pledges: map[string]*domain.Pledge{}, reviews: map[[2]string]domain.ReviewRecorded{},
		register: map[domain.PatentNumber]*domain.Patent{}}
	eachEvent(t, st, func(_ domain.RecordedEvent, ev domain.Event) { m.apply(ev) })
	return m
}

func (m *model) apply(ev domain.Event) {
	switch v := ev.(type) {
	case domain.OrgRegistered:
		m.orgs[v.OrgID] = v
	case domain.PatentRegistered:
		m.patents[v.Number] = v
		m.register[v.Number] = &domain.Patent{}
		m.register[v.Number].Apply(v)
	case domain.PatentStatusChanged:
		m.register[v.Number].Apply(v)
	case domain.LicenseGranted:
		m.licenses = append(m.licenses, v)
		m.licByID[v.LicenseID] = v
		m.licensors[v.LicenseID] = m.patenteesOn(v.Number, v.EffectiveOn)
		if v.FeePaidFen > 0 {
			m.payments = append(m.payments, payment{v.LicenseID, v.EffectiveOn, int64(v.FeePaidFen), true})
		}
	case domain.RoyaltyPaid:
		m.payments = append(m.payments, payment{v.LicenseID, v.PaidOn, int64(v.AmountFen), false})
	case domain.DeclarationFiled:
		m.decls = append(m.decls, &domain.Declaration{DeclarationFiled: v})
	case domain.DeclarationWithdrawn:
		for _, d := range m.decls {
			if d.DeclarationID == v.DeclarationID {
				d.WithdrawnOn = v.EffectiveOn
			}
		}
	case domain.PatentTransferred:
		m.transfers = append(m.transfers, v)
	case domain.PledgeRegistered:
		if m.pledges[v.PledgeID] == nil {
			m.pledges[v.PledgeID] = &domain.Pledge{PledgeRegistered: v}
			m.pledgeIDs = append(m.pledgeIDs, v.PledgeID)
		}
	case domain.PledgeReleased:
		m.pledges[v.PledgeID].ReleasedOn = v.ReleasedOn
	case domain.ReviewRecorded:
		m.reviews[[2]string{string(v.Number), v.Campaign}] = v
	case domain.ReviewCorrected:
		m.reviews[[2]string{string(v.Number), v.Campaign}] = domain.ReviewRecorded(v)
	}
}

// patenteesOn returns the patentees of a patent on day: the assignees of
// its transfer recorded so far with the latest effective date by then (the
// later recorded on one day), else those it was registered with.
func (m *model) patenteesOn(n domain.PatentNumber, day domain.Date) []string {
	owners := m.patents[n].PatenteeIDs
	var latest domain.Date
	for _, tr := range m.transfers {
		if tr.Number == n && !tr.EffectiveOn.After(day) && !tr.EffectiveOn.Before(latest) {
			owners, latest = tr.ToIDs, tr.EffectiveOn
		}
	}
	return owners
}

// refs are what the filters look at in one fact.
type refs struct {
	patentees, counterparties []string
	patents                   []domain.PatentNumber
	typ, campaign             string
}

// matches reports whether a fact passes the query's filters.
func (m *model) matches(q TallyQuery, r refs) bool {
	if q.Type != "" && string(q.Type) != r.typ || q.Campaign != "" && q.Campaign != r.campaign {
		return false
	}
	if q.PatenteeID != "" && !slices.Contains(r.patentees, q.PatenteeID) {
		return false
	}
	if q.LicenseeID != "" && !slices.Contains(r.counterparties, q.LicenseeID) {
		return false
	}
	if q.Region != "" && !slices.ContainsFunc(r.patentees, func(id string) bool { return m.orgs[id].RegionCode.HasPrefix(q.Region) }) {
		return false
	}
	if q.SME != nil && !slices.ContainsFunc(r.counterparties, func(id string) bool { return m.orgs[id].SME == *q.SME }) {
		return false
	}
	if q.Kind != "" && !slices.ContainsFunc(r.patents, func(n domain.PatentNumber) bool { return m.patents[n].Kind == q.Kind }) {
		return false
	}
	return q.IPCPrefix == "" || slices.ContainsFunc(r.patents, func(n domain.PatentNumber) bool {
		return slices.ContainsFunc(m.patents[n].IPC, func(c domain.IPCCode) bool { return c.HasPrefix(q.IPCPrefix) })
	})
}

// recount is the expected tally, computed day by day.
type recount struct {
	q       TallyQuery
	labels  []string
	lastDay map[string]domain.Date
	values  map[string][]int64
	sets    map[string][]map[string]bool // per label, per distinct column
	total   []int64
	tsets   []map[string]bool
}

// bruteLabel labels a date with the time package, not Period.Label.
func bruteLabel(p Period, d domain.Date) string {
	t := time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, time.UTC)
	switch p {
	case Week:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	case Month:
		return t.Format("2006-01")
	case Quarter:
		return fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())+2)/3)
	case Year:
		return t.Format("2006")
	}
	return t.Format("2006-01-02")
}

func newRecount(q TallyQuery, columns int) *recount {
	r := &recount{q: q, lastDay: map[string]domain.Date{}, values: map[string][]int64{}, sets: map[string][]map[string]bool{},
		total: make([]int64, columns), tsets: make([]map[string]bool, columns)}
	for d := q.From; !d.After(q.To); d = d.AddDays(1) {
		l := bruteLabel(q.Period, d)
		if _, ok := r.values[l]; !ok {
			r.labels = append(r.labels, l)
			r.values[l] = make([]int64, columns)
			r.sets[l] = make([]map[string]bool, columns)
		}
		r.lastDay[l] = d
	}
	return r
}

func (r *recount) in(d domain.Date) bool {
	return !d.IsZero() && !d.Before(r.q.From) && !d.After(r.q.To)
}

// add adds n to column col of the bucket of d, when d is in range.
func (r *recount) add(d domain.Date, col int, n int64) {
	if r.in(d) {
		r.values[bruteLabel(r.q.Period, d)][col] += n
		r.total[col] += n
	}
}

// distinct counts key once per bucket and once in the total.
func (r *recount) distinct(d domain.Date, col int, key string) {
	if !r.in(d) {
		return
	}
	l := bruteLabel(r.q.Period, d)
	for _, sets := range [][]map[string]bool{r.sets[l], r.tsets} {
		if sets[col] == nil {
			sets[col] = map[string]bool{}
		}
		sets[col][key] = true
	}
}

// atEnd sets column col of each bucket to count(last day), and the total
// to the last bucket's.
func (r *recount) atEnd(col int, count func(domain.Date) int64) {
	for _, l := range r.labels {
		r.values[l][col] = count(r.lastDay[l])
	}
	r.total[col] = r.values[r.labels[len(r.labels)-1]][col]
}

func (r *recount) tally(columns []string) Tally {
	t := Tally{Subject: r.q.Subject, Period: r.q.Period, From: r.q.From, To: r.q.To, Columns: columns,
		Total: Bucket{Label: "total", Values: r.total}}
	for _, l := range r.labels {
		for col, set := range r.sets[l] {
			if set != nil {
				r.values[l][col] = int64(len(set))
			}
		}
		t.Buckets = append(t.Buckets, Bucket{Label: l, Values: r.values[l]})
	}
	for col, set := range r.tsets {
		if set != nil {
			t.Total.Values[col] = int64(len(set))
		}
	}
	return t
}

// expect recounts a tally from the model.
func (m *model) expect(q TallyQuery) Tally {
	cols := subjects[q.Subject].columns
	r := newRecount(q, len(cols))
	switch q.Subject {
	case Deals:
		m.expectDeals(r)
	case Declarations:
		m.expectDeclarations(r)
	case Pledges:
		m.expectPledges(r)
	case Transfers:
		m.expectTransfers(r)
	case Reviews:
		m.expectReviews(r)
	}
	return r.tally(cols)
}

func (m *model) licenseRefs(l domain.LicenseGranted) refs {
	return refs{patentees: m.licensors[l.LicenseID], counterparties: []string{l.LicenseeID}, patents: []domain.PatentNumber{l.Number}, typ: string(l.Type)}
}

func (m *model) expectDeals(r *recount) {
	for _, l := range m.licenses {
		if m.matches(r.q, m.licenseRefs(l)) {
			r.add(l.EffectiveOn, 0, 1)
			r.distinct(l.EffectiveOn, 1, l.LicenseeID)
			r.distinct(l.EffectiveOn, 2, string(l.Number))
		}
	}
	for _, p := range m.payments {
		if m.matches(r.q, m.licenseRefs(m.licByID[p.license])) {
			r.add(p.on, 3, p.fen)
		}
	}
}

func (m *model) expectDeclarations(r *recount) {
	var kept []*domain.Declaration
	for _, d := range m.decls {
		if m.matches(r.q, refs{patentees: d.PatenteeIDs, patents: []domain.PatentNumber{d.Number}}) {
			kept = append(kept, d)
			r.add(d.DeclaredOn, 0, 1)
			r.add(d.WithdrawnOn, 1, 1)
		}
	}
	r.atEnd(2, func(day domain.Date) int64 {
		var n int64
		for _, d := range kept {
			if d.InEffectOn(day) && m.activeOn(d.Number, day) {
				n++
			}
		}
		return n
	})
}

func (m *model) expectPledges(r *recount) {
	var kept []*domain.Pledge
	for _, id := range m.pledgeIDs {
		p := m.pledges[id]
		if m.matches(r.q, refs{patentees: []string{p.PledgorID}, patents: p.Patents}) {
			kept = append(kept, p)
			r.add(p.RegisteredOn, 0, 1)
			r.add(p.RegisteredOn, 2, int64(p.SecuredAmountFen))
			r.add(p.ReleasedOn, 1, 1)
		}
	}
	r.atEnd(3, func(day domain.Date) int64 {
		var n int64
		for _, p := range kept {
			if p.ActiveOn(day) {
				n++
			}
		}
		return n
	})
}

func (m *model) expectTransfers(r *recount) {
	for _, tr := range m.transfers {
		if m.matches(r.q, refs{patentees: tr.FromIDs, counterparties: tr.ToIDs, patents: []domain.PatentNumber{tr.Number}}) {
			r.add(tr.EffectiveOn, 0, 1)
			r.distinct(tr.EffectiveOn, 1, string(tr.Number))
			r.add(tr.EffectiveOn, 2, int64(tr.PriceFen))
			if m.anyOfKind(tr.FromIDs, domain.OrgUniversity) && m.anyOfKind(tr.ToIDs, domain.OrgEnterprise) {
				r.add(tr.EffectiveOn, 3, 1)
			}
		}
	}
}

// anyOfKind reports whether one of the organisations is of kind.
func (m *model) anyOfKind(ids []string, kind domain.OrgKind) bool {
	return slices.ContainsFunc(ids, func(id string) bool { return m.orgs[id].Kind == kind })
}

func (m *model) expectReviews(r *recount) {
	grades, dispositions := indexOf(domain.Grades), indexOf(domain.Dispositions)
	for _, v := range m.reviews {
		if m.matches(r.q, refs{patentees: []string{v.ReviewerID}, patents: []domain.PatentNumber{v.Number}, campaign: v.Campaign}) {
			r.add(v.ReviewedOn, 0, 1)
			r.add(v.ReviewedOn, 1+grades[string(v.Grade)], 1)
			r.add(v.ReviewedOn, 1+len(grades)+dispositions[string(v.Disposition)], 1)
		}
	}
}

// expectRanking ranks the patentees by metric over the whole log.
func (m *model) expectRanking(metric string) []Ranking {
	values := map[string]int64{}
	switch metric {
	case MetricLicenses:
		for _, l := range m.licenses {
			for _, o := range m.licensors[l.LicenseID] {
				values[o]++
			}
		}
	case MetricFees:
		for _, p := range m.payments {
			for _, o := range m.licensors[p.license] {
				values[o] += p.fen
			}
		}
	case MetricDeclared:
		for _, d := range m.decls {
			for _, o := range d.PatenteeIDs {
				values[o]++
			}
		}
	case MetricConversion:
		licensed := map[string]bool{}
		for _, l := range m.licenses {
			if l.Type == domain.LicenseOpen && l.DeclarationID != "" {
				licensed[l.DeclarationID] = true
			}
		}
		declared, converted := map[string]int64{}, map[string]int64{}
		for _, d := range m.decls {
			for _, o := range d.PatenteeIDs {
				declared[o]++
				if licensed[d.DeclarationID] {
					converted[o]++
				}
			}
		}
		for o, n := range declared {
			values[o] = int64(math.Floor(10_000*float64(converted[o])/float64(n) + 0.5))
		}
	}
	out := []Ranking{}
	for id, v := range values {
		out = append(out, Ranking{PatenteeID: id, Name: m.orgs[id].Name, Value: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].PatenteeID < out[j].PatenteeID
	})
	return out
}

// tallyQueries returns the queries the property test checks: every subject
// and period over ranges that cross year, quarter and ISO-week boundaries,
// without filters and with one random filter that applies.
func tallyQueries(rng *rand.Rand, h *history) []TallyQuery {
	ranges := [][2]string{{"2021-01-01", "2025-12-31"}, {"2022-12-26", "2023-01-09"}, {"2024-02-15", "2024-04-15"},
		{"2024-12-23", "2025-01-05"}}
	var out []TallyQuery
	for i := range 40 {
		q := TallyQuery{Subject: Deals, Period: Periods[i%len(Periods)], From: date("2021-06-01"), To: date("2025-05-31")}
		for range 1 + i%3 {
			q = withFilter(rng, h, q)
		}
		out = append(out, q)
	}
	for _, subj := range Subjects {
		for _, p := range Periods {
			for i, rg := range ranges {
				if p == Day && i == 0 {
					rg = [2]string{"2023-11-20", "2024-03-10"}
				}
				q := TallyQuery{Subject: subj, Period: p, From: date(rg[0]), To: date(rg[1])}
				out = append(out, q, withFilter(rng, h, q))
			}
		}
	}
	return out
}

// edgeQueries are deals and declarations tallies whose range starts or
// ends on the very day a declaration is declared, withdrawn, ends or
// stops, or a licence takes effect.
func edgeQueries(m *model) []TallyQuery {
	var days []domain.Date
	withdrawn, other := 0, 0
	for _, d := range m.decls {
		switch {
		case !d.WithdrawnOn.IsZero() && withdrawn < 15:
			withdrawn++
			days = append(days, d.DeclaredOn, d.WithdrawnOn, d.TermEndsOn.AddDays(1))
		case d.WithdrawnOn.IsZero() && other < 15:
			other++
			days = append(days, d.DeclaredOn, d.TermEndsOn, d.TermEndsOn.AddDays(1))
		}
	}
	for _, l := range m.licenses[:min(15, len(m.licenses))] {
		days = append(days, l.EffectiveOn)
	}
	var out []TallyQuery
	for _, day := range days {
		for _, subject := range []string{Deals, Declarations} {
			out = append(out, TallyQuery{Subject: subject, Period: Week, From: day, To: day.AddDays(40)},
				TallyQuery{Subject: subject, Period: Day, From: day.AddDays(-40), To: day})
		}
	}
	return out
}

func withFilter(rng *rand.Rand, h *history, q TallyQuery) TallyQuery {
	s := subjects[q.Subject]
	yes, no := true, false
	options := []func(){
		func() { q.PatenteeID = h.pick(h.unis) },
		func() { q.Region = []string{"44", "4401", "440106", "11"}[rng.IntN(4)] },
		func() { q.IPCPrefix = []string{"H01M", "H01L 23/", "G", "C12N 15/10"}[rng.IntN(4)] },
		func() {
			q.Kind = []domain.PatentKind{domain.KindInvention, domain.KindUtilityModel, domain.KindDesign}[rng.IntN(3)]
		},
	}
	if s.counterparties != "" {
		options = append(options, func() { q.LicenseeID = h.pick(h.firms) }, func() { q.SME = []*bool{&yes, &no}[rng.IntN(2)] })
	}
	if s.typeColumn != "" {
		options = append(options, func() { q.Type = domain.LicenseTypes[rng.IntN(len(domain.LicenseTypes))] })
	}
	if s.campaignColumn != "" {
		options = append(options, func() { q.Campaign = []string{"2024", "2025"}[rng.IntN(2)] })
	}
	options[rng.IntN(len(options))]()
	return q
}

// propertySeed is the seed of the property test, from
// PROJECTIONS_PROPERTY_SEED when set.
func propertySeed(t *testing.T) uint64 {
	if s := os.Getenv("PROJECTIONS_PROPERTY_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return seed
	}
	return 20240701
}

// writeThickHistory writes steps random commands, then steps/3 more at a
// time (five times at most) until the history holds ten licences and ten
// declarations, a transfer, a pledge and a review, and returns its model.
func writeThickHistory(t *testing.T, h *history, st domain.EventStore, steps int) *model {
	t.Helper()
	h.run(steps)
	for more := 0; ; more++ {
		m := buildModel(t, st)
		thick := len(m.licenses) >= 10 && len(m.decls) >= 10 && len(m.transfers) > 0 && len(m.pledges) > 0 && len(m.reviews) > 0
		if thick {
			return m
		}
		if more == 5 {
			t.Fatalf("history too thin: %d licences, %d declarations, %d transfers, %d pledges, %d reviews",
				len(m.licenses), len(m.decls), len(m.transfers), len(m.pledges), len(m.reviews))
		}
		h.run(steps / 3)
	}
}

// TestTallyProperty writes a random valid history through the command
// service, lets the live pipeline project it, and compares every tally and
// ranking with a brute-force recount from the events; then it rebuilds the
// read models from the store and compares again.
func TestTallyProperty(t *testing.T) {
	seed := propertySeed(t)
	zone, _ := time.Now().Zone()
	t.Logf("seed %d, TZ=%s (%s)", seed, os.Getenv("TZ"), zone)
	dir := t.TempDir()
	st := openStore(t, dir)
	// The live pipeline's tally index is loaded before the first event, so
	// that it mirrors every commit; the rebuilt file's is loaded from the
	// tables.
	p := startPipeline(t, st, dir)
	if err := p.db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := newHistory(t, newService(t, st), seed)
	steps := 300
	if testing.Short() {
		steps = 120
	}
	m := writeThickHistory(t, h, st, steps)
	t.Logf("%d commands accepted, %d refused", h.accepted, h.refused)
	waitHead(t, p, st)
	rng := rand.New(rand.NewPCG(seed, 1))
	queries := append(tallyQueries(rng, h), edgeQueries(m)...)
	compareTallies(t, "live", p.db, m, queries)

	rebuilt := rebuiltDB(t, st)
	compareTallies(t, "rebuilt", rebuilt, m, queries)
}

func compareTallies(t *testing.T, what string, db *DB, m *model, queries []TallyQuery) {
	t.Helper()
	ctx := context.Background()
	if err := db.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		got, err := db.Tally(ctx, q)
		if err != nil {
			t.Fatalf("%s %+v: %v", what, q, err)
		}
		want := m.expect(q)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s tally %+v:\ngot  %s\nwant %s", what, q, mustJSON(got), mustJSON(want))
		}
		if !db.tallies.holds(q.Subject) {
			continue
		}
		inMemory, inSQL := bothWays(t, db, q)
		if !reflect.DeepEqual(inMemory, want) || !reflect.DeepEqual(inSQL, want) {
			t.Fatalf("%s tally %+v:\nmemory %s\nSQL    %s\nwant   %s", what, q, mustJSON(inMemory), mustJSON(inSQL), mustJSON(want))
		}
	}
	for _, metric := range []string{MetricLicenses, MetricFees, MetricDeclared, MetricConversion} {
		got, err := db.Rankings(ctx, RankingQuery{Metric: metric, Limit: MaxRankingLimit})
		if err != nil {
			t.Fatal(err)
		}
		if want := m.expectRanking(metric); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s ranking by %s:\ngot  %+v\nwant %+v", what, metric, got, want)
		}
		for i, q := range queries {
			rq := RankingQuery{Metric: metric, From: q.From, To: q.To, Limit: []int{1, 3, 0, MaxRankingLimit}[i%4]}
			if i%5 == 0 {
				rq.From = domain.Date{}
			}
			if inMemory, inSQL := rankedBothWays(t, db, rq); !reflect.DeepEqual(inMemory, inSQL) {
				t.Fatalf("%s ranking %+v:\nmemory %+v\nSQL    %+v", what, rq, inMemory, inSQL)
			}
		}
	}
}

// rankedBothWays ranks from the in-memory index and from the tables; it
// fails when the index does not mirror the file.
func rankedBothWays(t *testing.T, db *DB, q RankingQuery) (inMemory, inSQL []Ranking) {
	t.Helper()
	inOneRead(t, db, func(position int64) bool { return db.tallies.rank(q, position, &inMemory) },
		func(ctx context.Context, tx *sql.Tx) (err error) {
			inSQL, err = rankInSQL(ctx, tx, q, rankingQueries[q.Metric])
			return err
		})
	return inMemory, inSQL
}

// inOneRead runs, in one read transaction, fromMemory at its tallies
// checkpoint and inSQL; it fails when the index does not mirror the
// checkpoint or the SQL fails.
func inOneRead(t *testing.T, db *DB, fromMemory func(position int64) bool, inSQL func(context.Context, *sql.Tx) error) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Reader().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	position, err := readCheckpoint(ctx, tx, TalliesName)
	if err != nil {
		t.Fatal(err)
	}
	if !fromMemory(position) {
		t.Fatalf("the tally index does not mirror checkpoint %d", position)
	}
	if err := inSQL(ctx, tx); err != nil {
		t.Fatal(err)
	}
}

// bothWays computes a tally the in-memory index holds from the index and
// from the tables; it fails when the index does not mirror the file.
func bothWays(t *testing.T, db *DB, q TallyQuery) (inMemory, inSQL Tally) {
	t.Helper()
	s := subjects[q.Subject]
	where, args, err := q.filters(s)
	if err != nil {
		t.Fatal(err)
	}
	spans, err := q.spans()
	if err != nil {
		t.Fatal(err)
	}
	inMemory = newTally(q, s, spans)
	inOneRead(t, db, func(position int64) bool { return db.tallies.answer(q, spans, position, &inMemory) },
		func(ctx context.Context, tx *sql.Tx) (err error) {
			inSQL, err = tallyInSQL(ctx, tx, q, s, spans, where, args)
			return err
		})
	return inMemory, inSQL
}

func mustJSON(t Tally) string {
	b, err := t.MarshalJSON()
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// TestTallyPropertyInOtherTimeZones runs the property test in child
// processes whose local time zone is far from Shanghai: business dates must
// not depend on the machine's zone.
func TestTallyPropertyInOtherTimeZones(t *testing.T) {
	if os.Getenv("PROJECTIONS_PROPERTY_SEED") != "" {
		t.Skip("inside a child process")
	}
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	for i, tz := range []string{"America/Los_Angeles", "Pacific/Kiritimati"} {
		t.Run(tz, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestTallyProperty$", "-test.short", "-test.v")
			cmd.Env = append(os.Environ(), "TZ="+tz, "PROJECTIONS_PROPERTY_SEED="+strconv.Itoa(1000+i))
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "TZ="+tz) {
				t.Fatalf("child in %s: %v\n%s", tz, err, out)
			}
		})
	}
}

// rebuiltDB rebuilds every read model of st into a fresh file.
func rebuiltDB(t *testing.T, st domain.EventStore) *DB {
	t.Helper()
	db := openDB(t, t.TempDir())
	r, err := NewRunner(context.Background(), db, st, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	return db
}
