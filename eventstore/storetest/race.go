package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// racers is how many goroutines testConcurrentConflicts starts at once.
const racers = 16

// testConcurrentConflicts proves §3.1 under contention: when many
// goroutines append at the same moment to one stream with the same
// expectation (no stream, then an exact version), each together with an
// event for a stream of its own, exactly one wins and every other gets a
// conflict, and no part of a losing append is stored.
func (s *suite) testConcurrentConflicts(t *testing.T) {
	st, _ := s.open(t)
	var log []string
	for round, exp := range []domain.ExpectedVersion{domain.ExpectNoStream, domain.ExpectVersion(1), domain.ExpectVersion(2)} {
		winner := race(t, st, round, exp)
		log = append(log, winner...)
		wantIDs(t, readAll(t, st), log...)
		stream := readStream(t, st, "race")
		wantVersions(t, stream, 1, int64(exp)+1)
		wantIDs(t, stream[len(stream)-1:], winner[0])
	}
	wantChained(t, readAll(t, st))
}

// race makes racers appends at once, each of one event to the stream
// "race" with expectation exp and one to a stream of its own, and fails
// the test unless exactly one succeeds, the others fail with a conflict,
// and the losers' own streams stay empty. It returns the IDs of the
// winner's events.
func race(t *testing.T, st domain.EventStore, round int, exp domain.ExpectedVersion) []string {
	t.Helper()
	appends := make([][]domain.StreamAppend, racers)
	errs := make([]error, racers)
	for i := range appends {
		own := fmt.Sprintf("racer-%d-%d", round, i)
		appends[i] = []domain.StreamAppend{to("race", exp, NewEventData()), to(own, domain.ExpectNoStream, NewEventData())}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range appends {
		wg.Go(func() {
			<-start
			_, errs[i] = st.Append(ctx(t), appends[i]...)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("round %d: racers %d and %d both appended with expectation %d", round, winner, i, exp)
		case err == nil:
			winner = i
		case !errors.Is(err, domain.ErrConflict):
			t.Fatalf("round %d: racer %d got %v, want a conflict", round, i, err)
		case len(readStream(t, st, appends[i][1].Stream)) != 0:
			t.Fatalf("round %d: racer %d lost but its own stream was written", round, i)
		}
	}
	if winner < 0 {
		t.Fatalf("round %d: no racer appended with expectation %d", round, exp)
	}
	return []string{appends[winner][0].Events[0].ID, appends[winner][1].Events[0].ID}
}
