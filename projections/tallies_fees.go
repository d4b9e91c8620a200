package projections

// Fees is the tally of the fees and royalties paid under licences (the
// fees_fen of the deals tally), split by how they are paid (DOMAIN.md,
// tally 2: lump sums, instalments, royalties). A payment is counted on
// the day it was paid and is
//   - an instalment when its licence is an open licence under a
//     declaration whose fee mode is instalment, the fee paid on taking
//     the licence as well as every later payment;
//   - otherwise a lump sum when it is the fee paid on taking the licence
//     (a lump sum, an entry fee, or the agreed fee of a negotiated
//     licence);
//   - otherwise a royalty (a payment recorded later under the licence).
//
// The filters are those of the deals tally and apply to the payment's
// licence.
const Fees = "fees"

// The kinds of payment, as tly_payments.kind holds them.
const (
	paidLumpSum    = "lump_sum"
	paidInstalment = "instalment"
	paidRoyalty    = "royalty"
)

// paymentKinds are the kinds of payment in the order of the fees tally's
// columns after fees_fen; the in-memory index stores a payment's kind as
// its position here.
var paymentKinds = []string{paidLumpSum, paidInstalment, paidRoyalty}

func init() {
	subjects[Fees] = subject{table: "tly_payments l", patents: "p.number = l.number",
		patentees:      "SELECT x.org_id FROM tly_license_orgs x WHERE x.license_id = l.license_id",
		counterparties: "SELECT l.licensee_id", typeColumn: "l.type",
		columns: []string{"payments", "fees_fen", "lump_sums_fen", "instalments_fen", "royalties_fen"},
		compute: (*tallier).fees}
}

// fees sums the payments of each bucket, in all and by kind.
func (t *tallier) fees() error {
	selects := "COUNT(*), SUM(l.amount_fen)"
	for _, kind := range paymentKinds {
		selects += ", SUM(iif(l.kind = '" + kind + "', l.amount_fen, 0))"
	}
	cols := allColumns(len(t.s.columns))
	err := t.grouped("l.paid_on", t.s.table, selects, cols...)
	t.sumTotals(cols...)
	return err
}

// feesTally computes a fees tally into t (see tallier.fees).
func (f *tallyFacts) feesTally(q TallyQuery, spans []span, t *Tally) {
	match := f.filter(q)
	from, to := dayNumber(q.From), dayNumber(q.To)
	bucket := bucketsByDay(spans, from)
	f.eachPayment(from, to, func(pay dealPayment) {
		if match != nil && !match(&f.deals[pay.deal]) {
			return
		}
		b := t.Buckets[bucket[pay.day-from]].Values
		b[0]++
		b[1] += pay.amountFen
		b[2+pay.kind] += pay.amountFen
	})
	sumBuckets(t, allColumns(len(t.Columns))...)
}
