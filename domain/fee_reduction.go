package domain

import (
	"cmp"
	"slices"
)

// FeeReductionBP is the reduction of a patent's annual fees while a
// declaration is in effect (PL 51(2); 2024 MOF/NDRC notice: 15%), in basis
// points of the fee.
const FeeReductionBP = 1500

// YearReduction is what a patent earns in one calendar year through open
// licensing: the days a declaration of it is in effect while it is active,
// and the reduction of its annual fee for them in basis points,
// ReductionBP(days, year) (a patent declared all year earns 1500).
type YearReduction struct {
	Year         int   `json:"year"`
	DeclaredDays int64 `json:"declared_days"`
	ReductionBP  int64 `json:"reduction_bp"`
}

// ReductionBP is the reduction earned by days in effect in a year:
// round(days × FeeReductionBP ÷ the days of the year), half up.
func ReductionBP(days int64, year int) int64 {
	daysInYear := int64(NewDate(year+1, 1, 1).DaysSince(NewDate(year, 1, 1)))
	return (2*days*FeeReductionBP + daysInYear) / (2 * daysInYear)
}

// FeeReductions returns the patent's reductions by year, in order, for
// each year with a day on which one of its declarations is in effect
// (InEffectOn) and the patent is active (StatusOn), the days of a term
// still to come included: a day counts once however many declarations
// cover it.
func (p *Patent) FeeReductions() []YearReduction {
	var out []YearReduction
	for _, r := range p.declaredRanges() {
		for day := r[0]; !day.After(r[1]); day = day.AddDays(1) {
			if p.StatusOn(day) != StatusActive {
				continue
			}
			if len(out) == 0 || out[len(out)-1].Year != day.Year() {
				out = append(out, YearReduction{Year: day.Year()})
			}
			out[len(out)-1].DeclaredDays++
		}
	}
	for i := range out {
		out[i].ReductionBP = ReductionBP(out[i].DeclaredDays, out[i].Year)
	}
	return out
}

// declaredRanges returns the days on which a declaration of the patent is
// in effect, as first and last days, in order, merged where they overlap
// or touch.
func (p *Patent) declaredRanges() [][2]Date {
	var ranges [][2]Date
	for _, d := range p.Declarations {
		last := d.TermEndsOn
		if !d.WithdrawnOn.IsZero() && !d.WithdrawnOn.After(last) {
			last = d.WithdrawnOn.AddDays(-1)
		}
		if !last.Before(d.DeclaredOn) {
			ranges = append(ranges, [2]Date{d.DeclaredOn, last})
		}
	}
	slices.SortFunc(ranges, func(a, b [2]Date) int { return cmp.Compare(a[0].DaysSince(b[0]), 0) })
	var merged [][2]Date
	for _, r := range ranges {
		if n := len(merged); n > 0 && !r[0].After(merged[n-1][1].AddDays(1)) {
			if r[1].After(merged[n-1][1]) {
				merged[n-1][1] = r[1]
			}
			continue
		}
		merged = append(merged, r)
	}
	return merged
}
