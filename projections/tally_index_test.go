package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// TestTallyIndexWarmUpAndExternalWriter checks the in-memory tally index
// outside the live pipeline: a reopened file answers deals tallies in SQL
// until WarmUp loads the index from the tables, which then answers the
// same; and when another process moves the tallies checkpoint, the stale
// index steps aside and the tallies see the new facts.
func TestTallyIndexWarmUpAndExternalWriter(t *testing.T) {
	ctx := context.Background()
	st, h, dir := rebuiltHistory(t, 7, 150)
	db := openDB(t, dir)
	if db.tallies.facts != nil {
		t.Fatal("a reopened file has its tally index loaded before WarmUp")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	queries := dealQueries(rng, h)
	m := buildModel(t, st)
	for _, q := range queries {
		if got, want := mustTally(t, db, q), m.expect(q); !reflect.DeepEqual(got, want) {
			t.Fatalf("in SQL before WarmUp, %+v:\ngot  %s\nwant %s", q, mustJSON(got), mustJSON(want))
		}
	}
	if err := db.WarmUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		inMemory, inSQL := bothWays(t, db, q)
		if want := m.expect(q); !reflect.DeepEqual(inMemory, want) || !reflect.DeepEqual(inSQL, want) {
			t.Fatalf("after WarmUp, %+v:\nmemory %s\nSQL    %s\nwant   %s", q, mustJSON(inMemory), mustJSON(inSQL), mustJSON(want))
		}
	}

	h.run(60)
	rebuildInto(t, dir, st) // another writer of the same file
	m = buildModel(t, st)
	for _, q := range queries {
		if got, want := mustTally(t, db, q), m.expect(q); !reflect.DeepEqual(got, want) {
			t.Fatalf("after another writer, %+v:\ngot  %s\nwant %s", q, mustJSON(got), mustJSON(want))
		}
	}
}

// rebuiltHistory writes a random history of steps commands (from seed)
// into a new store and rebuilds its read models into a new folder; it
// returns the store, the history and the folder.
func rebuiltHistory(t testing.TB, seed uint64, steps int) (*sqlite.Store, *history, string) {
	t.Helper()
	st := openStore(t, t.TempDir())
	h := newHistory(t, newService(t, st), seed)
	h.run(steps)
	dir := t.TempDir()
	rebuildInto(t, dir, st)
	return st, h, dir
}

// rebuildInto rebuilds the named read models (all when none is named) of
// the file in dir from st with a DB and runner of their own, as `ledger
// rebuild` does.
func rebuildInto(t testing.TB, dir string, st domain.EventStore, names ...string) {
	t.Helper()
	db := openDB(t, dir)
	defer db.Close()
	r, err := NewRunner(context.Background(), db, st, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(context.Background(), names, nil); err != nil {
		t.Fatal(err)
	}
}

// dealQueries are deals tallies over every period, with and without
// filters.
func dealQueries(rng *rand.Rand, h *history) []TallyQuery {
	var out []TallyQuery
	for i := range 30 {
		q := TallyQuery{Subject: Deals, Period: Periods[i%len(Periods)], From: date("2021-01-01"), To: date("2025-12-31")}
		if q.Period == Day {
			q.From = date("2023-06-01")
		}
		for range i % 3 {
			q = withFilter(rng, h, q)
		}
		out = append(out, q)
	}
	return out
}

func mustTally(t *testing.T, db *DB, q TallyQuery) Tally {
	t.Helper()
	got, err := db.Tally(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestDealTallyWhileWriting reads deals tallies from the in-memory index
// while the live pipeline applies licences granted by concurrent writers
// (run it with -race): every answer is a consistent state, and the last one
// counts every licence, in memory and in SQL alike.
func TestDealTallyWhileWriting(t *testing.T) {
	dir := t.TempDir()
	st, svc, firm, n := onePatentOneFirm(t, dir)
	p := startPipeline(t, st, dir)
	waitHead(t, p, st)
	if err := p.db.WarmUp(context.Background()); err != nil { // the writes start with the index loaded
		t.Fatal(err)
	}
	const writers, each = 2, 60
	q := TallyQuery{Subject: Deals, Period: Month, From: date("2024-01-01"), To: date("2024-12-31")}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := svc.GrantLicense(context.Background(), admin, n, domain.GrantLicense{Type: domain.LicenseOrdinary,
					LicenseeID: firm, EffectiveOn: date("2024-01-01").AddDays((w*each + i) % 366), EndsOn: date("2030-01-01"), FeePaidFen: 100})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		var seen int64
		for {
			select {
			case <-done:
				return
			default:
			}
			got, err := p.Tally(context.Background(), q)
			if err != nil {
				readErr <- err
				return
			}
			var sum int64
			for _, b := range got.Buckets {
				sum += b.Values[0]
			}
			if deals := got.Total.Values[0]; deals < seen || deals != sum || got.Total.Values[3] != 100*deals {
				readErr <- fmt.Errorf("inconsistent tally after %d deals: total %v, buckets add up to %d", seen, got.Total.Values, sum)
				return
			}
			seen = got.Total.Values[0]
		}
	}()
	wg.Wait()
	waitHead(t, p, st)
	close(done)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	p.db.tallies.mu.RLock()
	loaded := p.db.tallies.facts != nil
	p.db.tallies.mu.RUnlock()
	if !loaded {
		t.Fatal("the tally index was dropped while the pipeline applied new licences")
	}
	inMemory, inSQL := bothWays(t, p.db, q)
	if !reflect.DeepEqual(inMemory, inSQL) || inMemory.Total.Values[0] != writers*each || inMemory.Total.Values[1] != 1 {
		t.Fatalf("after %d licences:\nmemory %s\nSQL    %s", writers*each, mustJSON(inMemory), mustJSON(inSQL))
	}
}

// TestWarmUpMirrorsCommitsDuringTheLoad holds a load of the tally index
// after it has read its snapshot while the runner commits new events, and
// checks that the index then mirrors those commits too.
func TestWarmUpMirrorsCommitsDuringTheLoad(t *testing.T) {
	ctx := context.Background()
	st, h, dir := rebuiltHistory(t, 9, 100)
	db := openDB(t, dir)
	r, err := NewRunner(ctx, db, st, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	loaded, resume := make(chan struct{}), make(chan struct{})
	slowLoad := func(ctx context.Context, tx *sql.Tx) (*tallyFacts, error) {
		f, err := loadTallyFacts(ctx, tx)
		close(loaded)
		<-resume
		return f, err
	}
	warmed := make(chan error, 1)
	go func() { warmed <- db.tallies.warmUp(ctx, db.Reader(), slowLoad) }()
	<-loaded
	h.run(80)
	if _, err := r.CatchUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-warmed; err != nil {
		t.Fatal(err)
	}
	m := buildModel(t, st)
	for _, q := range dealQueries(rand.New(rand.NewPCG(9, 10)), h) {
		inMemory, inSQL := bothWays(t, db, q)
		if want := m.expect(q); !reflect.DeepEqual(inMemory, want) || !reflect.DeepEqual(inSQL, want) {
			t.Fatalf("%+v:\nmemory %s\nSQL    %s\nwant   %s", q, mustJSON(inMemory), mustJSON(inSQL), mustJSON(want))
		}
	}
}

// TestDistinctCountsLikeASet checks distinct against a map on random
// buckets over a set of 64,000 items, sparse ones (a few items, which clear
// only the words they touched) and dense ones (thousands, which clear the
// whole set), in random order, their items added one at a time (add) or a
// bucket at once (addAll), and the total against the union of all.
func TestDistinctCountsLikeASet(t *testing.T) {
	const items = 64_000
	rng := rand.New(rand.NewPCG(7, 11))
	d, total := newDistinct(items), map[int32]bool{}
	for bucket := range 300 {
		n := rng.IntN(20)
		if rng.IntN(3) == 0 {
			n = 2_000 + rng.IntN(20_000)
		}
		inBucket, batch := map[int32]bool{}, []int32{}
		for range n {
			item := int32(rng.IntN(items))
			if rng.IntN(4) == 0 && len(inBucket) > 0 {
				for seen := range inBucket { // the same item again
					item = seen
					break
				}
			}
			if bucket%2 == 0 {
				d.add(item)
			} else {
				batch = append(batch, item)
			}
			inBucket[item], total[item] = true, true
		}
		d.addAll(batch)
		if got := d.endBucket(); got != int64(len(inBucket)) {
			t.Fatalf("bucket %d of %d adds: %d distinct, want %d", bucket, n, got, len(inBucket))
		}
	}
	if d.inTotal != int64(len(total)) {
		t.Fatalf("total: %d distinct, want %d", d.inTotal, len(total))
	}
}

// TestConcurrentPooledTallies asks for the tallies and rankings that keep
// the lists a query fills for the next one (fee reductions, multi-licensee,
// time to first licence, the rankings by fees), and for the deals by
// region, over several ranges and filters, from several goroutines at once
// (run it with -race): the lists are never shared, so every answer is the
// one the query gets alone.
func TestConcurrentPooledTallies(t *testing.T) {
	_, h, dir := rebuiltHistory(t, 13, 300)
	db := openDB(t, dir)
	if err := db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	froms := []string{"2021-01-01", "2022-07-01", "2023-03-15"}
	for _, tc := range []struct {
		subject string
		period  Period
	}{{FeeReductions, Year}, {MultiLicensee, Month}, {TimeToFirstLicence, Quarter}} {
		t.Run(tc.subject, func(t *testing.T) {
			var queries []TallyQuery
			for _, from := range froms {
				for _, patentee := range append([]string{""}, h.unis...) {
					queries = append(queries, TallyQuery{Subject: tc.subject, Period: tc.period, From: date(from), To: date("2025-12-31"),
						PatenteeID: patentee})
				}
			}
			requireSameAnswersAtOnce(t, queries, func(q TallyQuery) (Tally, error) { return db.Tally(context.Background(), q) },
				func(a Tally) int64 { return a.Total.Values[0] })
		})
	}
	t.Run("deals-by-region", func(t *testing.T) {
		var queries []RegionDealsQuery
		for _, from := range froms {
			for _, digits := range []int{2, 4, 6} {
				queries = append(queries, RegionDealsQuery{From: date(from), To: date("2025-12-31"), Digits: digits})
			}
		}
		requireSameAnswersAtOnce(t, queries, func(q RegionDealsQuery) ([]RegionDeals, error) { return db.DealsByRegion(context.Background(), q) },
			func(a []RegionDeals) (deals int64) {
				for _, r := range a {
					deals += r.Deals
				}
				return deals
			})
	})
	t.Run("rankings-by-fees", func(t *testing.T) {
		var queries []RankingQuery
		for _, from := range froms {
			queries = append(queries, RankingQuery{Metric: MetricFees, From: date(from), To: date("2025-12-31"), Limit: MaxRankingLimit})
		}
		requireSameAnswersAtOnce(t, queries, func(q RankingQuery) ([]Ranking, error) { return db.Rankings(context.Background(), q) },
			func(a []Ranking) (fees int64) {
				for _, r := range a {
					fees += r.Value
				}
				return fees
			})
	})
}

// requireSameAnswersAtOnce asks every query alone, then from four
// goroutines at once, three times each, and fails the test when an answer
// at once differs from the one alone, or when the answers alone count
// nothing at all (counted says what an answer counts).
func requireSameAnswersAtOnce[Q, A any](t *testing.T, queries []Q, ask func(Q) (A, error), counted func(A) int64) {
	t.Helper()
	want := make([]A, len(queries))
	var total int64
	for i, q := range queries {
		var err error
		if want[i], err = ask(q); err != nil {
			t.Fatal(err)
		}
		total += counted(want[i])
	}
	if total == 0 {
		t.Fatal("nothing counted to compare")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 3 * len(queries) {
				i := (g + k) % len(queries)
				got, err := ask(queries[i])
				if err != nil {
					t.Error(err)
					return
				}
				if !reflect.DeepEqual(got, want[i]) {
					gotJSON, _ := json.Marshal(got)
					wantJSON, _ := json.Marshal(want[i])
					t.Errorf("%+v at once with others:\n%s\nalone:\n%s", queries[i], gotJSON, wantJSON)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestPatentFiltersAfterTheDaySort checks the deals tally filtered by IPC
// subclass and patent kind, which reads a deal's patent from the day-sorted
// columns and the patents of each code from the sorted codes, against a
// count over the facts themselves. The deals arrive out of day order and
// are sorted by day twice, with a tail left unsorted; half the codes are
// sorted as a load sorts them, the other half added later.
func TestPatentFiltersAfterTheDaySort(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	f := newTallyFacts(0)
	codes := []string{"H01M 4/13", "H01M 10/052", "G06F 3/01", "A61K 9/20", "H01L 21/02", "H01 M"}
	kinds := []domain.PatentKind{domain.KindInvention, domain.KindUtilityModel, domain.KindDesign}
	register := func(first, last int) {
		for i := first; i < last; i++ {
			number := fmt.Sprintf("ZL%04d", i)
			f.patent(number, string(kinds[i%len(kinds)]), 0, 0)
			for range 1 + rng.IntN(2) {
				f.ipc(number, compactIPC(fmt.Sprintf("%s%d", codes[rng.IntN(len(codes))], i%7)))
			}
		}
	}
	const patents = 60
	register(0, patents/2)
	f.sortAll()
	register(patents/2, patents)
	start := dayNumber(date("2024-01-01"))
	for _, deals := range []int{1500, 1500, 300} { // two sorts by day, then a tail
		for range deals {
			deal := f.licence(fmt.Sprintf("L%d", len(f.deals)), fmt.Sprintf("ZL%04d", rng.IntN(patents)), string(domain.LicenseOrdinary),
				fmt.Sprintf("firm-%d", rng.IntN(50)), start+rng.Int32N(366), false)
			f.licensor(deal, "university")
		}
		f.advance(nil, int64(len(f.deals)))
	}
	if sorted := len(f.dealsByDay.day); sorted != 3000 {
		t.Fatalf("%d deals sorted by day, want 3000 (the test needs two sorts and a tail)", sorted)
	}
	for _, filter := range []struct {
		ipc  string
		kind domain.PatentKind
	}{{"H01M", ""}, {"H01M10", ""}, {"", domain.KindUtilityModel}, {"H01", domain.KindInvention}, {"A61K", domain.KindDesign}} {
		q := TallyQuery{Subject: Deals, Period: Month, From: date("2024-01-01"), To: date("2024-12-31"), IPCPrefix: filter.ipc, Kind: filter.kind}
		spans, err := q.spans()
		if err != nil {
			t.Fatal(err)
		}
		got := newTally(q, subjects[Deals], spans)
		f.dealsTally(q, spans, &got)
		want := countDealsOfPatents(f, q, spans)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+v:\ngot  %s\nwant %s", filter, mustJSON(got), mustJSON(want))
		}
		if want.Total.Values[0] == 0 || want.Total.Values[0] == int64(len(f.deals)) {
			t.Errorf("%+v: %d of %d deals pass, which tests nothing", filter, want.Total.Values[0], len(f.deals))
		}
	}
}

// countDealsOfPatents is the deals tally of q (monthly, its filters on
// the patent only, without fees) counted deal by deal over the facts.
func countDealsOfPatents(f *tallyFacts, q TallyQuery, spans []span) Tally {
	t := newTally(q, subjects[Deals], spans)
	passes := func(patent int32) bool {
		p := &f.patents[patent]
		inIPC := q.IPCPrefix == "" || slices.ContainsFunc(p.codes, func(c int32) bool { return strings.HasPrefix(f.codes[c].code, q.IPCPrefix) })
		return inIPC && (q.Kind == "" || p.kind == q.Kind)
	}
	licensees, patents := map[int32]bool{}, map[int32]bool{}
	first := dayNumber(q.From)
	for i, sp := range spans {
		inBucket := [2]map[int32]bool{{}, {}}
		for _, d := range f.deals {
			if d.day >= first && d.day <= dayNumber(sp.last) && passes(d.patent) {
				t.Buckets[i].Values[0]++
				inBucket[0][d.licensee], inBucket[1][d.patent] = true, true
				licensees[d.licensee], patents[d.patent] = true, true
			}
		}
		t.Buckets[i].Values[1], t.Buckets[i].Values[2] = int64(len(inBucket[0])), int64(len(inBucket[1]))
		t.Total.Values[0] += t.Buckets[i].Values[0]
		first = dayNumber(sp.last) + 1
	}
	t.Total.Values[1], t.Total.Values[2] = int64(len(licensees)), int64(len(patents))
	return t
}
