package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/patentledger/ledger/domain"
)

// Load of testConcurrentFollower: writers goroutines, each making rounds
// appends (in FollowUnderLoad), some of them to the shared streams.
const (
	writers = 48
	rounds  = 12
)

var shared = []string{"shared-0", "shared-1", "shared-2", "shared-3"}

// testConcurrentFollower proves §3.3 under load: while many goroutines
// append single events to their own and to shared streams (retrying on
// conflict) and multi-stream appends, a follower that reads the log after
// the last position it saw, and waits when it has caught up, sees every
// acknowledged event exactly once, at positions 1..N in order.
func (s *suite) testConcurrentFollower(t *testing.T) {
	st, _ := s.open(t)
	FollowUnderLoad(t, st, []domain.EventStore{st}, writers)
	for _, name := range shared {
		evs := readStream(t, st, name)
		wantVersions(t, evs, 1, int64(len(evs)))
	}
}

// FollowUnderLoad is the §3.3 check any test can run on several instances
// of one store (nodes): writers goroutines append through the stores in
// turn — single events to their own and to shared streams, retrying on
// conflict, and multi-stream appends — while follower reads the log after
// the last position it saw and waits when it has caught up. It fails the
// test unless the follower saw every acknowledged event exactly once, at
// its acknowledged position, at positions 1..N in order, with the hash
// chain intact.
func FollowUnderLoad(t *testing.T, follower domain.EventStore, stores []domain.EventStore, writers int) {
	t.Helper()
	stopWaiting, stop := context.WithCancel(ctx(t))
	defer stop()
	followed := make(chan []domain.RecordedEvent, 1)
	go func() { followed <- follow(t, follower, stopWaiting) }()

	acked := make([]map[string]int64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { acked[w] = writeLoad(t, stores[w%len(stores)], w) })
	}
	wg.Wait()
	stop()
	seen := <-followed
	if t.Failed() {
		t.FailNow()
	}
	want := map[string]int64{}
	for _, m := range acked {
		for id, pos := range m {
			want[id] = pos
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("follower saw %d events, %d were acknowledged", len(seen), len(want))
	}
	for _, e := range seen {
		if pos, ok := want[e.ID]; !ok || pos != e.Position {
			t.Fatalf("follower saw %s at %d; acknowledged at %d (%v)", e.ID, e.Position, pos, ok)
		}
	}
	wantPositions(t, seen, 1, int64(len(want)))
	wantChained(t, seen)
	wantIntact(t, follower, int64(len(want)))
}

// follow reads the log from the start until stopWaiting ends, waiting
// whenever it has caught up, and returns what it saw. It reports a gap, a
// step back or a repeat as a test error.
func follow(t *testing.T, st domain.EventStore, stopWaiting context.Context) []domain.RecordedEvent {
	var seen []domain.RecordedEvent
	ids := map[string]bool{}
	var last int64
	for {
		stopped := stopWaiting.Err() != nil // every append was acknowledged before this read
		batch, err := st.ReadAll(ctx(t), last, 50)
		if err != nil {
			t.Errorf("follower: ReadAll(%d): %v", last, err)
			return seen
		}
		for _, e := range batch {
			if e.Position != last+1 || ids[e.ID] {
				t.Errorf("follower: after position %d read %s at %d (seen before: %v)", last, e.ID, e.Position, ids[e.ID])
				return seen
			}
			ids[e.ID] = true
			seen = append(seen, e)
			last = e.Position
		}
		if len(batch) > 0 {
			continue
		}
		if stopped {
			return seen
		}
		if err := st.WaitForPosition(stopWaiting, last); err != nil && stopWaiting.Err() == nil {
			t.Errorf("follower: WaitForPosition(%d): %v", last, err)
			return seen
		}
	}
}

// writeLoad makes the appends of writer w and returns the position of every
// event acknowledged to it.
func writeLoad(t *testing.T, st domain.EventStore, w int) map[string]int64 {
	acked := map[string]int64{}
	known := map[string]int64{}
	for r := range rounds {
		own := fmt.Sprintf("writer-%d-%d", w, r)
		var appends []domain.StreamAppend
		var res domain.AppendResult
		var err error
		switch (w + r) % 4 {
		case 0, 1:
			appends = []domain.StreamAppend{to(own, domain.ExpectNoStream, NewEventData())}
			res, err = st.Append(ctx(t), appends...)
		case 2:
			appends, res, err = appendShared(t, st, shared[(w+r)%len(shared)], known)
		case 3:
			appends = []domain.StreamAppend{to(own+"-a", domain.ExpectNoStream, NewEventData()),
				to(shared[w%len(shared)], domain.ExpectAny, NewEventData()),
				to(own+"-b", domain.ExpectNoStream, events(2)...)}
			res, err = st.Append(ctx(t), appends...)
		}
		if err != nil {
			t.Errorf("writer %d round %d: %v", w, r, err)
			return acked
		}
		record(acked, appends, res)
	}
	return acked
}

// appendShared appends one event to a shared stream at the version this
// writer knows of, catching up and retrying on conflict.
func appendShared(t *testing.T, st domain.EventStore, stream string, known map[string]int64) ([]domain.StreamAppend, domain.AppendResult, error) {
	e := NewEventData()
	for range 1000 {
		appends := []domain.StreamAppend{to(stream, domain.ExpectVersion(known[stream]), e)}
		res, err := st.Append(ctx(t), appends...)
		if !errors.Is(err, domain.ErrConflict) {
			if err == nil {
				known[stream] = res.Streams[0].Version
			}
			return appends, res, err
		}
		newer, err := st.ReadStream(ctx(t), stream, known[stream], 0)
		if err != nil {
			return nil, res, err
		}
		if len(newer) > 0 {
			known[stream] = newer[len(newer)-1].Version
		}
	}
	return nil, domain.AppendResult{}, fmt.Errorf("stream %s: still in conflict after 1000 attempts", stream)
}

// record notes the position of every event of an acknowledged append: they
// are consecutive and end at res.Position.
func record(acked map[string]int64, appends []domain.StreamAppend, res domain.AppendResult) {
	n := 0
	for _, a := range appends {
		n += len(a.Events)
	}
	pos := res.Position - int64(n)
	for _, a := range appends {
		for _, e := range a.Events {
			pos++
			acked[e.ID] = pos
		}
	}
}
