package projections

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/patentledger/ledger/domain"
)

// The extra tallies (tallies_extra.go) and the rankings computed from the
// tally index, with the meaning their SQL gives them.

// eachDeal calls visit with every licence effective from…to, in order of
// day.
func (f *tallyFacts) eachDeal(from, to int32, visit func(deal int32)) {
	f.eachDealByDay(from, to, func(_, _, _, deal int32) { visit(deal) })
}

// eachDealByDay calls visit with the day, licensee, patent and index of
// every licence effective from…to, in order of day. It reads them from the
// columns sorted by day, in order, and from the deals themselves only for
// the unsorted tail.
func (f *tallyFacts) eachDealByDay(from, to int32, visit func(day, licensee, patent, deal int32)) {
	d := f.dealsByDay
	tail := tailIn(len(d.day), len(f.deals), func(i int) int32 { return f.deals[i].day }, from, to)
	visitTail := func(i int32) { t := &f.deals[i]; visit(t.day, t.licensee, t.patent, i) }
	for k := lowerBound(d.day, from); k < len(d.day) && d.day[k] <= to; k++ {
		for ; len(tail) > 0 && f.deals[tail[0]].day < d.day[k]; tail = tail[1:] {
			visitTail(tail[0])
		}
		visit(d.day[k], d.licensee[k], d.patent[k], d.deal[k])
	}
	for _, i := range tail {
		visitTail(i)
	}
}

// eachPayment calls visit with every payment made from…to.
func (f *tallyFacts) eachPayment(from, to int32, visit func(pay dealPayment)) {
	p := f.paymentsByDay
	for k := lowerBound(p.day, from); k < len(p.day) && p.day[k] <= to; k++ {
		visit(dealPayment{day: p.day[k], deal: p.deal[k], amountFen: p.amountFen[k], kind: p.kind[k]})
	}
	for i := len(p.day); i < len(f.payments); i++ {
		if pay := f.payments[i]; pay.day >= from && pay.day <= to {
			visit(pay)
		}
	}
}

// bucketsByDay returns the bucket of each day from the first day of spans
// (from) on, as an array indexed by day - from.
func bucketsByDay(spans []span, from int32) []int32 {
	out := make([]int32, dayNumber(spans[len(spans)-1].last)-from+1)
	day := from
	for i, sp := range spans {
		for last := dayNumber(sp.last); day <= last; day++ {
			out[day-from] = int32(i)
		}
	}
	return out
}

// recordalsTally computes a recordals tally into t (see
// tallier.recordals).
func (f *tallyFacts) recordalsTally(q TallyQuery, spans []span, t *Tally) {
	match := f.filter(q)
	from, to := dayNumber(q.From), dayNumber(q.To)
	bucket := bucketsByDay(spans, from)
	// A licence not recorded by the range's last day is overdue when its
	// deadline is before that day. Deadlines do not go back as the day a
	// licence takes effect goes on, so the overdue ones are those effective
	// before the first day whose deadline is not before it.
	overdueBefore := from + int32(sort.Search(int(to-from)+1, func(i int) bool {
		return !domain.RecordalDeadline(dayDate(from + int32(i))).Before(q.To)
	}))
	f.eachDeal(from, to, func(i int32) {
		d := &f.deals[i]
		if match != nil && !match(d) {
			return
		}
		b := t.Buckets[bucket[d.day-from]].Values
		col := 3
		switch {
		case !d.recorded || d.recordedOn > to:
		case d.recordedOn <= d.dueBy:
			col = 1
		default:
			col = 2
		}
		b[0]++
		b[col]++
		if col == 3 && d.day < overdueBefore {
			b[4]++
		}
	})
	sumBuckets(t, allColumns(len(t.Columns))...)
}

// multiLicenseeTally computes a multi-licensee tally into t (see
// tallier.multiLicensee).
func (f *tallyFacts) multiLicenseeTally(q TallyQuery, spans []span, t *Tally) {
	passing := f.passingDeals(q) // a bit per deal that passes the filter; nil without one
	from, to := dayNumber(q.From), dayNumber(q.To)
	bucket := bucketsByDay(spans, from)
	sc := multiLicenseeScratches.get()
	defer multiLicenseeScratches.put(sc)
	sc.reset(len(f.patents))
	firstLicensee, licensees, firsts, seconds := sc.firstLicensee, sc.licensees, sc.firsts[:0], sc.seconds[:0]
	f.eachDealByDay(math.MinInt32, to, func(day, licensee, patent, deal int32) {
		if passing != nil && passing[deal>>6]&(1<<(deal&63)) == 0 {
			return
		}
		switch n := &licensees[patent]; {
		case *n == 0:
			*n, firstLicensee[patent] = 1, licensee
			firsts = append(firsts, day)
		case *n == 1 && licensee != firstLicensee[patent]:
			*n = 2
			seconds = append(seconds, day)
			if day >= from {
				t.Buckets[bucket[day-from]].Values[0]++
			}
		}
	})
	sumBuckets(t, 0)
	runningCountOfDays(t, spans, seconds, 1)
	runningCountOfDays(t, spans, firsts, 2)
}

// multiLicenseeScratch holds the lists a multi-licensee tally fills, kept
// for the next query (see scratchPool): by patent, its first licensee and
// how many licensees it has (up to 2); and the days patents reached 1 and
// 2 licensees, in order, at most one each per patent.
type multiLicenseeScratch struct {
	firstLicensee   []int32
	licensees       []uint8
	firsts, seconds []int32
}

// reset readies the lists for n patents: none has a licensee yet, and
// firsts and seconds have room for n days each.
func (sc *multiLicenseeScratch) reset(n int) {
	if cap(sc.licensees) < n {
		sc.firstLicensee, sc.licensees = make([]int32, n), make([]uint8, n)
		sc.firsts, sc.seconds = make([]int32, 0, n), make([]int32, 0, n)
	}
	sc.firstLicensee, sc.licensees = sc.firstLicensee[:n], sc.licensees[:n]
	clear(sc.licensees)
}

// multiLicenseeScratches holds the lists of past multi-licensee tallies.
var multiLicenseeScratches scratchPool[multiLicenseeScratch]

// runningCountOfDays sets column col of each bucket to the number of the
// sorted days on or before its last day, and the total to the last
// bucket's.
func runningCountOfDays(t *Tally, spans []span, days []int32, col int) {
	var n int64
	for i, sp := range spans {
		last := dayNumber(sp.last)
		for len(days) > 0 && days[0] <= last {
			n, days = n+1, days[1:]
		}
		t.Buckets[i].Values[col] = n
	}
	t.Total.Values[col] = n
}

// feeReductionsTally computes a fee-reductions tally into t (see
// tallier.feeReductions). Most patents are in effect on one range of days
// within a query's range, and are counted as soon as every declaration
// has been seen; only those with more are sorted and merged.
func (f *tallyFacts) feeReductionsTally(q TallyQuery, spans []span, t *Tally) {
	match := f.declFilter(q)
	from, to := dayNumber(q.From), dayNumber(q.To)
	sc := feeScratches.get()
	defer feeScratches.put(sc)
	sc.reset(len(f.patents))
	for i := range f.decls {
		d := &f.decls[i]
		if d.declared > to || d.stop <= from || d.stop <= d.declared || (match != nil && !match(d)) {
			continue
		}
		r, ok := inEffectWithin(d.declared, d.stop, from, to)
		if !ok {
			continue
		}
		spells := f.inactiveOf(d.patent)
		if spells == nil {
			sc.add(d.patent, r)
			continue
		}
		sc.parts = appendActiveParts(sc.parts[:0], r, spells)
		for _, part := range sc.parts {
			sc.add(d.patent, part)
		}
	}
	c := newFeeCounter(t, spans)
	sc.count(c)
	c.finish()
}

// feeSumScratches holds the fees by deal that past rankings by fees
// summed.
var feeSumScratches scratchPool[[]int64]

// feeScratch holds the ranges of days a fee-reductions tally collects,
// kept for the next query (see scratchPool).
type feeScratch struct {
	// slot holds, by patent, 1 + the index in firsts of its first range,
	// or 0; firsts holds each patent's first range in the order seen, and
	// rest the further ranges of patents with more than one.
	slot          []int32
	firsts, rest  []patentDays
	parts, merged []dayRange // one declaration's days active, one patent's days merged
}

// patentDays are days a patent is in effect; more is whether it is in
// effect on more ranges of days than this one.
type patentDays struct {
	patent int32
	days   dayRange
	more   bool
}

// feeScratches holds the lists of past fee-reductions tallies.
var feeScratches scratchPool[feeScratch]

// reset empties the scratch for a query over patents patents: it clears
// the slots the last query filled, which its firsts name.
func (sc *feeScratch) reset(patents int) {
	for _, p := range sc.firsts {
		sc.slot[p.patent] = 0
	}
	if grow := patents - len(sc.slot); grow > 0 {
		sc.slot = append(sc.slot, make([]int32, grow)...)
	}
	sc.firsts, sc.rest = sc.firsts[:0], sc.rest[:0]
}

// add collects a range of days a patent is in effect.
func (sc *feeScratch) add(patent int32, days dayRange) {
	if s := sc.slot[patent]; s != 0 {
		sc.firsts[s-1].more = true
		sc.rest = append(sc.rest, patentDays{patent: patent, days: days})
		return
	}
	sc.firsts = append(sc.firsts, patentDays{patent: patent, days: days})
	sc.slot[patent] = int32(len(sc.firsts))
}

// count adds every patent collected to c: one with one range at once,
// the others once their ranges are sorted and merged.
func (sc *feeScratch) count(c *feeCounter) {
	for _, p := range sc.firsts {
		if p.more {
			sc.rest = append(sc.rest, p)
			continue
		}
		one := [1]dayRange{p.days}
		c.add(one[:])
	}
	slices.SortFunc(sc.rest, func(a, b patentDays) int {
		return cmp.Or(cmp.Compare(a.patent, b.patent), cmp.Compare(a.days.first, b.days.first))
	})
	for left := sc.rest; len(left) > 0; {
		merged, n := sc.merged[:0], 0
		for ; n < len(left) && left[n].patent == left[0].patent; n++ {
			merged = appendMerged(merged, left[n].days)
		}
		c.add(merged)
		sc.merged, left = merged, left[n:]
	}
}

// timeToFirstLicenceTally computes a time-to-first-licence tally into t
// (see tallier.timeToFirstLicence).
func (f *tallyFacts) timeToFirstLicenceTally(q TallyQuery, spans []span, t *Tally) {
	match := f.declFilter(q)
	from, to := dayNumber(q.From), dayNumber(q.To)
	bucket := bucketsByDay(spans, from)
	sc := firstLicenceScratches.get()
	defer firstLicenceScratches.put(sc)
	days := sc.reset(len(spans))
	for i := range f.decls {
		d := &f.decls[i]
		if !d.licensed || d.firstLicence < from || d.firstLicence > to || (match != nil && !match(d)) {
			continue
		}
		b := bucket[d.firstLicence-from]
		days[b] = append(days[b], int64(d.firstLicence-d.declared))
	}
	total := sc.total[:0]
	for _, ds := range days {
		total = append(total, ds...)
	}
	sc.total = total
	copy(t.Total.Values, daysSummary(total))
	for i := range t.Buckets {
		copy(t.Buckets[i].Values, daysSummary(days[i]))
	}
}

// firstLicenceScratch holds the lists a time-to-first-licence tally fills,
// kept for the next query (see scratchPool): the days from declaration to
// first licence by bucket, and all of them together.
type firstLicenceScratch struct {
	byBucket [][]int64
	total    []int64
}

// reset empties the lists and returns one per bucket of n.
func (sc *firstLicenceScratch) reset(n int) [][]int64 {
	sc.byBucket = slices.Grow(sc.byBucket[:0], n)[:n]
	for i := range sc.byBucket {
		sc.byBucket[i] = sc.byBucket[i][:0]
	}
	return sc.byBucket
}

// firstLicenceScratches holds the lists of past time-to-first-licence
// tallies.
var firstLicenceScratches scratchPool[firstLicenceScratch]

// sumBuckets sets the given columns of the total to the sums of the
// buckets'.
func sumBuckets(t *Tally, cols ...int) {
	for _, c := range cols {
		var sum int64
		for _, b := range t.Buckets {
			sum += b.Values[c]
		}
		t.Total.Values[c] = sum
	}
}

// rank ranks the patentees by q.Metric into out when the index mirrors the
// tallies checkpoint position; it reports whether it did. Like the SQL of
// rankingQueries, a licence or payment counts for each of its licensors
// and a declaration for each of its declaring patentees; ties go to the
// smaller organisation ID.
func (idx *tallyIndex) rank(q RankingQuery, position int64, out *[]Ranking) bool {
	return idx.readAt(position, func(f *tallyFacts) { *out = f.rank(q) })
}

// rank ranks the patentees from the facts (see tallyIndex.rank).
func (f *tallyFacts) rank(q RankingQuery) []Ranking {
	from, to := int32(math.MinInt32), int32(math.MaxInt32)
	if !q.From.IsZero() {
		from = dayNumber(q.From)
	}
	if !q.To.IsZero() {
		to = dayNumber(q.To)
	}
	values, ranked := make([]int64, len(f.orgs)), make([]bool, len(f.orgs))
	add := func(orgs []int32, v int64) {
		for _, o := range orgs {
			values[o] += v
			ranked[o] = true
		}
	}
	switch q.Metric {
	case MetricLicenses:
		f.eachDeal(from, to, func(i int32) { add(f.licensorsOf(i), 1) })
	case MetricFees:
		// Summed per deal first, in one array, then handed to the deals'
		// licensors in deal order: reading a deal per payment, in day
		// order, jumps all over the deals. Every payment is of 1 fen or
		// more (a free licence records none), so a deal with a sum was paid.
		scratch := feeSumScratches.get()
		defer feeSumScratches.put(scratch)
		feesOf := slices.Grow((*scratch)[:0], len(f.deals))[:len(f.deals)]
		clear(feesOf)
		*scratch = feesOf
		f.eachPayment(from, to, func(pay dealPayment) { feesOf[pay.deal] += pay.amountFen })
		for i, fees := range feesOf {
			if fees > 0 {
				add(f.licensorsOf(int32(i)), fees)
			}
		}
	case MetricDeclared:
		for i := range f.decls {
			if d := &f.decls[i]; d.declared >= from && d.declared <= to {
				add(d.patentees, 1)
			}
		}
	case MetricConversion:
		declared := make([]int64, len(f.orgs))
		for i := range f.decls {
			d := &f.decls[i]
			if d.declared < from || d.declared > to {
				continue
			}
			for _, o := range d.patentees {
				declared[o]++
			}
			converted := int64(0)
			if d.licensed && d.firstLicence <= to {
				converted = 1
			}
			add(d.patentees, converted) // every declarant is ranked, 0 bp included
		}
		for o, n := range declared {
			if n > 0 {
				values[o] = roundHalfUp(10_000*values[o], n)
			}
		}
	}
	var orgs []int32
	for o, ok := range ranked {
		if ok {
			orgs = append(orgs, int32(o))
		}
	}
	slices.SortFunc(orgs, func(a, b int32) int {
		return cmp.Or(cmp.Compare(values[b], values[a]), cmp.Compare(f.orgs[a].id, f.orgs[b].id))
	})
	orgs = orgs[:min(len(orgs), cmp.Or(q.Limit, DefaultRankingLimit))]
	out := make([]Ranking, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, Ranking{PatenteeID: f.orgs[o].id, Name: f.orgs[o].name, Value: values[o]})
	}
	return out
}

// transferFact is one transfer: its patent, effective day, price, and its
// assignors (from) and assignees (to).
type transferFact struct {
	day, patent int32
	priceFen    int64
	from, to    []int32
}

// transfer adds a transfer without parties and returns its index.
func (f *tallyFacts) transfer(id, number string, day int32, priceFen int64) int32 {
	i, patent := int32(len(f.transfers)), f.patentIndex(number)
	f.transfers = append(f.transfers, transferFact{day: day, patent: patent, priceFen: priceFen})
	f.transferIDs[id] = i
	f.transfersOf[patent] = append(f.transfersOf[patent], i)
	f.patents[patent].changed = true
	return i
}

// transferParty adds an assignor (role "from") or assignee ("to") to a
// transfer once, as the primary key of tly_transfer_orgs does.
func (f *tallyFacts) transferParty(transfer int32, role, org string) {
	o, t := f.orgIndex(org), &f.transfers[transfer]
	parties := &t.to
	if role == "from" {
		parties = &t.from
	}
	if !slices.Contains(*parties, o) {
		*parties = append(*parties, o)
	}
}

// transfersTally computes a transfers tally into t (see tallier.transfers):
// per bucket the transfers, their distinct patents, the sum of their prices
// and those from a university to an enterprise; the total counts the
// distinct patents of the whole range.
func (f *tallyFacts) transfersTally(q TallyQuery, spans []span, t *Tally) {
	match := f.transferFilter(q)
	from, to := dayNumber(q.From), dayNumber(q.To)
	bucket := bucketsByDay(spans, from)
	var inRange []int32
	for i := range f.transfers {
		if tr := &f.transfers[i]; tr.day >= from && tr.day <= to && (match == nil || match(tr)) {
			inRange = append(inRange, int32(i))
		}
	}
	slices.SortStableFunc(inRange, func(a, b int32) int { return cmp.Compare(f.transfers[a].day, f.transfers[b].day) })
	patents := newDistinct(len(f.patents))
	for k, i := range inRange {
		tr := &f.transfers[i]
		b := t.Buckets[bucket[tr.day-from]].Values
		b[0]++
		patents.add(tr.patent)
		b[2] += tr.priceFen
		if f.anyOfKind(tr.from, domain.OrgUniversity) && f.anyOfKind(tr.to, domain.OrgEnterprise) {
			b[3]++
		}
		if k+1 == len(inRange) || bucket[f.transfers[inRange[k+1]].day-from] != bucket[tr.day-from] {
			b[1] = patents.endBucket()
		}
	}
	sumBuckets(t, 0, 2, 3)
	t.Total.Values[1] = patents.inTotal
}

// anyOfKind reports whether one of the organisations is known to be of
// kind.
func (f *tallyFacts) anyOfKind(orgs []int32, kind domain.OrgKind) bool {
	return slices.ContainsFunc(orgs, func(o int32) bool { return f.orgs[o].known && f.orgs[o].kind == kind })
}

// transferFilter returns whether a transfer passes the query's filters,
// with the meaning the SQL conditions give them (its patentees are the
// assignors, its counterparties the assignees); nil when the query has
// none.
func (f *tallyFacts) transferFilter(q TallyQuery) func(*transferFact) bool {
	var conds []func(*transferFact) bool
	if q.LicenseeID != "" {
		id, ok := f.orgIDs[q.LicenseeID]
		conds = append(conds, func(tr *transferFact) bool { return ok && slices.Contains(tr.to, id) })
	}
	if q.SME != nil {
		conds = append(conds, func(tr *transferFact) bool {
			return slices.ContainsFunc(tr.to, func(o int32) bool { return f.orgs[o].known && f.orgs[o].sme == *q.SME })
		})
	}
	if match := f.factFilter(q); match != nil {
		conds = append(conds, func(tr *transferFact) bool { return match(tr.patent, tr.from) })
	}
	return allOf(conds)
}

// reviewFact is the latest review of a patent in a campaign.
type reviewFact struct {
	patent, day        int32
	reviewer           int32 // the reviewing patentee
	campaign           string
	grade, disposition int
}

// reviewGrades and reviewDispositions number the grades and dispositions
// as the columns of the reviews tally do.
var reviewGrades, reviewDispositions = indexOf(domain.Grades), indexOf(domain.Dispositions)

// review records a review of a patent in a campaign, or replaces the one
// there, as INSERT OR REPLACE into tly_reviews does.
func (f *tallyFacts) review(number, campaign, reviewer string, day int32, grade, disposition string) {
	r := reviewFact{patent: f.patentIndex(number), day: day, reviewer: f.orgIndex(reviewer), campaign: campaign,
		grade: reviewGrades[grade], disposition: reviewDispositions[disposition]}
	key := [2]string{number, campaign}
	if i, ok := f.reviewKeys[key]; ok {
		f.reviews[i] = r
		return
	}
	f.reviewKeys[key] = int32(len(f.reviews))
	f.reviews = append(f.reviews, r)
}

// reviewsTally computes a reviews tally into t (see tallier.reviews): per
// bucket the reviews, by grade and by disposition.
func (f *tallyFacts) reviewsTally(q TallyQuery, spans []span, t *Tally) {
	test := f.factTest(q)
	from, to := dayNumber(q.From), dayNumber(q.To)
	bucket := bucketsByDay(spans, from)
	for i := range f.reviews {
		r := &f.reviews[i]
		if r.day < from || r.day > to || (q.Campaign != "" && r.campaign != q.Campaign) || (test != nil && !test.passesOne(r.patent, r.reviewer)) {
			continue
		}
		b := t.Buckets[bucket[r.day-from]].Values
		b[0]++
		b[1+r.grade]++
		b[1+len(reviewGrades)+r.disposition]++
	}
	sumBuckets(t, allColumns(len(t.Columns))...)
}
