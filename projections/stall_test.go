package projections

import "testing"

// TestStalledMeansBehindAndStandingStill: the stall check catches up a
// projection only when it is behind the head seen at the previous check
// and has not moved since; one that moves is working through a backlog,
// and one that stopped stays stopped.
func TestStalledMeansBehindAndStandingStill(t *testing.T) {
	at := func(checkpoint int64, healthy bool) Status {
		return Status{Name: "listings", Checkpoint: checkpoint, Healthy: healthy}
	}
	for _, c := range []struct {
		name        string
		before, now Status
		head        int64
		want        bool
	}{
		{"behind and standing still", at(3, true), at(3, true), 7, true},
		{"behind but moving", at(3, true), at(5, true), 7, false},
		{"at the head", at(7, true), at(7, true), 7, false},
		{"stopped", at(3, false), at(3, false), 7, false},
	} {
		if got := stalled([]Status{c.before}, []Status{c.now}, c.head); got != c.want {
			t.Errorf("%s: stalled = %v, want %v", c.name, got, c.want)
		}
	}
}
