package projections

import (
	"slices"
	"strconv"
)

// pledgeFact is one pledge of patents to a bank: its pledgor, its
// patents, the day it was registered and the amount it secures, and the
// day it was released, if it was.
type pledgeFact struct {
	pledgor              int32
	patents              []int32
	registered, released int32
	isReleased           bool
	securedFen           int64
}

// pledge adds a pledge without patents, unless it was added before (each
// patent's event of a pledge of several patents carries it), as INSERT OR
// IGNORE into tly_pledges does, and returns its index.
func (f *tallyFacts) pledge(id, pledgor string, registered int32, securedFen int64) int32 {
	i, ok := f.pledgeIDs[id]
	if !ok {
		i = int32(len(f.pledges))
		f.pledgeIDs[id] = i
		f.pledges = append(f.pledges, pledgeFact{pledgor: f.orgIndex(pledgor), registered: registered, securedFen: securedFen})
	}
	return i
}

// pledgePatent adds a patent to a pledge once, as the primary key of
// tly_pledge_patents does.
func (f *tallyFacts) pledgePatent(pledge int32, number string) {
	patent, p := f.patentIndex(number), &f.pledges[pledge]
	if !slices.Contains(p.patents, patent) {
		p.patents = append(p.patents, patent)
	}
}

// loadPledge adds a pledge from its row of tly_pledges: pledge_id,
// pledgor_id, registered_on, secured_fen and released_on ("" for none).
func (f *tallyFacts) loadPledge(c []string) error {
	registered, err := parseDays(c[2])
	if err != nil {
		return err
	}
	secured, err := strconv.ParseInt(c[3], 10, 64)
	if err != nil {
		return err
	}
	f.pledge(c[0], c[1], registered[0], secured)
	if c[4] == "" {
		return nil
	}
	released, err := parseDays(c[4])
	if err == nil {
		f.releasePledge(c[0], released[0])
	}
	return err
}

// releasePledge records the release of a pledge on day, as the UPDATE of
// tly_pledges does: nothing for a pledge never registered.
func (f *tallyFacts) releasePledge(id string, day int32) {
	if i, ok := f.pledgeIDs[id]; ok {
		f.pledges[i].isReleased, f.pledges[i].released = true, day
	}
}

// pledgesTally computes a pledges tally into t (see tallier.pledges): per
// bucket the pledges registered, released and the amounts they secure, and
// those in force on its last day: registered on or before it and not
// released by then.
func (f *tallyFacts) pledgesTally(q TallyQuery, spans []span, t *Tally) {
	match := f.pledgeFilter(q)
	from, to := dayNumber(q.From), dayNumber(q.To)
	bucketOf := bucketsByDay(spans, from)
	var before int64 // in force the day before the range
	for i := range f.pledges {
		p := &f.pledges[i]
		if match != nil && !match(p) {
			continue
		}
		switch {
		case p.registered < from:
			before++
		case p.registered <= to:
			b := t.Buckets[bucketOf[p.registered-from]].Values
			b[0]++
			b[2] += p.securedFen
		}
		switch {
		case !p.isReleased:
		case p.released < from:
			before--
		case p.released <= to:
			t.Buckets[bucketOf[p.released-from]].Values[1]++
		}
	}
	inForce := before
	for _, b := range t.Buckets {
		inForce += b.Values[0] - b.Values[1]
		b.Values[3] = inForce
	}
	sumBuckets(t, 0, 1, 2)
	t.Total.Values[3] = inForce
}

// pledgeFilter returns whether a pledge passes the query's filters, with
// the meaning the SQL conditions give them: its patentee is the pledgor,
// and the IPC and kind filters each ask for one of its patents (not
// necessarily the same one); nil when the query has none.
func (f *tallyFacts) pledgeFilter(q TallyQuery) func(*pledgeFact) bool {
	var conds []func(*pledgeFact) bool
	if q.PatenteeID != "" || q.Region != "" {
		owner := f.factTest(TallyQuery{PatenteeID: q.PatenteeID, Region: q.Region}) // no patent test: any patent passes
		conds = append(conds, func(p *pledgeFact) bool { return owner.passesOne(0, p.pledgor) })
	}
	for _, patentQuery := range []TallyQuery{{IPCPrefix: q.IPCPrefix}, {Kind: q.Kind}} {
		if patentQuery == (TallyQuery{}) {
			continue
		}
		passing := f.factTest(patentQuery)
		conds = append(conds, func(p *pledgeFact) bool { return slices.ContainsFunc(p.patents, passing.patentPasses) })
	}
	return allOf(conds)
}
