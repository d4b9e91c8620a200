package projections

import (
	"errors"
	"iter"
	"maps"
	"slices"
	"sort"

	"github.com/patentledger/ledger/domain"
)

// The tallies of DOMAIN.md ("Tallies regulators ask for") that CONTRACT.md
// does not name. They take the same TallyQuery (period, from, to, the
// filters that apply) and answer the same Tally shape: one bucket per
// period, zeros included, and a total row.
const (
	// Recordals is recording compliance (备案, IR 87) of the licences
	// concluded in each bucket.
	Recordals = "recordals"
	// MultiLicensee counts patents that reach two or more distinct
	// licensees.
	MultiLicensee = "multi-licensee"
	// FeeReductions is the annual-fee reduction earned through open
	// licensing (PL 51(2)); year buckets only.
	FeeReductions = "fee-reductions"
	// TimeToFirstLicence is the time from a declaration to its first open
	// licence.
	TimeToFirstLicence = "time-to-first-licence"
)

// ExtraSubjects lists the tally subjects of this file, in route order.
// They are kept out of Subjects, whose tallies CONTRACT.md names.
var ExtraSubjects = []string{Recordals, MultiLicensee, FeeReductions, TimeToFirstLicence, Fees}

// extraTallySchema are the tables the extra tallies add to the Tallies
// projection: the recordal of each recorded licence (its date and the last
// day of its three-month period), and the effective date of each
// declaration's first open licence.
var extraTallySchema = []string{
	`CREATE TABLE tly_recordals (license_id TEXT PRIMARY KEY, recorded_on TEXT NOT NULL, due_by TEXT NOT NULL) STRICT, WITHOUT ROWID`,
	`CREATE TABLE tly_first_licences (declaration_id TEXT PRIMARY KEY, first_on TEXT NOT NULL) STRICT, WITHOUT ROWID`,
}

func init() {
	const licensors = "SELECT x.org_id FROM tly_license_orgs x WHERE x.license_id = l.license_id"
	const declarants = "SELECT x.org_id FROM tly_declaration_orgs x WHERE x.declaration_id = d.declaration_id"
	subjects[Recordals] = subject{table: "tly_licenses l LEFT JOIN tly_recordals r ON r.license_id = l.license_id",
		patents: "p.number = l.number", patentees: licensors, counterparties: "SELECT l.licensee_id", typeColumn: "l.type",
		columns: []string{"concluded", "recorded_in_time", "recorded_late", "not_recorded", "not_recorded_overdue"},
		compute: (*tallier).recordals}
	subjects[MultiLicensee] = subject{table: "tly_licenses l", patents: "p.number = l.number", patentees: licensors,
		typeColumn: "l.type", columns: []string{"reached_multi", "multi_licensee_at_end", "licensed_at_end"},
		compute: (*tallier).multiLicensee}
	subjects[FeeReductions] = subject{table: "tly_declarations d", patents: "p.number = d.number", patentees: declarants, period: Year,
		columns: []string{"declared_patents", "declared_patent_days", "reduction_bp"}, compute: (*tallier).feeReductions}
	subjects[TimeToFirstLicence] = subject{
		table:   "tly_declarations d JOIN tly_first_licences f ON f.declaration_id = d.declaration_id",
		patents: "p.number = d.number", patentees: declarants,
		columns: []string{"first_licences", "median_days", "mean_days"}, compute: (*tallier).timeToFirstLicence}
}

// applyExtraTallies applies the events the extra tallies need beyond the
// base tables. A licence is recorded at most once (license_already_recorded).
func applyExtraTallies(tx *Tx, ev domain.Event) error {
	switch v := ev.(type) {
	case domain.LicenseRecorded:
		return tx.Exec("INSERT OR REPLACE INTO tly_recordals (license_id, recorded_on, due_by) VALUES (?, ?, ?)",
			v.LicenseID, v.RecordedOn.String(), v.DueBy.String())
	case domain.LicenseGranted:
		if v.Type != domain.LicenseOpen || v.DeclarationID == "" {
			return nil
		}
		return tx.Exec(`INSERT INTO tly_first_licences (declaration_id, first_on) VALUES (?1, ?2)
			ON CONFLICT (declaration_id) DO UPDATE SET first_on = min(first_on, excluded.first_on)`,
			v.DeclarationID, v.EffectiveOn.String())
	}
	return nil
}

// recordals counts, per bucket of effective_on, the licences concluded and
// their recording status as of the range's last day (To): recorded on or
// before due_by (in time), recorded after due_by (late), not recorded by
// To; and of those not recorded, the ones whose due_by is before To
// (overdue: missing). A recordal dated after To counts as not recorded.
// concluded = recorded_in_time + recorded_late + not_recorded.
func (t *tallier) recordals() error {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT l.effective_on, r.recorded_on, r.due_by FROM "+t.s.table+
		" WHERE l.effective_on BETWEEN ? AND ?"+t.where, t.rangeArgs()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var on string
		var recorded, due *string
		if err := rows.Scan(&on, &recorded, &due); err != nil {
			return err
		}
		i, err := t.bucketOfDate(on)
		if err != nil {
			return err
		}
		col := recordalColumn(recorded, due, t.to)
		b := &t.tally.Buckets[i]
		b.Values[0]++
		b.Values[col]++
		if col == 3 && recordalOverdue(on, t.q.To) {
			b.Values[4]++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	t.sumTotals(allColumns(len(t.s.columns))...)
	return nil
}

// recordalColumn returns the column of a licence recorded on recorded (nil
// when not) with its deadline due: 1 recorded in time, 2 late, 3 not
// recorded by asOf.
func recordalColumn(recorded, due *string, asOf string) int {
	switch {
	case recorded == nil || *recorded > asOf:
		return 3
	case *recorded <= *due:
		return 1
	}
	return 2
}

// recordalOverdue reports whether the recordal period of a licence
// effective on ended before asOf.
func recordalOverdue(on string, asOf domain.Date) bool {
	d, err := domain.ParseDate(on)
	return err == nil && domain.RecordalDeadline(d).Before(asOf)
}

// multiLicensee counts, per patent, the distinct licensees of the filtered
// licences (every licence ever concluded up to To, whatever its end):
// reached_multi is the patents whose second distinct licensee's licence
// took effect in the bucket; multi_licensee_at_end and licensed_at_end
// the patents with ≥ 2 and ≥ 1 distinct licensees on the bucket's last
// day. The total sums reached_multi and takes the last bucket's figures.
func (t *tallier) multiLicensee() error {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT l.number, l.licensee_id, l.effective_on FROM "+t.s.table+
		" WHERE l.effective_on <= ?"+t.where+" ORDER BY l.effective_on", append([]any{t.to}, t.args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	licensees := map[string]map[string]bool{}
	var firsts, seconds []string // dates a patent reached 1 and 2 licensees, in order
	for rows.Next() {
		var number, licensee, on string
		if err := rows.Scan(&number, &licensee, &on); err != nil {
			return err
		}
		set := licensees[number]
		if set == nil {
			set = map[string]bool{}
			licensees[number] = set
		}
		if set[licensee] {
			continue
		}
		set[licensee] = true
		switch len(set) {
		case 1:
			firsts = append(firsts, on)
		case 2:
			seconds = append(seconds, on)
			if on >= t.from {
				i, err := t.bucketOfDate(on)
				if err != nil {
					return err
				}
				t.tally.Buckets[i].Values[0]++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	t.sumTotals(0)
	t.runningCount(seconds, 1)
	t.runningCount(firsts, 2)
	return nil
}

// runningCount sets column col of each bucket to the number of sorted
// dates on or before its last day, and the total to the last bucket's.
func (t *tallier) runningCount(dates []string, col int) {
	var n int64
	for i, sp := range t.spans {
		last := sp.last.String()
		for len(dates) > 0 && dates[0] <= last {
			n, dates = n+1, dates[1:]
		}
		t.tally.Buckets[i].Values[col] = n
	}
	t.tally.Total.Values[col] = t.tally.Buckets[len(t.spans)-1].Values[col]
}

// feeReductions reports, per year, the patents with a (filtered)
// declaration in effect on at least one day of the year within from..to
// (declared_patents), the days in effect summed over those patents
// (declared_patent_days, each day of a patent counted once), and the
// reduction earned: round(declared_patent_days × domain.FeeReductionBP ÷ days of
// the calendar year), in basis points of one patent's annual fee — 10000
// is one whole annual fee, a patent declared all year earns 1500. The
// total counts distinct patents over the range and sums the days and the
// buckets' reductions.
func (t *tallier) feeReductions() error {
	inactive, err := readInactiveSpells(t.ctx, t.tx)
	if err != nil {
		return err
	}
	rows, err := t.tx.QueryContext(t.ctx, "SELECT d.number, d.declared_on, d.stop_on FROM "+t.s.table+
		" WHERE d.declared_on <= ? AND d.stop_on > ? AND d.stop_on > d.declared_on"+t.where,
		append([]any{t.to, t.from}, t.args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	spells := map[string][]dayRange{} // per patent, the days in effect within the range
	for rows.Next() {
		var number, declared, stop string
		if err := rows.Scan(&number, &declared, &stop); err != nil {
			return err
		}
		days, err := parseDays(declared, stop)
		if err != nil {
			return err
		}
		if r, ok := inEffectWithin(days[0], days[1], dayNumber(t.q.From), dayNumber(t.q.To)); ok {
			if parts := appendActiveParts(spells[number], r, inactive[number]); len(parts) > 0 {
				spells[number] = parts
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	addFeeReductions(&t.tally, t.spans, maps.Values(spells))
	return nil
}

// dayRange is the days first…last (day numbers).
type dayRange struct{ first, last int32 }

// inEffectWithin returns the days of from…to on which a declaration
// declared on declared and stopping on stop is in effect, and whether
// there are any.
func inEffectWithin(declared, stop, from, to int32) (dayRange, bool) {
	r := dayRange{first: max(declared, from), last: min(stop-1, to)}
	return r, r.last >= r.first
}

// addFeeReductions fills a fee-reductions tally from the days each patent
// is in effect within the range (one list per patent, not empty; see
// feeCounter).
func addFeeReductions(t *Tally, spans []span, perPatent iter.Seq[[]dayRange]) {
	c := newFeeCounter(t, spans)
	for ranges := range perPatent {
		c.add(mergeDayRanges(ranges))
	}
	c.finish()
}

// feeCounter fills a fee-reductions tally one patent at a time: per year
// bucket, the patents in effect on at least one of its days, their days
// in effect (each day of a patent counted once) and the reduction earned;
// the total counts the patents and sums the days and reductions.
type feeCounter struct {
	t       *Tally
	spans   []span
	buckets []dayRange // the days of each bucket, as day numbers
	patents int64
}

// newFeeCounter returns a counter filling t, whose buckets are spans.
func newFeeCounter(t *Tally, spans []span) *feeCounter {
	c := &feeCounter{t: t, spans: spans, buckets: make([]dayRange, len(spans))}
	first := dayNumber(t.From)
	for i, sp := range spans {
		c.buckets[i] = dayRange{first: first, last: dayNumber(sp.last)}
		first = c.buckets[i].last + 1
	}
	return c
}

// add counts one patent in effect on the days of merged, which are in
// order and neither overlap nor touch (see mergeDayRanges). It visits
// only the buckets each range overlaps, found by binary search: the
// buckets are in order and contiguous (every bucket for every patent
// took 165 ms for 300 years over 162,000 patents).
func (c *feeCounter) add(merged []dayRange) {
	c.patents++
	counted := -1 // the last bucket the patent is counted in
	for _, r := range merged {
		i := sort.Search(len(c.buckets), func(i int) bool { return c.buckets[i].last >= r.first })
		for ; i < len(c.buckets) && c.buckets[i].first <= r.last; i++ {
			b := c.buckets[i]
			c.t.Buckets[i].Values[1] += int64(min(r.last, b.last) - max(r.first, b.first) + 1)
			if i != counted {
				c.t.Buckets[i].Values[0]++
				counted = i
			}
		}
	}
}

// finish works out each bucket's reduction and the total.
func (c *feeCounter) finish() {
	t := c.t
	for i := range t.Buckets {
		b := t.Buckets[i].Values
		b[2] = domain.ReductionBP(b[1], c.spans[i].last.Year())
		t.Total.Values[1] += b[1]
		t.Total.Values[2] += b[2]
	}
	t.Total.Values[0] = c.patents
}

// mergeDayRanges merges overlapping or adjacent ranges, in order.
func mergeDayRanges(rs []dayRange) []dayRange {
	if len(rs) == 1 {
		return rs
	}
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b dayRange) int { return int(a.first - b.first) })
	out := rs[:0]
	for _, r := range rs {
		out = appendMerged(out, r)
	}
	return out
}

// appendMerged appends r to merged ranges that start no later than r,
// joining it to the last when they overlap or touch.
func appendMerged(merged []dayRange, r dayRange) []dayRange {
	if n := len(merged); n > 0 && r.first <= merged[n-1].last+1 {
		merged[n-1].last = max(merged[n-1].last, r.last)
		return merged
	}
	return append(merged, r)
}

// timeToFirstLicence reports, per bucket of the effective date of a
// declaration's first open licence, the number of those declarations
// (first_licences) and the median and mean of the days from declared_on
// to that licence (whole days, rounded half up; the median of an even
// count is the mean of the two middle values). The total takes the
// median and mean over the whole range.
func (t *tallier) timeToFirstLicence() error {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT d.declared_on, f.first_on FROM "+t.s.table+
		" WHERE f.first_on BETWEEN ? AND ?"+t.where, t.rangeArgs()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	days := make([][]int64, len(t.spans))
	var all []int64
	for rows.Next() {
		var declared, first string
		if err := rows.Scan(&declared, &first); err != nil {
			return err
		}
		d0, err1 := domain.ParseDate(declared)
		d1, err2 := domain.ParseDate(first)
		if err1 != nil || err2 != nil {
			return errors.Join(err1, err2)
		}
		i, err := t.bucketOfDate(first)
		if err != nil {
			return err
		}
		n := int64(d1.DaysSince(d0))
		days[i] = append(days[i], n)
		all = append(all, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range t.tally.Buckets {
		copy(t.tally.Buckets[i].Values, daysSummary(days[i]))
	}
	copy(t.tally.Total.Values, daysSummary(all))
	return nil
}

// daysSummary returns count, median and mean of ds (zeros when empty),
// median and mean rounded half up. It may reorder ds.
func daysSummary(ds []int64) []int64 {
	n := int64(len(ds))
	if n == 0 {
		return []int64{0, 0, 0}
	}
	lo, hi, sum := ds[0], ds[0], int64(0)
	for _, d := range ds {
		lo, hi, sum = min(lo, d), max(hi, d), sum+d
	}
	lower, upper := middleValues(ds, lo, hi)
	median := upper
	if n%2 == 0 {
		median = roundHalfUp(lower+upper, 2)
	}
	return []int64{n, median, roundHalfUp(sum, n)}
}

// middleValues returns the values of ds at ranks (len-1)/2 and len/2 in
// order (the same one for an odd length), given its least and greatest
// values. Days between two dates span a few thousand values, so it counts
// them, which takes a fraction of the time of sorting tens of thousands;
// when the values spread wider than the count of them allows, it sorts
// ds.
func middleValues(ds []int64, lo, hi int64) (lower, upper int64) {
	n := len(ds)
	if uint64(hi-lo) >= uint64(4*n+4096) {
		slices.Sort(ds)
		return ds[(n-1)/2], ds[n/2]
	}
	counts := make([]int32, hi-lo+1)
	for _, d := range ds {
		counts[d-lo]++
	}
	seen, lowerFound := 0, false
	for i, c := range counts {
		seen += int(c)
		if !lowerFound && seen > (n-1)/2 {
			lower, lowerFound = lo+int64(i), true
		}
		if seen > n/2 {
			return lower, lo + int64(i)
		}
	}
	return lower, hi // not reached: the last count brings seen to n
}

// roundHalfUp returns a ÷ b rounded half up (a ≥ 0, b > 0).
func roundHalfUp(a, b int64) int64 { return (2*a + b) / (2 * b) }
