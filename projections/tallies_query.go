package projections

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// Tally subjects: what GET /v1/tallies/{subject} counts.
const (
	Deals        = "deals"
	Declarations = "declarations"
	Pledges      = "pledges"
	Transfers    = "transfers"
	Reviews      = "reviews"
)

// TallyQuery asks for one tally. Empty filters do not filter; a filter that
// does not apply to the subject is refused.
type TallyQuery struct {
	// Subject is Deals, Declarations, Pledges, Transfers or Reviews.
	Subject string
	// Period is the bucket length.
	Period Period
	// From and To are the first and last business dates counted.
	From, To domain.Date
	// Type is the licence type (deals only).
	Type domain.LicenseType
	// PatenteeID is a patentee of the fact: a licensor of a deal, a
	// declaring patentee, the pledgor, an assignor, the reviewer.
	PatenteeID string
	// LicenseeID is the licensee of a deal or an assignee of a transfer.
	LicenseeID string
	// Region is a prefix of the region code of one of the fact's patentees.
	Region string
	// IPCPrefix is a normalised IPC prefix (domain.NormalizeIPCPrefix) of
	// one of the fact's patents.
	IPCPrefix string
	// Kind is the kind of one of the fact's patents.
	Kind domain.PatentKind
	// SME, when not nil, is whether the licensee (deals) or an assignee
	// (transfers) is an SME.
	SME *bool
	// Campaign is the review campaign (reviews only).
	Campaign string
}

// Tally is the answer to a TallyQuery: one bucket per period from From to
// To, zeros included, and the total. Columns name the values of each
// bucket; a dotted name ("by_grade.high") nests in JSON.
type Tally struct {
	Subject  string
	Period   Period
	From, To domain.Date
	Columns  []string
	Buckets  []Bucket
	Total    Bucket
}

// Bucket is one period's figures, in the order of the tally's Columns.
type Bucket struct {
	Label  string
	Values []int64
}

// subject describes how a tally subject's facts are stored and filtered.
// Its SQL fragments use the fact's alias and p for a patent row.
type subject struct {
	table          string // the facts, with their alias
	patents        string // condition tying p.number to the fact's patents
	patentees      string // SELECT of the fact's patentees
	counterparties string // SELECT of the licensee or assignees; "" for none
	typeColumn     string // the licence type; "" when the subject has none
	period         Period // the only period of the subject's buckets; "" for any
	campaignColumn string // the review campaign; "" when none
	columns        []string
	compute        func(t *tallier) error
}

var subjects = map[string]subject{
	Deals: {table: "tly_licenses l", patents: "p.number = l.number",
		patentees:      "SELECT x.org_id FROM tly_license_orgs x WHERE x.license_id = l.license_id",
		counterparties: "SELECT l.licensee_id", typeColumn: "l.type",
		columns: []string{"deals", "licensees", "patents", "fees_fen"}, compute: (*tallier).deals},
	Declarations: {table: "tly_declarations d", patents: "p.number = d.number",
		patentees: "SELECT x.org_id FROM tly_declaration_orgs x WHERE x.declaration_id = d.declaration_id",
		columns:   []string{"declared", "withdrawn", "in_effect_at_end"}, compute: (*tallier).declarations},
	Pledges: {table: "tly_pledges g",
		patents:   "p.number IN (SELECT pp.number FROM tly_pledge_patents pp WHERE pp.pledge_id = g.pledge_id)",
		patentees: "SELECT g.pledgor_id",
		columns:   []string{"registered", "released", "secured_fen", "in_force_at_end"}, compute: (*tallier).pledges},
	Transfers: {table: "tly_transfers t", patents: "p.number = t.number",
		patentees:      "SELECT x.org_id FROM tly_transfer_orgs x WHERE x.transfer_id = t.transfer_id AND x.role = 'from'",
		counterparties: "SELECT x.org_id FROM tly_transfer_orgs x WHERE x.transfer_id = t.transfer_id AND x.role = 'to'",
		columns:        []string{"transfers", "patents", "price_fen", "university_to_enterprise"}, compute: (*tallier).transfers},
	Reviews: {table: "tly_reviews r", patents: "p.number = r.number", patentees: "SELECT r.reviewer_id",
		campaignColumn: "r.campaign", columns: reviewColumns(), compute: (*tallier).reviews},
}

// Subjects lists the tally subjects.
var Subjects = []string{Deals, Declarations, Pledges, Transfers, Reviews}

func reviewColumns() []string {
	cols := []string{"reviewed"}
	for _, g := range domain.Grades {
		cols = append(cols, "by_grade."+string(g))
	}
	for _, d := range domain.Dispositions {
		cols = append(cols, "by_disposition."+string(d))
	}
	return cols
}

// Tally computes a tally. It returns an invalid_argument *domain.Error
// naming the query parameters at fault (see Check).
func (db *DB) Tally(ctx context.Context, q TallyQuery) (_ Tally, err error) {
	defer db.queryFailure(&err)
	s, where, args, spans, err := q.plan()
	if err != nil {
		return Tally{}, err
	}
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return Tally{}, err
	}
	defer tx.Rollback()
	if db.tallies.holds(q.Subject) {
		position, err := readCheckpoint(ctx, tx, TalliesName)
		if t := newTally(q, s, spans); err == nil && db.tallies.answer(q, spans, position, &t) {
			return t, nil
		}
	}
	return tallyInSQL(ctx, tx, q, s, spans, where, args)
}

// Check returns nil when q can be answered, else an invalid_argument
// *domain.Error naming every query parameter at fault, each once: an
// unknown subject or period, a missing date, a range ending before it
// starts or holding more than MaxBuckets buckets, a filter that does not
// apply to the subject.
func (q TallyQuery) Check() error {
	_, _, _, _, err := q.plan()
	return err
}

// plan checks q and returns its subject, the SQL conditions of its filters
// and their arguments, and its buckets.
func (q TallyQuery) plan() (s subject, where string, args []any, spans []span, err error) {
	s, ok := subjects[q.Subject]
	if !ok {
		return s, "", nil, nil, domain.Invalid("subject", "unknown tally %s", domain.Quote(q.Subject))
	}
	var fe domain.FieldErrors
	where, args, err = q.filters(s)
	fe.Add("", err)
	spans, err = q.spans()
	fe.AddUnreported(err)
	return s, where, args, spans, fe.Err()
}

// tallyInSQL computes a tally from the tables, in the read transaction tx.
func tallyInSQL(ctx context.Context, tx *sql.Tx, q TallyQuery, s subject, spans []span, where string, args []any) (Tally, error) {
	t := newTallier(ctx, tx, q, s, spans, where, args)
	if err := s.compute(t); err != nil {
		return Tally{}, fmt.Errorf("tally %s: %w", q.Subject, err)
	}
	return t.tally, nil
}

// spans checks the period and range and returns the buckets.
func (q TallyQuery) spans() ([]span, error) {
	var fe domain.FieldErrors
	if !slices.Contains(Periods, q.Period) {
		fe.Addf("period", "unknown period %s; want day, week, month, quarter or year", domain.Quote(string(q.Period)))
	}
	if q.From.IsZero() {
		fe.Addf("from", "is required (YYYY-MM-DD)")
	}
	if q.To.IsZero() {
		fe.Addf("to", "is required (YYYY-MM-DD)")
	}
	fe.AddUnreported(CheckRange(q.From, q.To))
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return q.Period.spans(q.From, q.To)
}

// CheckRange returns an invalid_argument *domain.Error naming "to" when
// both dates are given and to is before from.
func CheckRange(from, to domain.Date) error {
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return domain.Invalid("to", "%s is before from %s", to, from)
	}
	return nil
}

// filters checks that the query's period and filters apply to the subject
// and returns the SQL conditions (each starting with " AND ") of the
// filters and their arguments, or an error naming every one that does not
// apply.
func (q TallyQuery) filters(s subject) (string, []any, error) {
	var b strings.Builder
	var args []any
	var fe domain.FieldErrors
	add := func(cond string, a ...any) {
		b.WriteString(" AND " + cond)
		args = append(args, a...)
	}
	notFor := func(param string) {
		fe.Addf(param, "does not apply to the %s tally", q.Subject)
	}
	if s.period != "" && q.Period != s.period {
		fe.Addf("period", "the %s tally has %s buckets only; want period=%s", q.Subject, s.period, s.period)
	}
	switch {
	case q.Type == "":
	case s.typeColumn == "":
		notFor("type")
	default:
		add(s.typeColumn+" = ?", string(q.Type))
	}
	switch {
	case q.Campaign == "":
	case s.campaignColumn == "":
		notFor("campaign")
	default:
		add(s.campaignColumn+" = ?", q.Campaign)
	}
	if s.counterparties == "" {
		if q.LicenseeID != "" {
			notFor("licensee_id")
		}
		if q.SME != nil {
			notFor("sme")
		}
	}
	if q.LicenseeID != "" {
		add("? IN ("+s.counterparties+")", q.LicenseeID)
	}
	if q.SME != nil {
		add("EXISTS (SELECT 1 FROM tly_orgs o WHERE o.id IN ("+s.counterparties+") AND o.sme = ?)", *q.SME)
	}
	if q.PatenteeID != "" {
		add("? IN ("+s.patentees+")", q.PatenteeID)
	}
	if q.Region != "" {
		lo, hi := prefixRange(q.Region)
		add("EXISTS (SELECT 1 FROM tly_orgs o WHERE o.id IN ("+s.patentees+") AND o.region >= ? AND o.region < ?)", lo, hi)
	}
	if q.IPCPrefix != "" {
		lo, hi := prefixRange(compactIPC(q.IPCPrefix))
		add("EXISTS (SELECT 1 FROM tly_patent_ipc p WHERE "+s.patents+" AND p.code >= ? AND p.code < ?)", lo, hi)
	}
	if q.Kind != "" {
		add("EXISTS (SELECT 1 FROM tly_patents p WHERE "+s.patents+" AND p.kind = ?)", string(q.Kind))
	}
	if err := fe.Err(); err != nil {
		return "", nil, err
	}
	return b.String(), args, nil
}

// tallier computes one tally inside a read transaction.
type tallier struct {
	ctx      context.Context
	tx       *sql.Tx
	q        TallyQuery
	s        subject
	spans    []span
	byLabel  map[string]int
	where    string
	args     []any
	from, to string
	tally    Tally
}

func newTallier(ctx context.Context, tx *sql.Tx, q TallyQuery, s subject, spans []span, where string, args []any) *tallier {
	t := &tallier{ctx: ctx, tx: tx, q: q, s: s, spans: spans, byLabel: map[string]int{}, where: where, args: args,
		from: q.From.String(), to: q.To.String(), tally: newTally(q, s, spans)}
	for i, sp := range spans {
		t.byLabel[sp.label] = i
	}
	return t
}

// newTally returns the tally of q with its buckets, all zero.
func newTally(q TallyQuery, s subject, spans []span) Tally {
	t := Tally{Subject: q.Subject, Period: q.Period, From: q.From, To: q.To, Columns: s.columns,
		Buckets: make([]Bucket, len(spans)), Total: Bucket{Label: "total", Values: make([]int64, len(s.columns))}}
	for i, sp := range spans {
		t.Buckets[i] = Bucket{Label: sp.label, Values: make([]int64, len(s.columns))}
	}
	return t
}

func (t *tallier) deals() error {
	if err := t.dealCounts(); err != nil {
		return err
	}
	err := t.grouped("l.paid_on", "tly_payments l", "SUM(l.amount_fen)", 3)
	t.sumTotals(3)
	return err
}

// dealCounts counts the deals, distinct licensees and distinct patents of
// each bucket and of the whole range in one pass over the licences (SQL's
// COUNT(DISTINCT) would take a sort per count and another pass for the
// total).
func (t *tallier) dealCounts() error {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT l.effective_on, l.licensee_id, l.number FROM "+t.s.table+
		" WHERE l.effective_on BETWEEN ? AND ?"+t.where, t.rangeArgs()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	licensees, patents := make([]map[string]bool, len(t.spans)+1), make([]map[string]bool, len(t.spans)+1)
	bucketOf := map[string]int{} // date → bucket
	for rows.Next() {
		var on, licensee, number string
		if err := rows.Scan(&on, &licensee, &number); err != nil {
			return err
		}
		i, ok := bucketOf[on]
		if !ok {
			if i, err = t.bucketOfDate(on); err != nil {
				return err
			}
			bucketOf[on] = i
		}
		t.tally.Buckets[i].Values[0]++
		t.tally.Total.Values[0]++
		for _, j := range []int{i, len(t.spans)} {
			licensees[j], patents[j] = addTo(licensees[j], licensee), addTo(patents[j], number)
		}
	}
	for i := range t.tally.Buckets {
		t.tally.Buckets[i].Values[1], t.tally.Buckets[i].Values[2] = int64(len(licensees[i])), int64(len(patents[i]))
	}
	t.tally.Total.Values[1], t.tally.Total.Values[2] = int64(len(licensees[len(t.spans)])), int64(len(patents[len(t.spans)]))
	return rows.Err()
}

// addTo adds key to set, making the set when it is nil.
func addTo(set map[string]bool, key string) map[string]bool {
	if set == nil {
		set = map[string]bool{}
	}
	set[key] = true
	return set
}

// bucketOfDate returns the index of the bucket of a 'YYYY-MM-DD' date.
func (t *tallier) bucketOfDate(s string) (int, error) {
	d, err := domain.ParseDate(s)
	if err != nil {
		return 0, err
	}
	i, ok := t.byLabel[t.q.Period.Label(d)]
	if !ok {
		return 0, fmt.Errorf("date %s is outside %s..%s", s, t.from, t.to)
	}
	return i, nil
}

func (t *tallier) declarations() error {
	if err := t.grouped("d.declared_on", t.s.table, "COUNT(*)", 0); err != nil {
		return err
	}
	if err := t.grouped("d.withdrawn_on", t.s.table, "COUNT(*)", 1); err != nil {
		return err
	}
	t.sumTotals(0, 1)
	holes, err := t.declarationHoles()
	if err != nil {
		return err
	}
	return t.atEnd("d.declared_on", "d.stop_on", 2, holes...)
}

// declarationHoles returns, for the filtered declarations of patents whose
// status ever changed, the changes their inactive spells make to the
// number in effect (see patent_status.go): one fewer from the first day of
// a spell within the declaration's days, one more after its last.
func (t *tallier) declarationHoles() ([]dateCount, error) {
	spells, err := readInactiveSpells(t.ctx, t.tx)
	if err != nil || len(spells) == 0 {
		return nil, err
	}
	rows, err := t.tx.QueryContext(t.ctx, "SELECT d.number, d.declared_on, d.stop_on FROM "+t.s.table+
		" WHERE d.declared_on <= ? AND d.number IN (SELECT number FROM tly_patent_status)"+t.where, append([]any{t.to}, t.args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dateCount
	for rows.Next() {
		var number, declared, stop string
		if err := rows.Scan(&number, &declared, &stop); err != nil {
			return nil, err
		}
		days, err := parseDays(declared, stop)
		if err != nil {
			return nil, err
		}
		for _, h := range holes(nil, dayRange{first: days[0], last: days[1] - 1}, spells[number]) {
			out = append(out, dateCount{date: dayDate(h.first).String(), n: -1},
				dateCount{date: dayDate(h.last + 1).String(), n: 1})
		}
	}
	return out, rows.Err()
}

func (t *tallier) pledges() error {
	if err := t.grouped("g.registered_on", t.s.table, "COUNT(*), SUM(g.secured_fen)", 0, 2); err != nil {
		return err
	}
	if err := t.grouped("g.released_on", t.s.table, "COUNT(*)", 1); err != nil {
		return err
	}
	t.sumTotals(0, 1, 2)
	return t.atEnd("g.registered_on", "g.released_on", 3)
}

// transfers counts the transfers, their distinct patents and prices, and
// those from a university (one of the assignors) to an enterprise (one of
// the assignees), DOMAIN.md's "from universities to enterprises".
func (t *tallier) transfers() error {
	const party = "EXISTS (SELECT 1 FROM tly_transfer_orgs x JOIN tly_orgs o ON o.id = x.org_id" +
		" WHERE x.transfer_id = t.transfer_id AND x.role = '%s' AND o.kind = '%s')"
	sums := "COUNT(*), COUNT(DISTINCT t.number), SUM(t.price_fen), SUM(" +
		fmt.Sprintf(party, "from", domain.OrgUniversity) + " AND " + fmt.Sprintf(party, "to", domain.OrgEnterprise) + ")"
	if err := t.grouped("t.effective_on", t.s.table, sums, 0, 1, 2, 3); err != nil {
		return err
	}
	return t.totals("t.effective_on", t.s.table, sums, 0, 1, 2, 3)
}

func (t *tallier) reviews() error {
	grades, dispositions := indexOf(domain.Grades), indexOf(domain.Dispositions)
	rows, err := t.tx.QueryContext(t.ctx, "SELECT "+t.q.Period.sqlLabel("r.reviewed_on")+
		", r.grade, r.disposition, COUNT(*) FROM "+t.s.table+" WHERE r.reviewed_on BETWEEN ? AND ?"+t.where+
		" GROUP BY 1, 2, 3", t.rangeArgs()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var label, grade, disposition string
		var n int64
		if err := rows.Scan(&label, &grade, &disposition, &n); err != nil {
			return err
		}
		b, err := t.bucket(label)
		if err != nil {
			return err
		}
		b.Values[0] += n
		b.Values[1+grades[grade]] += n
		b.Values[1+len(grades)+dispositions[disposition]] += n
	}
	t.sumTotals(allColumns(len(t.s.columns))...)
	return rows.Err()
}

// grouped adds to each bucket the values selected from facts whose dateCol
// falls in the bucket, the i-th selected value to column cols[i].
func (t *tallier) grouped(dateCol, from, selects string, cols ...int) error {
	query := "SELECT " + t.q.Period.sqlLabel(dateCol) + ", " + selects + " FROM " + from +
		" WHERE " + dateCol + " BETWEEN ? AND ?" + t.where + " GROUP BY 1"
	rows, err := t.tx.QueryContext(t.ctx, query, t.rangeArgs()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]int64, len(cols))
	dest := []any{new(string)}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		b, err := t.bucket(*dest[0].(*string))
		if err != nil {
			return err
		}
		for i, c := range cols {
			b.Values[c] += vals[i]
		}
	}
	return rows.Err()
}

// totals sets the total's columns to the values selected over the whole
// range (for counts of distinct things, which buckets cannot add up).
func (t *tallier) totals(dateCol, from, selects string, cols ...int) error {
	query := "SELECT " + selects + " FROM " + from + " WHERE " + dateCol + " BETWEEN ? AND ?" + t.where
	vals := make([]sql.NullInt64, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := t.tx.QueryRowContext(t.ctx, query, t.rangeArgs()...).Scan(dest...); err != nil {
		return err
	}
	for i, c := range cols {
		t.tally.Total.Values[c] = vals[i].Int64
	}
	return nil
}

// sumTotals sets the total's columns to the sum of the buckets.
func (t *tallier) sumTotals(cols ...int) { sumBuckets(&t.tally, cols...) }

// atEnd sets column col of each bucket to the number of facts in force on
// the bucket's last day: started (startCol) on or before it and not yet
// stopped (stopCol, NULL for never) by then, changed by more (a number
// more or fewer from each date on). The total gets the figure of the last
// bucket.
func (t *tallier) atEnd(startCol, stopCol string, col int, more ...dateCount) error {
	starts, err := t.countsByDate(startCol)
	if err != nil {
		return err
	}
	stops, err := t.countsByDate(stopCol)
	if err != nil {
		return err
	}
	for i := range stops {
		stops[i].n = -stops[i].n
	}
	changes := slices.Concat(starts, stops, more)
	slices.SortStableFunc(changes, func(a, b dateCount) int { return strings.Compare(a.date, b.date) })
	var inForce int64
	for i, sp := range t.spans {
		last := sp.last.String()
		for len(changes) > 0 && changes[0].date <= last {
			inForce, changes = inForce+changes[0].n, changes[1:]
		}
		t.tally.Buckets[i].Values[col] = inForce
	}
	t.tally.Total.Values[col] = t.tally.Buckets[len(t.spans)-1].Values[col]
	return nil
}

// dateCount is a number of facts on one date.
type dateCount struct {
	date string
	n    int64
}

// countsByDate counts the filtered facts per value of dateCol, up to To.
func (t *tallier) countsByDate(dateCol string) ([]dateCount, error) {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT "+dateCol+", COUNT(*) FROM "+t.s.table+" WHERE "+dateCol+" <= ?"+
		t.where+" GROUP BY 1 ORDER BY 1", append([]any{t.to}, t.args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dateCount
	for rows.Next() {
		var dc dateCount
		if err := rows.Scan(&dc.date, &dc.n); err != nil {
			return nil, err
		}
		out = append(out, dc)
	}
	return out, rows.Err()
}

// bucket returns the bucket of a label computed in SQL.
func (t *tallier) bucket(label string) (*Bucket, error) {
	i, ok := t.byLabel[label]
	if !ok {
		return nil, fmt.Errorf("bucket label %q is outside %s..%s", label, t.from, t.to)
	}
	return &t.tally.Buckets[i], nil
}

// rangeArgs returns the arguments of "BETWEEN from AND to" and the filters.
func (t *tallier) rangeArgs() []any { return append([]any{t.from, t.to}, t.args...) }

func indexOf[T ~string](values []T) map[string]int {
	m := make(map[string]int, len(values))
	for i, v := range values {
		m[string(v)] = i
	}
	return m
}

func allColumns(n int) []int {
	cols := make([]int, n)
	for i := range cols {
		cols[i] = i
	}
	return cols
}

// MarshalJSON encodes the tally as CONTRACT.md shows it: {period, from,
// to, buckets: [{period: label, …values}], total: {…}}.
func (t Tally) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"period":` + strconv.Quote(string(t.Period)) + `,"from":` + strconv.Quote(t.From.String()) +
		`,"to":` + strconv.Quote(t.To.String()) + `,"buckets":[`)
	for i, bk := range t.Buckets {
		if i > 0 {
			b.WriteByte(',')
		}
		t.writeBucket(&b, bk)
	}
	b.WriteString(`],"total":`)
	t.writeBucket(&b, t.Total)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeBucket writes one bucket as a JSON object, nesting dotted columns.
func (t Tally) writeBucket(b *bytes.Buffer, bk Bucket) {
	b.WriteString(`{"period":` + strconv.Quote(bk.Label))
	open := ""
	for i, col := range t.Columns {
		group, name, nested := strings.Cut(col, ".")
		switch {
		case !nested:
			if open != "" {
				b.WriteByte('}')
				open = ""
			}
			name = col
			b.WriteByte(',')
		case group != open:
			if open != "" {
				b.WriteByte('}')
			}
			open = group
			b.WriteString(`,` + strconv.Quote(group) + `:{`)
		default:
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(name) + ":" + strconv.FormatInt(bk.Values[i], 10))
	}
	if open != "" {
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

var _ json.Marshaler = Tally{}
