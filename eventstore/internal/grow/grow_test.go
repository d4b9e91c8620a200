package grow

import "testing"

// TestAppendDoublesAFullSlice checks the contents after many appends and
// that each growth at least doubles the capacity, so n appends reallocate
// only about log2(n) times.
func TestAppendDoublesAFullSlice(t *testing.T) {
	var s []int
	grown := 0
	for i := range 50_000 {
		before := cap(s)
		s = Append(s, i)
		if cap(s) != before {
			grown++
			if before > 0 && cap(s) < 2*before {
				t.Fatalf("capacity grew from %d to %d, less than double", before, cap(s))
			}
		}
	}
	for i, v := range s {
		if v != i {
			t.Fatalf("s[%d] = %d", i, v)
		}
	}
	if len(s) != 50_000 || grown > 13 {
		t.Fatalf("len %d after 50,000 appends, %d reallocations (want at most 13)", len(s), grown)
	}
}
