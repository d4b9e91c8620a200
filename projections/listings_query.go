package projections

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// Listing sort orders.
const (
	SortRelevance = "relevance" // best BM25 match first; needs a query text
	SortNewest    = "newest"    // latest declaration first
	SortFee       = "fee"       // lowest fixed fee first
)

// Listing page sizes.
const (
	DefaultListingLimit = 20
	MaxListingLimit     = 100
)

// MaxSearchTerms bounds the different terms of a search text (words,
// runs of Chinese characters, IPC codes): every one is a pass over its
// postings, and 56 common words took a third of a second.
const MaxSearchTerms = 24

// ListingQuery selects listed patents: those with a declaration in effect
// on Today. Empty fields do not filter.
type ListingQuery struct {
	// Today is the business date that decides which declarations are in
	// effect.
	Today domain.Date
	// Text is the full-text query over titles, abstracts and IPC codes.
	Text string
	// IPCPrefix is a normalised IPC prefix (domain.NormalizeIPCPrefix).
	IPCPrefix string
	// Kind is the patent kind.
	Kind domain.PatentKind
	// PatenteeID is one of the patentees.
	PatenteeID string
	// Region is a prefix of a patentee's region code.
	Region string
	// FeeMode is the declaration's fee mode.
	FeeMode domain.FeeMode
	// MaxFeeFen, when not nil, bounds the fixed fee: the lump sum, every
	// instalment together, or the entry fee (free and royalty-only terms
	// count as 0).
	MaxFeeFen *domain.Fen
	// Sort is SortRelevance, SortNewest or SortFee; empty means relevance
	// when Text is given, else newest.
	Sort string
	// Limit is the page size, 1–MaxListingLimit; DefaultListingLimit when 0.
	Limit int
	// Cursor continues from the page that returned it.
	Cursor string
}

// ListingItem is one listed patent.
type ListingItem struct {
	Number string          `json:"number"`
	Title  string          `json:"title"`
	Kind   string          `json:"kind"`
	IPC    json.RawMessage `json:"ipc"`
	// Locarno is a design's Locarno class and subclass, "" for none.
	Locarno       string          `json:"locarno"`
	PatenteeIDs   json.RawMessage `json:"patentee_ids"`
	DeclarationID string          `json:"declaration_id"`
	Fee           json.RawMessage `json:"fee"`
	DeclaredOn    string          `json:"declared_on"`
	TermEndsOn    string          `json:"term_ends_on"`
	// WithdrawnOn is the day a recorded withdrawal of the declaration takes
	// effect, when that is within its term: the declaration is listed up to
	// the day before (licences taken until then stay valid, PL 50(2)).
	WithdrawnOn *string `json:"withdrawn_on"`
	// Licenses counts the open licences taken under the declaration.
	Licenses int64 `json:"licenses"`
	// PledgedWithoutConsent says that on the day asked the patent is
	// pledged and the pledgee has not consented to licensing: the
	// declaration is in effect, but no licence can be taken until the
	// pledgee consents or the pledge is released (pledged_without_consent).
	PledgedWithoutConsent bool `json:"pledged_without_consent"`
	// Suspended says that on the day asked a suspension of the patent is in
	// force (ownership dispute or court preservation, IR 103–104): no new
	// declaration can be filed while it lasts.
	Suspended bool `json:"suspended"`
	sortKey   string
}

// ListingPage is one page of listings.
type ListingPage struct {
	Items []ListingItem `json:"items"`
	// Total counts every listed patent the query matches.
	Total int64 `json:"total"`
	// NextCursor continues with the next page; null on the last one.
	NextCursor *string `json:"next_cursor"`
}

// listingOrder is how a sort order reads in SQL: by the key, then by
// number.
type listingOrder struct {
	key   string // the sort expression, selected as the item's sort key
	dir   string // ASC or DESC
	after string // condition for rows after a cursor (key, key, number)
}

var listingOrders = map[string]listingOrder{
	SortRelevance: {key: "bm25(lst_search, 4.0, 1.0, 2.0)", dir: "ASC",
		after: "(bm25(lst_search, 4.0, 1.0, 2.0) > ? OR (bm25(lst_search, 4.0, 1.0, 2.0) = ? AND p.number > ?))"},
	SortNewest: {key: "d.declared_on", dir: "DESC", after: "(d.declared_on < ? OR (d.declared_on = ? AND p.number > ?))"},
	SortFee:    {key: "d.fee_fen", dir: "ASC", after: "(d.fee_fen > ? OR (d.fee_fen = ? AND p.number > ?))"},
}

// listingColumns are the columns of a listing that readListings reads.
const listingColumns = `p.number, p.title, p.kind, p.ipc, p.locarno, p.patentee_ids, d.declaration_id, d.fee,
	d.declared_on, d.term_ends_on, CASE WHEN d.last_day < d.term_ends_on THEN date(d.last_day, '+1 day') END,
	d.licenses, EXISTS (SELECT 1 FROM lst_pledges pl WHERE pl.number = p.number
		AND pl.registered_on <= ?1 AND (pl.released_on IS NULL OR pl.released_on > ?1)
		AND (pl.consented_on IS NULL OR pl.consented_on > ?1)),
	COALESCE((SELECT s.suspended FROM lst_suspensions s WHERE s.number = p.number AND s.effective_on <= ?1
		ORDER BY s.effective_on DESC, s.seq DESC LIMIT 1), 0)`

// Listings returns a page of listed patents. It returns an invalid_argument
// *domain.Error naming the fields at fault (see Check).
func (db *DB) Listings(ctx context.Context, q ListingQuery) (_ ListingPage, err error) {
	defer db.queryFailure(&err)
	sortName, terms, after, err := q.plan()
	if err != nil {
		return ListingPage{}, err
	}
	limit := cmp.Or(q.Limit, DefaultListingLimit)
	read, err := db.readStmt(ctx, readListingsQuery)
	if err != nil {
		return ListingPage{}, fmt.Errorf("read listings: %w", err)
	}
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return ListingPage{}, err
	}
	defer tx.Rollback()
	var page ListingPage
	keys, total, ok := db.listingKeysInMemory(ctx, tx, q, terms, sortName, after, limit+1)
	if !ok {
		if sortName == SortRelevance && after != nil {
			if after.key, err = currentScore(ctx, tx, terms, after); err != nil {
				return ListingPage{}, err
			}
		}
		if keys, total, err = listingKeysInSQL(ctx, tx, q, terms, sortName, after, limit+1); err != nil {
			return ListingPage{}, err
		}
	}
	if page.Items, err = readListings(ctx, tx.StmtContext(ctx, read), keys, q.Today); err != nil {
		return ListingPage{}, err
	}
	page.Total = total
	if len(page.Items) > limit {
		last := page.Items[limit-1]
		next := encodeCursor(sortName, q.filterDigest(), last.sortKey, last.Number)
		page.Items, page.NextCursor = page.Items[:limit], &next
	}
	return page, nil
}

// currentScore returns the relevance score that the patent a relevance
// cursor continues after has now, in the snapshot tx reads (the search
// index computes it itself, see searchIndex.page). Scores move
// whenever patents join the search index (BM25 weighs a term by the
// index's statistics), so the score a page ended on is no longer that of
// its last listing once the ledger has grown: continuing after the
// listing's current score keeps the pages of a search from repeating or
// skipping listings meanwhile. It returns the cursor's own score for a
// patent the search does not find, which only a made-up cursor names.
func currentScore(ctx context.Context, tx *sql.Tx, terms []searchTerm, after *cursorKey) (any, error) {
	scored, _ := scoredApart(terms) // as listingKeysInSQL ranks: a filter's terms count for nothing
	var score float64
	err := tx.QueryRowContext(ctx, "SELECT "+listingOrders[SortRelevance].key+
		" FROM lst_search WHERE lst_search MATCH ? AND rowid = (SELECT id FROM lst_patents WHERE number = ?)",
		matchExpression(scored), after.number).Scan(&score)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return after.key, nil
	case err != nil:
		return nil, fmt.Errorf("score of the cursor's listing: %w", err)
	}
	return score, nil
}

// listingKeysInMemory answers the first step of a listing query from the
// search index, when it mirrors the listings checkpoint that tx reads.
func (db *DB) listingKeysInMemory(ctx context.Context, tx *sql.Tx, q ListingQuery, terms []searchTerm, sortName string,
	after *cursorKey, limit int) ([]pageKey, int64, bool) {
	position, err := readCheckpoint(ctx, tx, ListingsName)
	if err != nil {
		return nil, 0, false
	}
	return db.search.page(q, terms, sortName, after, limit, position)
}

// listingKeysInSQL answers the first step of a listing query from the
// tables: the keys of up to limit listings after the cursor, in order, and
// the number of every match.
func listingKeysInSQL(ctx context.Context, tx *sql.Tx, q ListingQuery, terms []searchTerm, sortName string,
	after *cursorKey, limit int) ([]pageKey, int64, error) {
	order := listingOrders[sortName]
	// bm25() scores every phrase of the MATCH: a filter's terms are matched
	// apart, unless there is no other term to match.
	scored, filters := scoredApart(terms)
	match, filter := matchExpression(scored), matchExpression(filters)
	if match == "" {
		match, filter = filter, ""
	}
	from, args := q.fromWhere(match, filter)
	pageFrom, pageArgs := from, args
	if after != nil {
		pageFrom += " AND " + order.after
		pageArgs = append(slices.Clip(args), after.key, after.key, after.number)
	}
	// The query sorts only the keys of the matches; DB.Listings reads the
	// listings of the page afterwards, so that no other column of a match
	// off the page is read. Its window counts every row before the LIMIT:
	// on the first page that is the total, which spares a second pass over
	// the matches. (FTS5's bm25 cannot share a query with a window, hence
	// the subquery.)
	query := "SELECT sort_key, number, declaration_id, COUNT(*) OVER () FROM (SELECT " + order.key +
		" AS sort_key, p.number AS number, d.declaration_id AS declaration_id" + pageFrom +
		") ORDER BY sort_key " + order.dir + ", number ASC LIMIT ?"
	keys, total, err := scanPageKeys(ctx, tx, query, append(pageArgs, limit)...)
	if err != nil || after == nil {
		return keys, total, err
	}
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*)"+from, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count listings: %w", err)
	}
	return keys, total, nil
}

// Check returns nil when q can be answered, else an invalid_argument
// *domain.Error naming every field at fault: a query text with nothing to
// search, an unknown order, relevance without a text, a limit out of
// bounds, an IPC prefix not normalised, a cursor of another order, q or filter.
func (q ListingQuery) Check() error {
	_, _, _, err := q.plan()
	return err
}

// plan checks the query and returns its sort order, its search terms (the
// text's terms and, for an IPC filter, a term on the codes, so that the
// index intersects both) and where its cursor continues, nil without one.
func (q ListingQuery) plan() (sortName string, terms []searchTerm, after *cursorKey, err error) {
	var fe domain.FieldErrors
	if q.Text != "" {
		switch terms = queryTerms(q.Text); {
		case len(terms) == 0:
			fe.Addf("q", "holds no letters, digits or Chinese characters to search for")
		case len(terms) > MaxSearchTerms:
			fe.Addf("q", "has %d different words, Chinese runs and IPC codes; at most %d", len(terms), MaxSearchTerms)
		}
	}
	sortName = q.Sort
	if sortName == "" {
		sortName = SortNewest
		if len(terms) > 0 {
			sortName = SortRelevance
		}
	}
	_, known := listingOrders[sortName]
	switch {
	case !known:
		fe.Addf("sort", "unknown order %s; want relevance, newest or fee", domain.Quote(sortName))
	case sortName == SortRelevance && q.Text == "":
		fe.Addf("sort", "relevance needs a search text in q")
	case q.Cursor != "":
		if key, number, err := decodeCursor(q.Cursor, sortName, q.filterDigest()); err != nil {
			fe.Add("cursor", err)
		} else {
			after = &cursorKey{key: key, number: number}
		}
	}
	if q.Limit < 0 || q.Limit > MaxListingLimit {
		fe.Addf("limit", "must be from 1 to %d", MaxListingLimit)
	}
	if q.IPCPrefix != "" {
		if normal, err := domain.NormalizeIPCPrefix(q.IPCPrefix); err != nil || normal != q.IPCPrefix {
			fe.Addf("ipc", "%s is not a normalised IPC prefix such as H01M or H01M 10/05", domain.Quote(q.IPCPrefix))
		}
		terms = append(terms, ipcTerm(q.IPCPrefix))
	}
	return sortName, terms, after, fe.Err()
}

// activeOn is the condition that patent p is active on the day of its
// argument: its last status change effective by then, if any, made it
// active (the later recorded of two on one day wins).
const activeOn = `COALESCE((SELECT s.active FROM lst_patent_status s WHERE s.number = p.number AND s.effective_on <= ?
	ORDER BY s.effective_on DESC, s.seq DESC LIMIT 1), 1)`

// fromWhere returns the FROM and WHERE clauses of the query and their
// arguments: match is the FTS5 expression the listings must match and
// rank by, filter one they must match too without it counting in their
// rank ("" for none).
func (q ListingQuery) fromWhere(match, filter string) (string, []any) {
	today := q.Today.String()
	var b strings.Builder
	args := []any{today, today, today}
	if match != "" {
		b.WriteString(" FROM lst_search JOIN lst_patents p ON p.id = lst_search.rowid JOIN lst_declarations d ON d.number = p.number")
	} else {
		b.WriteString(" FROM lst_declarations d JOIN lst_patents p ON p.number = d.number")
	}
	b.WriteString(" WHERE d.declared_on <= ? AND d.last_day >= ? AND " + activeOn)
	add := func(cond string, a ...any) {
		b.WriteString(" AND " + cond)
		args = append(args, a...)
	}
	if match != "" {
		add("lst_search MATCH ?", match)
	}
	if filter != "" {
		// The unary + keeps the rowid from being offered to FTS5 as a
		// constraint: the search is driven by match, and the filter's rows
		// are read once, not the filter's search run again for every row.
		add("+lst_search.rowid IN (SELECT rowid FROM lst_search WHERE lst_search MATCH ?)", filter)
	}
	if q.Kind != "" {
		add("p.kind = ?", string(q.Kind))
	}
	if q.PatenteeID != "" {
		add("EXISTS (SELECT 1 FROM lst_patentees x WHERE x.number = p.number AND x.org_id = ?)", q.PatenteeID)
	}
	if q.Region != "" {
		lo, hi := prefixRange(q.Region)
		add(`EXISTS (SELECT 1 FROM lst_patentees x JOIN lst_orgs o ON o.id = x.org_id
			WHERE x.number = p.number AND o.region >= ? AND o.region < ?)`, lo, hi)
	}
	if q.FeeMode != "" {
		add("d.fee_mode = ?", string(q.FeeMode))
	}
	if q.MaxFeeFen != nil {
		add("d.fee_fen <= ?", int64(*q.MaxFeeFen))
	}
	return b.String(), args
}

// pageKey is a listing of a page: its sort key, patent and declaration.
type pageKey struct {
	sortKey, number, declarationID string
}

// scanPageKeys runs a query of (sort key, number, declaration ID, number
// of rows before the LIMIT) and returns the keys and that number.
func scanPageKeys(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]pageKey, int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("query listings: %w", err)
	}
	defer rows.Close()
	var keys []pageKey
	var count int64
	for rows.Next() {
		var k pageKey
		var key any
		if err := rows.Scan(&key, &k.number, &k.declarationID, &count); err != nil {
			return nil, 0, err
		}
		k.sortKey = keyString(key)
		keys = append(keys, k)
	}
	return keys, count, rows.Err()
}

// readListingsQuery reads the listings whose keys ?2 holds, as a JSON array
// of [number, declaration ID] pairs: one text for every page, so that it
// is prepared once per connection (DB.readStmt).
const readListingsQuery = "SELECT " + listingColumns + ` FROM json_each(?2) k
	JOIN lst_declarations d ON d.number = k.value->>0 AND d.declaration_id = k.value->>1
	JOIN lst_patents p ON p.number = d.number`

// readListings reads the listings of keys, in their order, with stmt, the
// statement of readListingsQuery.
func readListings(ctx context.Context, stmt *sql.Stmt, keys []pageKey, today domain.Date) ([]ListingItem, error) {
	items := make([]ListingItem, 0, len(keys))
	if len(keys) == 0 {
		return items, nil
	}
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.number, k.declarationID}
	}
	keysJSON, err := json.Marshal(pairs)
	if err != nil {
		return nil, err
	}
	rows, err := stmt.QueryContext(ctx, today.String(), string(keysJSON))
	if err != nil {
		return nil, fmt.Errorf("read listings: %w", err)
	}
	defer rows.Close()
	byKey := make(map[[2]string]ListingItem, len(keys))
	for rows.Next() {
		var it ListingItem
		var ipc, patentees, fee string
		if err := rows.Scan(&it.Number, &it.Title, &it.Kind, &ipc, &it.Locarno, &patentees, &it.DeclarationID, &fee,
			&it.DeclaredOn, &it.TermEndsOn, &it.WithdrawnOn, &it.Licenses, &it.PledgedWithoutConsent, &it.Suspended); err != nil {
			return nil, err
		}
		it.IPC, it.PatenteeIDs, it.Fee = json.RawMessage(ipc), json.RawMessage(patentees), json.RawMessage(fee)
		byKey[[2]string{it.Number, it.DeclarationID}] = it
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, k := range keys {
		it, ok := byKey[[2]string{k.number, k.declarationID}]
		if !ok {
			return nil, fmt.Errorf("read listings: %s declaration %s vanished", k.number, k.declarationID)
		}
		it.sortKey = k.sortKey
		items = append(items, it)
	}
	return items, nil
}

// keyString formats a sort key so that parsing it back gives the same value.
func keyString(key any) string {
	switch k := key.(type) {
	case float64:
		return "f" + strconv.FormatFloat(k, 'g', -1, 64)
	case int64:
		return "i" + strconv.FormatInt(k, 10)
	}
	return fmt.Sprintf("s%v", key)
}

// cursor is the decoded form of a listing cursor: the order and the
// filters of the listing it continues (see filterDigest), and the sort key
// and number of the last listing of the page that returned it.
type cursor struct {
	Sort    string `json:"s"`
	Filters string `json:"f"`
	Key     string `json:"k"`
	Number  string `json:"n"`
}

func encodeCursor(sortName, filters, key, number string) string {
	data, _ := json.Marshal(cursor{Sort: sortName, Filters: filters, Key: key, Number: number}) // cannot fail: strings only
	return base64.RawURLEncoding.EncodeToString(data)
}

// filterDigest returns a digest of what selects the listings of q: its
// search terms (as they are searched, so "LED" and "led " are one search)
// and its filters; not its order, page size or day. A cursor carries it, so
// that it continues only the listing that returned it: with another q or
// filter it would skip or repeat listings silently.
func (q ListingQuery) filterDigest() string {
	maxFee := ""
	if q.MaxFeeFen != nil {
		maxFee = strconv.FormatInt(int64(*q.MaxFeeFen), 10)
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{MatchExpression(q.Text), q.IPCPrefix, string(q.Kind), q.PatenteeID,
		q.Region, string(q.FeeMode), maxFee}, "\x00")))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// decodeCursor returns the sort key and number a cursor continues after,
// when it continues a listing of order sortName and filters (filterDigest).
func decodeCursor(s, sortName, filters string) (any, string, error) {
	bad := domain.Invalid("cursor", "is not a cursor of this listing order; start again without it")
	data, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err != nil || json.Unmarshal(data, &c) != nil || c.Sort != sortName || len(c.Key) < 1 {
		return nil, "", bad
	}
	if c.Filters == "" {
		return nil, "", domain.Invalid("cursor", "was made by an earlier version of the server, whose cursors this one cannot continue; "+
			"start again without it")
	}
	if c.Filters != filters {
		return nil, "", domain.Invalid("cursor", "continues a listing with another q or other filters; "+
			"keep them as they were, or start again without the cursor")
	}
	if number, err := domain.ParsePatentNumber(c.Number); err != nil || string(number) != c.Number {
		return nil, "", bad
	}
	key, err := parseCursorKey(c.Key, sortName)
	if err != nil {
		return nil, "", bad
	}
	return key, c.Number, nil
}

// parseCursorKey parses the sort key of a cursor of order sortName, as
// keyString wrote it: a relevance score (f), a fee in fen (i) or a
// declaration date (s).
func parseCursorKey(key, sortName string) (any, error) {
	raw := key[1:]
	switch {
	case sortName == SortRelevance && key[0] == 'f':
		// Only a score as keyString writes it: ParseFloat also reads NaN,
		// Inf, hex and 1_0, which no listing's score is or is written as.
		score, err := strconv.ParseFloat(raw, 64)
		if err != nil || strconv.FormatFloat(score, 'g', -1, 64) != raw || math.IsNaN(score) || math.IsInf(score, 0) {
			return nil, fmt.Errorf("a key %s is no relevance score", domain.Quote(key))
		}
		return score, nil
	case sortName == SortFee && key[0] == 'i':
		return strconv.ParseInt(raw, 10, 64)
	case sortName == SortNewest && key[0] == 's':
		if _, err := domain.ParseDate(raw); err != nil {
			return nil, err
		}
		return raw, nil
	}
	return nil, fmt.Errorf("a key %s does not continue the order %s", domain.Quote(key), sortName)
}

// prefixRange returns the bounds of the strings that start with prefix,
// for codes of ASCII letters, digits and '/': [prefix, prefix + "~").
func prefixRange(prefix string) (string, string) { return prefix, prefix + "~" }
