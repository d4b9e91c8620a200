package projections

import (
	"math"
	"reflect"
	"testing"
)

func TestInactiveSpells(t *testing.T) {
	lapse := func(day int32) statusChange { return statusChange{day: day} }
	restore := func(day int32) statusChange { return statusChange{day: day, active: true} }
	open := int32(math.MaxInt32)
	cases := []struct {
		name    string
		changes []statusChange
		want    []dayRange
	}{
		{"none", nil, nil},
		{"a lapse for good", []statusChange{lapse(10)}, []dayRange{{10, open}}},
		{"lapsed, then restored", []statusChange{lapse(10), restore(20)}, []dayRange{{10, 19}}},
		{"restored, recorded before the lapse", []statusChange{restore(20), lapse(10)}, []dayRange{{10, 19}}},
		{"two lapses, one restoration", []statusChange{lapse(10), lapse(15), restore(20), lapse(30)}, []dayRange{{10, 19}, {30, open}}},
		{"a restoration the same day, recorded later, wins", []statusChange{lapse(10), restore(10)}, nil},
		{"a lapse the same day, recorded later, wins", []statusChange{restore(10), lapse(10)}, []dayRange{{10, open}}},
		{"restored while active", []statusChange{restore(5), lapse(10), restore(12)}, []dayRange{{10, 11}}},
	}
	for _, c := range cases {
		if got := inactiveSpells(c.changes); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestActivePartsAndHoles(t *testing.T) {
	spells := []dayRange{{10, 19}, {30, math.MaxInt32}}
	cases := []struct {
		r            dayRange
		parts, holes []dayRange
	}{
		{dayRange{1, 5}, []dayRange{{1, 5}}, nil},
		{dayRange{1, 40}, []dayRange{{1, 9}, {20, 29}}, []dayRange{{10, 19}, {30, 40}}},
		{dayRange{12, 25}, []dayRange{{20, 25}}, []dayRange{{12, 19}}},
		{dayRange{12, 15}, nil, []dayRange{{12, 15}}},
		{dayRange{20, 29}, []dayRange{{20, 29}}, nil},
	}
	for _, c := range cases {
		if got := appendActiveParts(nil, c.r, spells); !reflect.DeepEqual(got, c.parts) {
			t.Errorf("appendActiveParts(%v) = %v, want %v", c.r, got, c.parts)
		}
		if got := holes(nil, c.r, spells); !reflect.DeepEqual(got, c.holes) {
			t.Errorf("holes(%v) = %v, want %v", c.r, got, c.holes)
		}
	}
}
