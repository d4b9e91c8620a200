package projections

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// TestSearchIndexMirrorsSQL writes a varied ledger (several IPC codes per
// patent, every fee mode, withdrawals and second declarations, transfers,
// empty abstracts) and checks that random listing queries, paged through
// with random page sizes, get the same keys (sort keys to the last bit of
// BM25), order and totals from the in-memory search index as from SQLite:
// after a rebuild, and again after reopening the file and WarmUp.
func TestSearchIndexMirrorsSQL(t *testing.T) {
	st, dir, world, queries := rebuiltSearchWorld(t, 5, 250)

	db := openDB(t, dir)
	if db.search.facts != nil {
		t.Fatal("a reopened file has its search index loaded before WarmUp")
	}
	if err := db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	found, paged := 0, 0
	// A word no title holds, first or among others: nothing, in both.
	for _, text := range []string{"qqqqzz 一种", "一种 qqqqzz 锂电池", "锂电池 一种 qqqqzz"} {
		if _, total := compareListingPaths(t, db, ListingQuery{Today: date("2023-06-01"), Text: text, Limit: 100}); total != 0 {
			t.Errorf("%q found %d listings", text, total)
		}
	}
	for _, q := range queries {
		pages, total := compareListingPaths(t, db, q)
		if total > 0 {
			found++
		}
		if pages > 1 {
			paged++
		}
	}
	t.Logf("%d queries: %d find listings, %d take several pages", len(queries), found, paged)
	if found < len(queries)/2 || paged < len(queries)/4 {
		t.Fatalf("the queries test too little: %d of %d find listings, %d take several pages", found, len(queries), paged)
	}

	// Every university with every region, and a patentee the ledger does
	// not know: a co-owned patent passes when one patentee is the one asked
	// for and one, the same or another, is in the region.
	for _, uni := range append(slices.Clone(world.unis), "no-such-org") {
		for _, region := range []string{"", "44", "4401", "440106", "4403", "110108", "310104"} {
			compareListingPaths(t, db, ListingQuery{Today: date("2023-06-01"), PatenteeID: uni, Region: region, Limit: 100})
		}
	}

	built := openDB(t, t.TempDir())
	r, err := NewRunner(context.Background(), built, st, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(context.Background(), []string{ListingsName}, nil); err != nil {
		t.Fatal(err)
	}
	if built.search.facts != nil {
		t.Fatal("a rebuild left the search index loaded")
	}
	if err := built.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries[:40] {
		compareListingPaths(t, built, q)
	}
}

// TestSearchIndexFollowsLiveWrites checks that the search index of a
// running pipeline stays loaded while it mirrors new events, and answers
// as SQLite does afterwards.
func TestSearchIndexFollowsLiveWrites(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	writeSearchWorld(t, st, 7, 0)
	p := startPipeline(t, st, dir)
	waitHead(t, p, st)
	if err := p.db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	world := writeSearchWorld(t, st, 8, 1000)
	waitHead(t, p, st)
	p.db.search.mu.RLock()
	loaded := p.db.search.facts != nil
	p.db.search.mu.RUnlock()
	if !loaded {
		t.Fatal("the search index was dropped while the pipeline applied new events")
	}
	rng := rand.New(rand.NewPCG(8, 9))
	found := 0
	for range 100 {
		if _, total := compareListingPaths(t, p.db, world.query(rng)); total > 0 {
			found++
		}
	}
	if found < 35 {
		t.Fatalf("only %d of 100 queries find listings", found)
	}
}

// TestReplayIndexesTheSearchAsLiveWritesDo builds the listings of one
// ledger twice: live, one event at a time as the bus delivers them, and by
// a rebuild, in large batches without secondary indexes. Random listing queries, those with words ranked by relevance, must
// then find the same patents in the same order in both files' SQL, to the
// last bit of BM25.
func TestReplayIndexesTheSearchAsLiveWritesDo(t *testing.T) {
	st := openStore(t, t.TempDir())
	live := startPipeline(t, st, t.TempDir())
	world := writeSearchWorld(t, st, 11, 0)
	waitHead(t, live, st)
	rebuiltDir := t.TempDir()
	rebuildInto(t, rebuiltDir, st, ListingsName)
	rebuilt := openDB(t, rebuiltDir)

	rng := rand.New(rand.NewPCG(11, 12))
	found := 0
	for range 400 {
		q := world.query(rng)
		if q.Text != "" {
			q.Sort = SortRelevance
		}
		liveKeys, liveTotal := keysInSQL(t, live.db, q)
		rebuiltKeys, rebuiltTotal := keysInSQL(t, rebuilt, q)
		if liveTotal != rebuiltTotal || !reflect.DeepEqual(liveKeys, rebuiltKeys) {
			t.Fatalf("%+v:\nlive    total %d %v\nrebuilt total %d %v", q, liveTotal, liveKeys, rebuiltTotal, rebuiltKeys)
		}
		if q.Text != "" && liveTotal > 1 {
			found++
		}
	}
	if found < 40 {
		t.Fatalf("only %d of 400 queries rank several listings by relevance", found)
	}
}

// planInReadTx plans q and begins a read transaction on db to answer it;
// the caller rolls it back.
func planInReadTx(t *testing.T, db *DB, q ListingQuery) (string, []searchTerm, *sql.Tx) {
	t.Helper()
	sortName, terms, _, err := q.plan()
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	tx, err := db.Reader().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sortName, terms, tx
}

// keysInSQL returns the keys of every listing q finds in db's SQL, in
// order, and their total.
func keysInSQL(t *testing.T, db *DB, q ListingQuery) ([]pageKey, int64) {
	t.Helper()
	ctx := context.Background()
	sortName, terms, tx := planInReadTx(t, db, q)
	defer tx.Rollback()
	keys, total, err := listingKeysInSQL(ctx, tx, q, terms, sortName, nil, 1_000)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	return keys, total
}

// samePage reads the page of q after the cursor after in memory and in
// SQL, in the read transaction tx, fails unless both give the same keys
// and total, and returns them.
func samePage(t *testing.T, db *DB, tx *sql.Tx, q ListingQuery, terms []searchTerm, sortName string, after *cursorKey) ([]pageKey, int64) {
	t.Helper()
	ctx := context.Background()
	inMemory, memTotal, ok := db.listingKeysInMemory(ctx, tx, q, terms, sortName, after, q.Limit+1)
	if !ok {
		t.Fatalf("%+v: the search index does not answer", q)
	}
	inSQL, sqlTotal, err := listingKeysInSQL(ctx, tx, q, terms, sortName, after, q.Limit+1)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	if memTotal != sqlTotal || !reflect.DeepEqual(inMemory, inSQL) {
		t.Fatalf("%+v (match %s), after %+v:\nmemory total %d %v\nSQL    total %d %v", q, matchExpression(terms), after,
			memTotal, inMemory, sqlTotal, inSQL)
	}
	return inMemory, memTotal
}

// compareListingPaths pages through q in memory and in SQL and fails on
// the first difference; it returns the number of pages and the total.
func compareListingPaths(t *testing.T, db *DB, q ListingQuery) (pages int, total int64) {
	t.Helper()
	sortName, terms, tx := planInReadTx(t, db, q)
	defer tx.Rollback()
	var after *cursorKey
	for page := 1; page <= 300; page++ {
		inMemory, memTotal := samePage(t, db, tx, q, terms, sortName, after)
		if len(inMemory) <= q.Limit {
			return page, memTotal
		}
		last := inMemory[q.Limit-1]
		key, number, err := decodeCursor(encodeCursor(sortName, q.filterDigest(), last.sortKey, last.number), sortName, q.filterDigest())
		if err != nil {
			t.Fatal(err)
		}
		after = &cursorKey{key: key, number: number}
	}
	t.Fatalf("%+v: too many pages", q)
	return 0, 0
}

// searchWorld is what writeSearchWorld wrote, for making queries.
type searchWorld struct {
	unis  []string
	texts []string
}

var searchIPC = []string{"H01M 10/0562", "H01M 10/44", "H01M 100/01", "H01M 4/13", "H01L 23/367", "G06F 17/30",
	"G06N 3/08", "A61K 31/00", "C12N 15/10", "H04W 72/04"}

// writeSearchWorld appends a varied synthetic ledger of 300 patents, with
// serial numbers from first+1, to st.
func writeSearchWorld(t testing.TB, st domain.EventStore, seed uint64, first int) *searchWorld {
	s := &synth{rng: rand.New(rand.NewPCG(seed, 9))}
	s.orgs(10, 20, 0)
	w := &searchWorld{unis: s.unis}
	fees := []domain.FeeTerms{lumpSum(500_000), lumpSum(2_000_000), {Mode: domain.FeeFree},
		{Mode: domain.FeeRoyalty, RoyaltyBP: 300, RoyaltyBase: domain.BaseNetSales},
		{Mode: domain.FeeEntryPlusRoyalty, EntryFeeFen: 1_000_000, RoyaltyBP: 100, RoyaltyBase: domain.BaseProfit},
		{Mode: domain.FeeInstalment, InstalmentFen: 300_000, Instalments: 3}}
	for i := range 300 {
		kind, digit := domain.KindInvention, 1
		if i%4 == 3 {
			kind, digit = domain.KindUtilityModel, 2
		}
		n := patentNumber(t, 2019+i%3, digit, first+i+1)
		owner := w.unis[s.rng.IntN(len(w.unis))]
		title, abstract := "一种"+s.words(1+s.rng.IntN(3)), s.words(s.rng.IntN(8))
		w.texts = append(w.texts, title, abstract)
		var codes []domain.IPCCode
		for range 1 + s.rng.IntN(3) {
			codes = append(codes, domain.IPCCode(searchIPC[s.rng.IntN(len(searchIPC))]))
		}
		owners := []string{owner}
		if s.rng.IntN(5) == 0 { // co-owned with a firm, often of another region
			owners = append(owners, s.firms[s.rng.IntN(len(s.firms))])
		}
		evs := []domain.Event{domain.PatentRegistered{Number: n, Kind: kind, Title: title, Abstract: abstract,
			PatenteeIDs: owners, IPC: codes, FiledOn: date("2019-03-01"), GrantedOn: date("2020-06-01"),
			ExpiresOn: date("2039-02-28")}}
		if s.rng.IntN(10) < 8 {
			evs = append(evs, s.declarations(n, owner, fees)...)
		}
		if s.rng.IntN(10) == 0 {
			evs = append(evs, domain.PatentTransferred{Number: n, TransferID: "T" + string(n), FromIDs: []string{owner},
				ToIDs: []string{w.unis[s.rng.IntN(len(w.unis))]}, EffectiveOn: s.day(), PriceFen: 1_000_000})
		}
		evs = append(evs, s.statusChanges(n)...)
		s.add(domain.PatentStream(n), evs...)
	}
	s.flush(t, st)
	return w
}

// statusChanges returns, for one patent in five, a lapse on a random day,
// sometimes followed by a restoration: 60 days later, or on the same day
// (recorded later, so it wins), in either order of recording.
func (s *synth) statusChanges(n domain.PatentNumber) []domain.Event {
	if s.rng.IntN(5) != 0 {
		return nil
	}
	on := s.day()
	lapse := domain.PatentStatusChanged{Number: n, Status: domain.StatusLapsed, EffectiveOn: on, Reason: "未缴年费"}
	restore := domain.PatentStatusChanged{Number: n, Status: domain.StatusActive, EffectiveOn: on.AddDays(60), Reason: "恢复权利"}
	switch s.rng.IntN(4) {
	case 0:
		return []domain.Event{lapse}
	case 1:
		restore.EffectiveOn = on
		if s.rng.IntN(2) == 0 {
			return []domain.Event{restore, lapse}
		}
	case 2:
		return []domain.Event{restore, lapse}
	}
	return []domain.Event{lapse, restore}
}

// declarations returns a declaration of n, sometimes withdrawn and
// followed by a second one.
func (s *synth) declarations(n domain.PatentNumber, owner string, fees []domain.FeeTerms) []domain.Event {
	var evs []domain.Event
	on := s.day()
	for k := range 2 {
		id := fmt.Sprintf("D%s-%d", n, k)
		months := 12 * (1 + s.rng.IntN(3))
		evs = append(evs, domain.DeclarationFiled{Number: n, DeclarationID: id, Fee: fees[s.rng.IntN(len(fees))],
			TermMonths: months, DeclaredOn: on, TermEndsOn: domain.TermEndsOn(on, months), PatenteeIDs: []string{owner}})
		if s.rng.IntN(4) != 0 {
			return evs
		}
		stop := on.AddDays(30 + s.rng.IntN(200))
		evs = append(evs, domain.DeclarationWithdrawn{Number: n, DeclarationID: id, EffectiveOn: stop, Reason: "调整"})
		on = stop.AddDays(s.rng.IntN(60))
	}
	return evs
}

// queryNoise is what noisyText puts into a query: FTS5 syntax, white
// space and punctuation, which must search for the words around them and
// nothing else.
var queryNoise = []string{`"`, "*", " NEAR ", " AND ", " OR ", " NOT ", "-", "^", ":", "(", ")", "　", "，", " ", "+", "{", "}"}

// noisyText returns a piece of text with noise around and inside it, its
// Latin letters in random case, some in full width.
func noisyText(rng *rand.Rand, text string) string {
	runes := []rune(text)
	if len(runes) == 0 {
		return queryNoise[rng.IntN(len(queryNoise))]
	}
	i := rng.IntN(len(runes))
	var b strings.Builder
	for _, r := range runes[i:min(len(runes), i+1+rng.IntN(5))] {
		if rng.IntN(3) == 0 {
			b.WriteString(queryNoise[rng.IntN(len(queryNoise))])
		}
		switch {
		case r >= 'a' && r <= 'z' && rng.IntN(2) == 0:
			r -= 'a' - 'A'
		case r >= 'A' && r <= 'Z' && rng.IntN(3) == 0:
			r += 'Ａ' - 'A'
		}
		b.WriteRune(r)
	}
	b.WriteString(queryNoise[rng.IntN(len(queryNoise))])
	return b.String()
}

// query returns a random listing query.
func (w *searchWorld) query(rng *rand.Rand) ListingQuery {
	q := ListingQuery{Today: date("2021-01-01").AddDays(rng.IntN(5 * 365)), Limit: 1 + rng.IntN(7)}
	switch rng.IntN(6) {
	case 0, 1:
		runes := []rune(w.texts[rng.IntN(len(w.texts))])
		if len(runes) > 0 {
			i := rng.IntN(len(runes))
			q.Text = string(runes[i:min(len(runes), i+1+rng.IntN(3))])
		}
	case 2:
		texts := []string{"led", "5G 通信", "H01M 10/0562", "h01m10 电池", "固态电池", "电 池", "基因编辑载体", "LED", "Led芯片", "ＬＥＤ　芯片",
			"５ｇ", "G06N3/08", "g06n 3", "H01M10/0562(2006.01)I", `"电池" OR 芯片*`, "NEAR(电池 组)", "电池 AND -固态", "^固态:电池",
			"(芯片)", "电池，散热。", "14-03", "LOC14-03 一种", "14-03 H01M"}
		q.Text = texts[rng.IntN(len(texts))]
	case 3:
		q.Text = noisyText(rng, w.texts[rng.IntN(len(w.texts))])
	}
	pick := func(options ...string) string { return options[rng.IntN(len(options))] }
	q.IPCPrefix = pick("", "", "H", "H01", "H01M", "H01M 10/", "H01M 10/05", "G06N", "A61K 31/")
	q.Kind = domain.PatentKind(pick("", "", "", string(domain.KindInvention), string(domain.KindUtilityModel)))
	if rng.IntN(6) == 0 {
		q.PatenteeID = w.unis[rng.IntN(len(w.unis))]
	}
	q.Region = pick("", "", "", "44", "4401", "110108")
	q.FeeMode = domain.FeeMode(pick("", "", "", "", string(domain.FeeLumpSum), string(domain.FeeFree), string(domain.FeeInstalment)))
	if rng.IntN(5) == 0 {
		fee := domain.Fen(rng.IntN(3) * 1_000_000)
		q.MaxFeeFen = &fee
	}
	q.Sort = pick("", SortNewest, SortFee)
	if q.Text != "" && rng.IntN(2) == 0 {
		q.Sort = SortRelevance
	}
	if q.Text != "" && len(queryTerms(q.Text)) == 0 {
		q.Text = ""
	}
	if q.Text == "" && q.Sort == SortRelevance {
		q.Sort = ""
	}
	return q
}

// TestListingsAfterARebuildOfTheSameFile checks that listings read through
// statements prepared before a rebuild dropped and created their tables
// again answer as before: every page of several queries, in the SQL path
// and from the search index.
func TestListingsAfterARebuildOfTheSameFile(t *testing.T) {
	st := openStore(t, t.TempDir())
	world := writeSearchWorld(t, st, 9, 0)
	db := openDB(t, t.TempDir())
	r, err := NewRunner(context.Background(), db, st, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CatchUp(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	queries := make([]ListingQuery, 30)
	for i := range queries {
		queries[i] = world.query(rng)
	}
	before := allListingPages(t, db, queries)
	if err := r.Rebuild(context.Background(), []string{ListingsName}, nil); err != nil {
		t.Fatal(err)
	}
	if after := allListingPages(t, db, queries); !reflect.DeepEqual(after, before) {
		t.Fatal("the listings changed after a rebuild of the same file")
	}
	if err := db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := allListingPages(t, db, queries); !reflect.DeepEqual(after, before) {
		t.Fatal("the search index answers otherwise than SQL after a rebuild of the same file")
	}
}

// allListingPages returns every page of each query, through DB.Listings.
func allListingPages(t *testing.T, db *DB, queries []ListingQuery) [][]ListingPage {
	t.Helper()
	out := make([][]ListingPage, len(queries))
	items := 0
	for i, q := range queries {
		for page := 0; ; page++ {
			if page == 300 {
				t.Fatalf("%+v: too many pages", q)
			}
			p, err := db.Listings(context.Background(), q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			out[i] = append(out[i], p)
			items += len(p.Items)
			if p.NextCursor == nil {
				break
			}
			q.Cursor = *p.NextCursor
		}
	}
	if items == 0 {
		t.Fatal("the queries find no listing")
	}
	return out
}

// TestConcurrentListingsOnAFreshFile runs more listing requests at once
// than the read pool has connections, on a file whose read statements are
// not prepared yet: every request gets the answer a lone request gets (and
// none waits forever for a connection while preparing).
func TestConcurrentListingsOnAFreshFile(t *testing.T) {
	_, dir, _, queries := rebuiltSearchWorld(t, 11, 16)
	want := allListingPages(t, openDB(t, dir), queries)
	db := openDB(t, dir)
	got := make([][]ListingPage, len(queries))
	var wg sync.WaitGroup
	for i := range queries {
		wg.Go(func() {
			p, err := db.Listings(context.Background(), queries[i])
			if err != nil {
				t.Errorf("%+v: %v", queries[i], err)
				return
			}
			got[i] = []ListingPage{p}
		})
	}
	wg.Wait()
	for i := range queries {
		if !reflect.DeepEqual(got[i], want[i][:1]) {
			t.Errorf("%+v: concurrent answer %+v, want %+v", queries[i], got[i], want[i][:1])
		}
	}
}

// rebuiltSearchWorld writes a search world of seed into a new store,
// rebuilds the read models from it into a new folder and makes n random
// listing queries of the world.
func rebuiltSearchWorld(t *testing.T, seed uint64, n int) (domain.EventStore, string, *searchWorld, []ListingQuery) {
	t.Helper()
	st, dir := openStore(t, t.TempDir()), t.TempDir()
	world := writeSearchWorld(t, st, seed, 0)
	rebuildInto(t, dir, st)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	queries := make([]ListingQuery, n)
	for i := range queries {
		queries[i] = world.query(rng)
	}
	return st, dir, world, queries
}

// TestAnIPCFilterDoesNotReorderRelevance: the ipc filter was an FTS5 term
// of the query, so bm25() scored it with the text's terms, and in
// relevance order a patent with more codes under the prefix moved up. The
// filter now only narrows: for random texts and prefixes, the filtered
// listings come in the order they have without the filter, in the SQL
// path and from the search index alike.
func TestAnIPCFilterDoesNotReorderRelevance(t *testing.T) {
	_, dir, world, _ := rebuiltSearchWorld(t, 11, 0)
	db := openDB(t, dir)
	rng := rand.New(rand.NewPCG(11, 12))
	reordered := func(path string) int {
		checked := 0
		for range 200 {
			q := world.query(rng)
			if q.Text == "" {
				continue
			}
			q.Sort, q.Limit, q.Cursor = SortRelevance, MaxListingLimit, ""
			q.IPCPrefix = []string{"H", "H01", "H01M", "H01M 10/", "G06"}[rng.IntN(5)]
			filtered := listingNumbers(t, db, q)
			q.IPCPrefix = ""
			all := listingNumbers(t, db, q)
			within := slices.DeleteFunc(all, func(n string) bool { return !slices.Contains(filtered, n) })
			if !slices.Equal(filtered, within) {
				t.Errorf("%s: %q under an ipc filter came as %v, without it as %v", path, q.Text, filtered, within)
			}
			if len(filtered) > 1 {
				checked++
			}
		}
		return checked
	}
	if n := reordered("SQL"); n < 20 {
		t.Fatalf("only %d queries had two or more filtered listings to order", n)
	}
	if err := db.WarmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	reordered("search index")
}

// listingNumbers returns the numbers of the first page of q's listings.
func listingNumbers(t *testing.T, db *DB, q ListingQuery) []string {
	t.Helper()
	page, err := db.Listings(context.Background(), q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	numbers := make([]string, len(page.Items))
	for i, item := range page.Items {
		numbers[i] = item.Number
	}
	return numbers
}
