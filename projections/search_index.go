package projections

import (
	"container/heap"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"modernc.org/libc"

	"github.com/patentledger/ledger/domain"
)

// searchIndex mirrors in memory what a listing query reads of the listings
// read model: the tokens FTS5 indexes for each patent (by column), the
// declarations with their dates and fees, the patentees and their regions.
// It answers the first step of a listing query (which listings match, in
// which order, how many) with FTS5's own BM25 arithmetic, so that a search
// whose words occur in tens of thousands of patents takes a pass over
// arrays instead of a bm25() call and two joins per match; the page's
// columns are still read from the tables.
//
// As for the tally index, the tables stay the record: the index answers
// only while it mirrors exactly the listings checkpoint that the query's
// read sees, and falls back to SQL otherwise. It changes only when a write
// transaction of the listings projection commits (DB.Update calls
// committed), and DB.WarmUp loads it from the tables.
type searchIndex struct {
	mirror[*searchFacts]
	scratch scratchPool[termScratch] // so that queries allocate little
}

// termScratch is the memory a query needs for one term: the docs holding
// it and its weighted frequency by doc, all 0 between queries.
type termScratch struct {
	hits   []int32
	weight []uint16
}

// searchFacts are the facts of the listings at one listings checkpoint.
type searchFacts struct {
	position int64            // the listings checkpoint mirrored
	orgIDs   map[string]int32 // organisation ID → index in orgRegions
	// orgRegions are the region codes of the organisations seen, "" for
	// one not registered (yet).
	orgRegions []string
	patentIDs  map[string]int32 // patent number → index in docs
	docs       []searchDoc
	summaries  []docSummary     // by doc: what most matches need of docs, packed
	vocab      map[string]int32 // token → token ID
	tokens     []int32          // the token IDs of every indexed doc, doc after doc
	// postings[t] are the indexed docs holding token t in any column, each
	// once, and weights[t] the sums of the column weights of its places in
	// each; codePostings and codeWeights the same for the codes column. A
	// sum stays far below 65,535: the domain bounds titles and abstracts
	// (at most 4 × 200 + 5,000 from them).
	postings, codePostings [][]int32
	weights, codeWeights   [][]uint16
	rows                   int64 // indexed docs, FTS5's row count
	size                   int64 // tokens of every indexed doc, FTS5's total size
}

// searchDoc is one registered patent.
type searchDoc struct {
	number    string
	kind      domain.PatentKind
	patentees []int32      // indexes in orgRegions
	pending   *pendingText // what to index on its first declaration
	// Once indexed, tokens[start:ends[0]] are the title's token IDs,
	// tokens[ends[0]:ends[1]] the abstract's and tokens[ends[1]:ends[2]]
	// the codes'.
	start int32
	ends  [searchColumns]int32
	decls []searchDecl
	// status are the patent's register status changes, by day; of two on
	// one day, the later recorded comes last.
	status []statusChange
}

// activeOn reports whether the patent is active on day: its last status
// change by then made it so, or it has none.
func (d *searchDoc) activeOn(day int32) bool {
	i := sort.Search(len(d.status), func(i int) bool { return d.status[i].day > day })
	return i == 0 || d.status[i-1].active
}

// setStatus records a status change, after those of the same day.
func (d *searchDoc) setStatus(day int32, active bool) {
	i := sort.Search(len(d.status), func(i int) bool { return d.status[i].day > day })
	d.status = slices.Insert(d.status, i, statusChange{day: day, active: active})
}

// pendingText is the text of a patent not indexed yet.
type pendingText struct {
	title, abstract, locarno string
	codes                    []domain.IPCCode
}

// docSummary is what a search reads of most docs that match, packed apart
// from docs so that a search of tens of thousands of matches reads little
// memory: when the doc's declarations can be in effect, its status since
// its last status change, and its length in tokens (which its score
// weighs).
type docSummary struct {
	// firstDeclared and lastEnds are the earliest declared_on and the
	// latest last_day of its declarations; decls is their number.
	firstDeclared, lastEnds int32
	decls                   int32
	length                  int32
	// statusSince is the day of its last status change, math.MinInt32
	// when it has none; inactive says it is not active since then.
	statusSince int32
	inactive    bool
}

// mayListOn reports whether a declaration of the doc can be in effect on
// day.
func (sm *docSummary) mayListOn(day int32) bool {
	return sm.decls > 0 && sm.firstDeclared <= day && day <= sm.lastEnds
}

// activeOn reports whether the doc is active on day, when the summary can
// tell (known): on or after its last status change. Before that day, only
// the doc's status changes can tell.
func (sm *docSummary) activeOn(day int32) (active, known bool) {
	return !sm.inactive, sm.statusSince <= day
}

// searchDecl is one declaration, with the columns of lst_declarations the
// filters and orders read (dates as day numbers, which order as the
// columns' 'YYYY-MM-DD' text does).
type searchDecl struct {
	id, feeMode         string
	declaredOn, lastDay int32
	feeFen              int64
}

// The columns of lst_search and the bm25() weights the listing query gives
// them.
const searchColumns = 3

var columnWeights = [searchColumns]float64{4.0, 1.0, 2.0}

func newSearchFacts(position int64) *searchFacts {
	return &searchFacts{position: position, orgIDs: map[string]int32{}, patentIDs: map[string]int32{},
		vocab: map[string]int32{}}
}

// checkpoint implements mirrored.
func (f *searchFacts) checkpoint() int64 { return f.position }

// advance implements mirrored.
func (f *searchFacts) advance(events []domain.Event, to int64) {
	for _, ev := range events {
		f.apply(ev)
	}
	f.position = to
}

// apply mirrors one event the way Listings.Apply writes it into the tables.
func (f *searchFacts) apply(ev domain.Event) {
	switch v := ev.(type) {
	case domain.OrgRegistered:
		f.orgRegions[f.org(v.OrgID)] = string(v.RegionCode)
	case domain.PatentRegistered:
		f.patent(string(v.Number), string(v.Kind), v.PatenteeIDs, &pendingText{title: v.Title, abstract: v.Abstract, codes: v.IPC, locarno: v.Locarno})
	case domain.DeclarationFiled:
		if i, ok := f.patentIDs[string(v.Number)]; ok {
			d := &f.docs[i]
			d.decls = append(d.decls, searchDecl{id: v.DeclarationID, feeMode: string(v.Fee.Mode), feeFen: int64(v.Fee.FixedTotal()),
				declaredOn: dayNumber(v.DeclaredOn), lastDay: dayNumber(v.TermEndsOn)})
			f.index(i)
			f.refreshSummary(i)
		}
	case domain.DeclarationWithdrawn:
		if i, decl := f.decl(string(v.Number), v.DeclarationID); decl != nil {
			decl.lastDay = min(decl.lastDay, dayNumber(v.EffectiveOn.AddDays(-1)))
			f.refreshSummary(i)
		}
	case domain.PatentTransferred:
		if i, ok := f.patentIDs[string(v.Number)]; ok {
			f.docs[i].patentees = f.orgs(v.ToIDs)
		}
	case domain.PatentStatusChanged:
		if i, ok := f.patentIDs[string(v.Number)]; ok {
			f.docs[i].setStatus(dayNumber(v.EffectiveOn), v.Status == domain.StatusActive)
			f.refreshSummary(i)
		}
	}
}

// org returns the index of an organisation, adding it when new.
func (f *searchFacts) org(id string) int32 {
	i, ok := f.orgIDs[id]
	if !ok {
		i = int32(len(f.orgRegions))
		f.orgIDs[id] = i
		f.orgRegions = append(f.orgRegions, "")
	}
	return i
}

// orgs returns the indexes of organisations.
func (f *searchFacts) orgs(ids []string) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = f.org(id)
	}
	return out
}

func (f *searchFacts) patent(number, kind string, patentees []string, text *pendingText) {
	f.patentIDs[number] = int32(len(f.docs))
	f.docs = append(f.docs, searchDoc{number: number, kind: domain.PatentKind(kind), patentees: f.orgs(patentees), pending: text})
	f.summaries = append(f.summaries, docSummary{statusSince: math.MinInt32})
}

// refreshSummary sets summaries[i] from docs[i].
func (f *searchFacts) refreshSummary(i int32) {
	d := &f.docs[i]
	sm := docSummary{decls: int32(len(d.decls)), length: d.ends[searchColumns-1] - d.start,
		firstDeclared: math.MaxInt32, lastEnds: math.MinInt32, statusSince: math.MinInt32}
	for _, decl := range d.decls {
		sm.firstDeclared, sm.lastEnds = min(sm.firstDeclared, decl.declaredOn), max(sm.lastEnds, decl.lastDay)
	}
	if n := len(d.status); n > 0 {
		sm.statusSince, sm.inactive = d.status[n-1].day, !d.status[n-1].active
	}
	f.summaries[i] = sm
}

// decl returns a declaration of a patent and the patent's doc.
func (f *searchFacts) decl(number, id string) (int32, *searchDecl) {
	i, ok := f.patentIDs[number]
	if !ok {
		return 0, nil
	}
	d := &f.docs[i]
	for j := range d.decls {
		if d.decls[j].id == id {
			return i, &d.decls[j]
		}
	}
	return 0, nil
}

// index puts a patent's pending text into the index, as indexPatent puts
// it into lst_search: once.
func (f *searchFacts) index(i int32) {
	d := &f.docs[i]
	if d.pending == nil {
		return
	}
	d.start = int32(len(f.tokens))
	columns := [searchColumns]string{IndexTokens(d.pending.title), IndexTokens(d.pending.abstract), CodeTokens(d.pending.codes, d.pending.locarno)}
	for c, text := range columns {
		for _, tok := range strings.Fields(text) {
			id := f.tokenID(tok)
			f.tokens = append(f.tokens, id)
			f.postings[id], f.weights[id] = addPlace(f.postings[id], f.weights[id], i, columnWeights[c])
			if c == searchColumns-1 {
				f.codePostings[id], f.codeWeights[id] = addPlace(f.codePostings[id], f.codeWeights[id], i, columnWeights[c])
			}
		}
		d.ends[c] = int32(len(f.tokens))
	}
	d.pending = nil
	f.rows++
	f.size += int64(d.ends[searchColumns-1] - d.start)
}

// tokenID returns the ID of a token, adding it to the vocabulary.
func (f *searchFacts) tokenID(tok string) int32 {
	id, ok := f.vocab[tok]
	if !ok {
		id = int32(len(f.vocab))
		f.vocab[tok] = id
		f.postings, f.codePostings = append(f.postings, nil), append(f.codePostings, nil)
		f.weights, f.codeWeights = append(f.weights, nil), append(f.codeWeights, nil)
	}
	return id
}

// addPlace adds a place of a token in doc, of a column's weight, to the
// token's postings (the doc being indexed is always the last one).
func addPlace(docs []int32, weights []uint16, doc int32, weight float64) ([]int32, []uint16) {
	if n := len(docs); n > 0 && docs[n-1] == doc {
		weights[n-1] += uint16(weight)
		return docs, weights
	}
	return append(docs, doc), append(weights, uint16(weight))
}

// loadSearchFacts reads the facts from the tables, in one read transaction.
func loadSearchFacts(ctx context.Context, tx *sql.Tx) (*searchFacts, error) {
	position, err := readCheckpoint(ctx, tx, ListingsName)
	if err != nil {
		return nil, err
	}
	f := newSearchFacts(position)
	var indexed []int32
	steps := []struct {
		query string
		row   func(c []string) error
	}{
		{"SELECT id, region FROM lst_orgs", func(c []string) error { f.orgRegions[f.org(c[0])] = c[1]; return nil }},
		{"SELECT number, kind, title, abstract, ipc, patentee_ids, indexed, locarno FROM lst_patents ORDER BY id", func(c []string) error {
			text := &pendingText{title: c[2], abstract: c[3], locarno: c[7]}
			var patentees []string
			if err := json.Unmarshal([]byte(c[4]), &text.codes); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(c[5]), &patentees); err != nil {
				return err
			}
			if c[6] == "1" {
				indexed = append(indexed, int32(len(f.docs)))
			}
			f.patent(c[0], c[1], patentees, text)
			return nil
		}},
		{"SELECT number, declaration_id, fee_mode, fee_fen, declared_on, last_day FROM lst_declarations", func(c []string) error {
			i, ok := f.patentIDs[c[0]]
			if !ok {
				return fmt.Errorf("declaration %s of patent %s, which is not in lst_patents", c[1], c[0])
			}
			fee, err := strconv.ParseInt(c[3], 10, 64)
			if err != nil {
				return err
			}
			days, err := parseDays(c[4], c[5])
			if err == nil {
				f.docs[i].decls = append(f.docs[i].decls, searchDecl{id: c[1], feeMode: c[2], feeFen: fee,
					declaredOn: days[0], lastDay: days[1]})
			}
			return err
		}},
		{"SELECT number, effective_on, active FROM lst_patent_status ORDER BY number, effective_on, seq", func(c []string) error {
			i, ok := f.patentIDs[c[0]]
			if !ok {
				return fmt.Errorf("status of patent %s, which is not in lst_patents", c[0])
			}
			days, err := parseDays(c[1])
			if err == nil {
				f.docs[i].setStatus(days[0], c[2] == "1")
			}
			return err
		}},
	}
	for _, s := range steps {
		if err := scanStrings(ctx, tx, s.query, s.row); err != nil {
			return nil, fmt.Errorf("%s: %w", firstLine(s.query), err)
		}
	}
	for _, i := range indexed {
		f.index(i)
	}
	for i := range f.docs {
		f.refreshSummary(int32(i))
	}
	return f, nil
}

// listingRow is one matching listing: a doc and one of its declarations.
type listingRow struct {
	doc, decl int32
	score     float64 // the bm25() value, for SortRelevance
}

// page answers the first step of a listing query (see
// DB.Listings) from the index: the keys of the page after the cursor, up to
// limit of them, and the number of every matching listing. It reports
// false, for the query to run in SQL, when the index does not mirror the
// listings checkpoint position or the cursor's key is not of the order's
// type.
func (idx *searchIndex) page(q ListingQuery, terms []searchTerm, sortName string, after *cursorKey, limit int, position int64) ([]pageKey, int64, bool) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	f, ok := idx.at(position)
	if !ok {
		return nil, 0, false
	}
	var cursor *cursorRow
	if after != nil {
		var ok bool
		if cursor, ok = after.row(sortName); !ok {
			return nil, 0, false
		}
	}
	m := f.newMatcher(terms, &idx.scratch)
	defer m.release(&idx.scratch)
	if cursor != nil && sortName == SortRelevance {
		if doc, ok := f.patentIDs[cursor.number]; ok && m.holds(doc) {
			cursor.score = m.score(f, doc) // its score now: see currentScore
		}
	}
	order := rowOrder(f, sortName)
	patentee, known := f.orgIDs[q.PatenteeID]
	if !known {
		patentee = -1 // matches no patentee
	}
	scan := &listingScan{f: f, q: q, patentee: patentee, inRegion: f.inRegion(q), m: m, sortName: sortName, cursor: cursor, limit: limit, today: dayNumber(q.Today),
		plain: q.Kind == "" && q.PatenteeID == "" && q.Region == "" && q.FeeMode == "" && q.MaxFeeFen == nil,
		order: order, best: &rowHeap{worse: func(a, b listingRow) bool { return order(b, a) }}}
	m.each(len(f.docs), scan.visit)
	return scan.keys(), scan.total, true
}

// listingScan collects the matching listings of a query, doc by doc: their
// number and the best limit of them after the cursor.
type listingScan struct {
	f        *searchFacts
	q        ListingQuery
	patentee int32  // the index of q.PatenteeID's organisation, -1 when unknown
	inRegion []bool // by organisation index: in q.Region; nil without a region filter
	m        *matcher
	sortName string
	cursor   *cursorRow // nil on the first page
	limit    int
	today    int32 // q.Today's day number
	plain    bool  // the query has no filter but the date
	order    func(a, b listingRow) bool
	best     *rowHeap
	total    int64
}

// visit adds the listings of a doc that holds every term.
func (s *listingScan) visit(doc int32) {
	score := math.NaN() // computed once a declaration of doc passes
	sm := &s.f.summaries[doc]
	if !sm.mayListOn(s.today) {
		return
	}
	if s.plain && sm.decls == 1 {
		if active, known := sm.activeOn(s.today); known {
			if active {
				s.add(doc, 0, &score) // its one declaration is in effect: mayListOn
			}
			return
		}
	}
	d := &s.f.docs[doc]
	if !s.docPasses(d) || !d.activeOn(s.today) {
		return
	}
	for j := range d.decls {
		if declPasses(&d.decls[j], s.q, s.today) {
			s.add(doc, int32(j), &score)
		}
	}
}

// add counts a listing and keeps it if it is among the best after the
// cursor; score is the doc's, NaN until computed.
func (s *listingScan) add(doc, decl int32, score *float64) {
	s.total++
	row := listingRow{doc: doc, decl: decl}
	if s.sortName == SortRelevance {
		if math.IsNaN(*score) {
			*score = s.m.score(s.f, doc)
		}
		row.score = *score
	}
	if s.cursor == nil || s.cursor.precedes(s.f, s.sortName, row) {
		s.best.offer(row, s.limit)
	}
}

// keys returns the keys of the listings kept, in order.
func (s *listingScan) keys() []pageKey {
	var keys []pageKey
	for _, r := range s.best.sorted(s.order) {
		d := &s.f.docs[r.doc]
		keys = append(keys, pageKey{sortKey: rowSortKey(d, r, s.sortName), number: d.number, declarationID: d.decls[r.decl].id})
	}
	return keys
}

// inRegion returns, for a query with a region filter, which organisations
// (by index) are in the region; nil for a query without one.
func (f *searchFacts) inRegion(q ListingQuery) []bool {
	if q.Region == "" {
		return nil
	}
	in := make([]bool, len(f.orgRegions))
	for i, region := range f.orgRegions {
		in[i] = inPrefixRange(region, q.Region)
	}
	return in
}

// docPasses applies the filters of the query that concern the patent, as
// the SQL does: one patentee is the one asked for, and one (the same or
// another) is in the region.
func (s *listingScan) docPasses(d *searchDoc) bool {
	switch {
	case len(d.decls) == 0 || (s.q.Kind != "" && d.kind != s.q.Kind):
		return false
	case s.q.PatenteeID != "" && !slices.Contains(d.patentees, s.patentee):
		return false
	}
	return s.inRegion == nil || slices.ContainsFunc(d.patentees, func(o int32) bool { return s.inRegion[o] })
}

// declPasses applies the filters of a query that concern the declaration:
// in effect on today (q.Today's day number), fee mode and fee.
func declPasses(d *searchDecl, q ListingQuery, today int32) bool {
	switch {
	case d.declaredOn > today || d.lastDay < today:
		return false
	case q.FeeMode != "" && d.feeMode != string(q.FeeMode):
		return false
	case q.MaxFeeFen != nil && d.feeFen > int64(*q.MaxFeeFen):
		return false
	}
	return true
}

// rowOrder returns the order of sortName as "a comes before b": its key,
// then the patent number.
func rowOrder(f *searchFacts, sortName string) func(a, b listingRow) bool {
	return func(a, b listingRow) bool {
		da, db := &f.docs[a.doc], &f.docs[b.doc]
		switch sortName {
		case SortRelevance:
			if a.score != b.score {
				return a.score < b.score
			}
		case SortNewest:
			if x, y := da.decls[a.decl].declaredOn, db.decls[b.decl].declaredOn; x != y {
				return x > y
			}
		case SortFee:
			if x, y := da.decls[a.decl].feeFen, db.decls[b.decl].feeFen; x != y {
				return x < y
			}
		}
		return da.number < db.number
	}
}

// rowSortKey returns the sort key of a row as keyString formats it.
func rowSortKey(d *searchDoc, r listingRow, sortName string) string {
	switch sortName {
	case SortRelevance:
		return keyString(r.score)
	case SortFee:
		return keyString(d.decls[r.decl].feeFen)
	}
	return keyString(epoch.AddDays(int(d.decls[r.decl].declaredOn)).String())
}

// cursorKey is a decoded cursor: the sort key and number of the last
// listing of the previous page.
type cursorKey struct {
	key    any
	number string
}

// cursorRow is a cursor's key in the form of the index: a score, a fee or
// a day number.
type cursorRow struct {
	score  float64
	fee    int64
	day    int32
	number string
}

// row returns the cursor's key in the form of the index, and false when the
// key is not of the order's type (the SQL query then compares it as SQLite
// does).
func (c *cursorKey) row(sortName string) (*cursorRow, bool) {
	r := &cursorRow{number: c.number}
	switch k := c.key.(type) {
	case float64:
		r.score = k
		return r, sortName == SortRelevance
	case int64:
		r.fee = k
		return r, sortName == SortFee
	case string:
		d, err := domain.ParseDate(k)
		r.day = dayNumber(d)
		return r, sortName == SortNewest && err == nil
	}
	return nil, false
}

// precedes reports whether the cursor's listing sorts before row r, as
// the order's condition in listingOrders decides.
func (c *cursorRow) precedes(f *searchFacts, sortName string, r listingRow) bool {
	d := &f.docs[r.doc]
	switch sortName {
	case SortRelevance:
		return r.score > c.score || (r.score == c.score && d.number > c.number)
	case SortFee:
		fee := d.decls[r.decl].feeFen
		return fee > c.fee || (fee == c.fee && d.number > c.number)
	}
	on := d.decls[r.decl].declaredOn
	return on < c.day || (on == c.day && d.number > c.number)
}

// matcher finds the docs that hold every term of a search and scores them
// with FTS5's bm25().
type matcher struct {
	terms []matcherTerm
	avgdl float64
}

// matcherTerm is a search term with the docs holding it, the weighted
// frequency of the term in each doc (0 for the others) and its IDF;
// scratch holds hits and weight, and goes back to the pool on release.
type matcherTerm struct {
	hits     []int32
	weight   []uint16 // by doc
	idf      float64
	unscored bool // a filter's term (searchTerm.unscored)
	scratch  *termScratch
}

func (f *searchFacts) newMatcher(terms []searchTerm, scratch *scratchPool[termScratch]) *matcher {
	m := &matcher{}
	if f.rows > 0 {
		m.avgdl = float64(f.size) / float64(f.rows)
	}
	for _, t := range terms {
		s := scratch.get()
		if len(s.weight) < len(f.docs) {
			s.weight = make([]uint16, len(f.docs)+len(f.docs)/8)
		}
		hits, weight := f.hits(t, s.hits[:0], s.weight)
		// IDF = log((N - nHit + 0.5) / (nHit + 0.5)), at least 1e-6, as
		// fts5_aux.c computes it, with the log of the C library SQLite is
		// built with here (musl's on Linux, which can differ from
		// math.Log in the last bit).
		idf := libc.Xlog(nil, (float64(f.rows-int64(len(hits)))+0.5)/(float64(len(hits))+0.5))
		if idf <= 0 {
			idf = 1e-06
		}
		s.hits, s.weight = hits, weight
		m.terms = append(m.terms, matcherTerm{hits: hits, weight: weight, idf: idf, unscored: t.unscored, scratch: s})
		if len(hits) == 0 {
			break // no doc holds every term: the others need not be looked up
		}
	}
	return m
}

// release zeroes the terms' memory and gives it back to scratch.
func (m *matcher) release(scratch *scratchPool[termScratch]) {
	for _, t := range m.terms {
		for _, doc := range t.hits {
			t.weight[doc] = 0
		}
		scratch.put(t.scratch)
	}
}

// holds reports whether doc holds every term of a search with terms.
func (m *matcher) holds(doc int32) bool {
	return len(m.terms) > 0 && !slices.ContainsFunc(m.terms, func(t matcherTerm) bool { return t.weight[doc] == 0 })
}

// each calls fn for every doc that holds every term, or for all n docs
// when there are no terms.
func (m *matcher) each(n int, fn func(doc int32)) {
	if len(m.terms) == 0 {
		for doc := range int32(n) {
			fn(doc)
		}
		return
	}
	rarest := slices.MinFunc(m.terms, func(a, b matcherTerm) int { return len(a.hits) - len(b.hits) })
	for _, doc := range rarest.hits {
		if m.holds(doc) {
			fn(doc)
		}
	}
}

// hits appends to hits the indexed docs that hold a term in its columns,
// in no particular order, and adds to weight (all 0, one per doc) the
// term's weighted frequency in every doc.
func (f *searchFacts) hits(t searchTerm, hits []int32, weight []uint16) ([]int32, []uint16) {
	postings, weights := f.postings, f.weights
	if t.codesOnly {
		postings, weights = f.codePostings, f.codeWeights
	}
	add := func(doc int32, w uint16) {
		if weight[doc] == 0 {
			hits = append(hits, doc)
		}
		weight[doc] += w
	}
	switch {
	case t.prefix:
		for tok, id := range f.vocab {
			if strings.HasPrefix(tok, t.tokens[0]) {
				for k, doc := range postings[id] {
					add(doc, weights[id][k])
				}
			}
		}
	case len(t.tokens) == 1:
		if id, ok := f.vocab[t.tokens[0]]; ok {
			for k, doc := range postings[id] {
				add(doc, weights[id][k])
			}
		}
	default:
		ids := make([]int32, len(t.tokens))
		for i, tok := range t.tokens {
			id, ok := f.vocab[tok]
			if !ok {
				return hits, weight
			}
			ids[i] = id
		}
		rarest := slices.MinFunc(ids, func(a, b int32) int { return len(postings[a]) - len(postings[b]) })
		for _, doc := range postings[rarest] {
			if w := f.phraseWeight(&f.docs[doc], ids, t.codesOnly); w > 0 {
				add(doc, w)
			}
		}
	}
	return hits, weight
}

// score computes bm25(lst_search, 4.0, 1.0, 2.0) of a doc, in the order of
// operations of fts5_aux.c's fts5Bm25Function, so that the result equals
// SQLite's to the last bit.
func (m *matcher) score(f *searchFacts, doc int32) float64 {
	k1, b := float64(1.2), float64(0.75)
	D := float64(f.summaries[doc].length)
	score := float64(0)
	for _, t := range m.terms {
		if t.unscored {
			continue
		}
		freq := float64(t.weight[doc])
		score = score + float64(t.idf*(float64(freq*(k1+1))/(freq+float64(k1*(1-b+float64(b*D)/m.avgdl)))))
	}
	return float64(-1 * score)
}

// phraseWeight sums the column weights of every place where the phrase of
// token IDs occurs in a doc (in the codes only, with codesOnly).
func (f *searchFacts) phraseWeight(d *searchDoc, ids []int32, codesOnly bool) uint16 {
	var w uint16
	start := d.start
	for c, end := range d.ends {
		if !codesOnly || c == searchColumns-1 {
			col := f.tokens[start:end]
			for p := 0; p+len(ids) <= len(col); p++ {
				if slices.Equal(col[p:p+len(ids)], ids) {
					w += uint16(columnWeights[c])
				}
			}
		}
		start = end
	}
	return w
}

// rowHeap keeps the best rows offered, up to a limit, with the worst on
// top.
type rowHeap struct {
	rows  []listingRow
	worse func(a, b listingRow) bool
}

func (h *rowHeap) Len() int           { return len(h.rows) }
func (h *rowHeap) Less(i, j int) bool { return h.worse(h.rows[i], h.rows[j]) }
func (h *rowHeap) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *rowHeap) Push(x any)         { h.rows = append(h.rows, x.(listingRow)) }
func (h *rowHeap) Pop() any {
	last := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return last
}

// offer keeps r if it is among the best limit rows so far.
func (h *rowHeap) offer(r listingRow, limit int) {
	switch {
	case len(h.rows) < limit:
		heap.Push(h, r)
	case h.worse(h.rows[0], r):
		h.rows[0] = r
		heap.Fix(h, 0)
	}
}

// sorted returns the rows kept, best first.
func (h *rowHeap) sorted(order func(a, b listingRow) bool) []listingRow {
	slices.SortFunc(h.rows, func(a, b listingRow) int {
		switch {
		case order(a, b):
			return -1
		case order(b, a):
			return 1
		}
		return 0
	})
	return h.rows
}
