package projections

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"
)

// A declaration counts as in effect in the tallies only on the days its
// patent is active, as the listings list it: a lapsed, invalidated or
// abandoned patent offers nothing anyone can take, and pays no annual fee
// to reduce. Its days in effect are the declaration's own (declared_on to
// the day before stop_on) less the patent's inactive spells.

// inactiveSpells returns the days on which a patent is not active, from
// its status changes in the order they were recorded: from a change that
// leaves it lapsed, invalidated or abandoned to the day before one that
// makes it active again (to math.MaxInt32 when none does). Of two changes
// effective on one day, the later recorded wins, as in the domain.
func inactiveSpells(changes []statusChange) []dayRange {
	if len(changes) == 0 {
		return nil
	}
	byDay := slices.Clone(changes)
	slices.SortStableFunc(byDay, func(a, b statusChange) int { return cmp.Compare(a.day, b.day) })
	var spells []dayRange
	active := true
	for i, c := range byDay {
		if i+1 < len(byDay) && byDay[i+1].day == c.day {
			continue // overruled the same day
		}
		switch {
		case active && !c.active:
			spells = append(spells, dayRange{first: c.day, last: math.MaxInt32})
		case !active && c.active:
			spells[len(spells)-1].last = c.day - 1
		}
		active = c.active
	}
	return spells
}

// holes appends to out the days of r on which the patent is not active
// (spells from inactiveSpells), in order, and returns it.
func holes(out []dayRange, r dayRange, spells []dayRange) []dayRange {
	for _, s := range spells {
		if h := (dayRange{first: max(r.first, s.first), last: min(r.last, s.last)}); h.last >= h.first {
			out = append(out, h)
		}
	}
	return out
}

// appendActiveParts appends to out the days of r on which the patent is
// active (spells from inactiveSpells), in order, and returns it.
func appendActiveParts(out []dayRange, r dayRange, spells []dayRange) []dayRange {
	next := r.first
	for _, s := range spells {
		h := dayRange{first: max(r.first, s.first), last: min(r.last, s.last)}
		if h.last < h.first {
			continue
		}
		if h.first > next {
			out = append(out, dayRange{first: next, last: h.first - 1})
		}
		next = h.last + 1
	}
	if next <= r.last {
		out = append(out, dayRange{first: next, last: r.last})
	}
	return out
}

// readInactiveSpells reads the inactive spells of every patent whose
// status ever changed, by patent number, for the tallies answered in SQL.
func readInactiveSpells(ctx context.Context, tx *sql.Tx) (map[string][]dayRange, error) {
	changes := map[string][]statusChange{}
	err := scanStrings(ctx, tx, "SELECT number, effective_on, status = 'active' FROM tly_patent_status ORDER BY number, effective_on, seq",
		func(c []string) error {
			days, err := parseDays(c[1])
			if err == nil {
				changes[c[0]] = append(changes[c[0]], statusChange{day: days[0], active: c[2] == "1"})
			}
			return err
		})
	if err != nil {
		return nil, err
	}
	spells := make(map[string][]dayRange, len(changes))
	for number, cs := range changes {
		spells[number] = inactiveSpells(cs)
	}
	return spells, nil
}
