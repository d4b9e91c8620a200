package projections

import (
	"fmt"
	"time"

	"github.com/patentledger/ledger/domain"
)

// Period is the length of a tally bucket. Buckets follow business dates
// (Asia/Shanghai calendar days), never timestamps or the machine's zone.
type Period string

// Tally periods, with their bucket labels.
const (
	Day     Period = "day"     // 2024-03-05
	Week    Period = "week"    // 2024-W10 (ISO 8601 week-numbering year and week)
	Month   Period = "month"   // 2024-03
	Quarter Period = "quarter" // 2024-Q1
	Year    Period = "year"    // 2024
)

// Periods lists every period.
var Periods = []Period{Day, Week, Month, Quarter, Year}

// MaxBuckets bounds the number of buckets of one tally.
const MaxBuckets = 5000

// Label returns the label of the bucket of p that holds d.
func (p Period) Label(d domain.Date) string {
	switch p {
	case Week:
		y, w := d.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Month:
		return fmt.Sprintf("%04d-%02d", d.Year(), int(d.Month()))
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", d.Year(), d.Quarter())
	case Year:
		return fmt.Sprintf("%04d", d.Year())
	}
	return d.String()
}

// sqlLabel returns the SQL expression of the label of a 'YYYY-MM-DD' date
// column; it computes the same labels as Label.
func (p Period) sqlLabel(col string) string {
	switch p {
	case Week:
		return "strftime('%G-W%V', " + col + ")"
	case Month:
		return "substr(" + col + ", 1, 7)"
	case Quarter:
		return "substr(" + col + ", 1, 5) || 'Q' || ((CAST(substr(" + col + ", 6, 2) AS INTEGER) + 2) / 3)"
	case Year:
		return "substr(" + col + ", 1, 4)"
	}
	return col
}

// next returns the first day of the bucket after the one holding d.
func (p Period) next(d domain.Date) domain.Date {
	switch p {
	case Week:
		isoDay := (int(d.Time().Weekday()) + 6) % 7 // Monday 0 … Sunday 6
		return d.AddDays(7 - isoDay)
	case Month:
		return domain.NewDate(d.Year(), d.Month()+1, 1)
	case Quarter:
		return domain.NewDate(d.Year(), time.Month(3*d.Quarter()+1), 1)
	case Year:
		return domain.NewDate(d.Year()+1, time.January, 1)
	}
	return d.AddDays(1)
}

// span is one bucket of a tally: its label and its last day within the
// tally's range.
type span struct {
	label string
	last  domain.Date
}

// spans returns the buckets of p that cover from..to, in order, each ending
// on its last day or on to. It returns an invalid_argument error when there
// would be more than MaxBuckets.
func (p Period) spans(from, to domain.Date) ([]span, error) {
	var out []span
	for d := from; !d.After(to); d = p.next(d) {
		if len(out) == MaxBuckets {
			return nil, domain.Invalid("to", "the range from %s to %s has more than %d %s buckets; choose a longer period", from, to, MaxBuckets, p)
		}
		last := p.next(d).AddDays(-1)
		if last.After(to) {
			last = to
		}
		out = append(out, span{label: p.Label(d), last: last})
	}
	return out, nil
}
