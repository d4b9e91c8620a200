package domain

import (
	"reflect"
	"testing"
)

func TestReductionBP(t *testing.T) {
	for _, c := range []struct {
		days int64
		year int
		want int64
	}{{365, 2023, 1500}, {366, 2024, 1500}, {0, 2024, 0}, {1, 2023, 4}, {730, 2023, 3000}, {306, 2024, 1254}, {181, 2025, 744}} {
		if got := ReductionBP(c.days, c.year); got != c.want {
			t.Errorf("ReductionBP(%d, %d) = %d, want %d", c.days, c.year, got, c.want)
		}
	}
}

// TestFeeReductionsByYear checks a patent's reductions by year: a term of
// 36 months from 2024-03-01 over four years, cut short by a withdrawal,
// holed by a lapse, and two declarations overlapping, whose common days
// count once.
func TestFeeReductionsByYear(t *testing.T) {
	reg := registered(t)
	second := declared(t, "D2", "2024-04-15")
	second.TermMonths, second.TermEndsOn = 3, TermEndsOn(day("2024-04-15"), 3) // to 2024-07-14
	for _, c := range []struct {
		name   string
		events []Event
		want   []YearReduction
	}{
		{"no declaration", []Event{reg}, nil},
		{"a whole term", []Event{reg, declared(t, "D1", "2024-03-01")},
			[]YearReduction{{2024, 306, 1254}, {2025, 365, 1500}, {2026, 365, 1500}, {2027, 59, 242}}},
		{"withdrawn from 2025-07-01", []Event{reg, declared(t, "D1", "2024-03-01"), withdrawn(t, "D1", "2025-07-01")},
			[]YearReduction{{2024, 306, 1254}, {2025, 181, 744}}},
		{"lapsed from 2024-06-01 to 2024-08-31", []Event{reg, declared(t, "D1", "2024-03-01"), withdrawn(t, "D1", "2025-01-01"),
			statusOn(t, StatusLapsed, "2024-06-01"), statusOn(t, StatusActive, "2024-09-01")},
			[]YearReduction{{2024, 92 + 122, ReductionBP(214, 2024)}}},
		{"two declarations overlapping", []Event{reg, declared(t, "D1", "2024-03-01"), withdrawn(t, "D1", "2024-05-01"), second},
			[]YearReduction{{2024, 31 + 30 + 31 + 30 + 14, ReductionBP(136, 2024)}}},
	} {
		p := &Patent{}
		for _, e := range c.events {
			p.Apply(e)
		}
		if got := p.FeeReductions(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
