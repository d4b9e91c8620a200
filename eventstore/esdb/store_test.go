package esdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/esdb/esdbtest"
	"github.com/patentledger/ledger/eventstore/storetest"
)

// one returns an append of one fresh event to stream.
func one(stream string, exp domain.ExpectedVersion) domain.StreamAppend {
	return domain.StreamAppend{Stream: stream, Expected: exp, Events: []domain.EventData{storetest.NewEventData()}}
}

// waitAcross fails the test unless follower's WaitForPosition(0) returns
// once writer, another store over the same streams, appends.
func waitAcross(t *testing.T, writer, follower *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a hang fails instead of stalling
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- follower.WaitForPosition(ctx, 0) }()
	if _, err := writer.Append(ctx, one("w", domain.ExpectNoStream)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitForPosition: %v", err)
	}
}

// TestWaitForPositionFollowsOtherProcess proves that a store learns of
// appends made through another store, as by another process, from its
// subscription to the log stream.
func TestWaitForPositionFollowsOtherProcess(t *testing.T) {
	url, prefix := backend(t)
	writer := connect(t, url, Options{Prefix: prefix})
	defer writer.Close()
	follower := connect(t, url, Options{Prefix: prefix, PollInterval: time.Hour}) // only the subscription can wake it
	defer follower.Close()
	waitAcross(t, writer, follower)
}

// TestWaitForPositionPollsWithoutSubscription proves the polling fallback:
// on a server that refuses subscriptions a store still learns of appends
// made through another store, by reading the head.
func TestWaitForPositionPollsWithoutSubscription(t *testing.T) {
	t.Logf("running against the %s, made to refuse subscriptions", wireNote)
	srv, err := esdbtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.RefuseSubscriptions()
	writer := connect(t, srv.URL(), Options{})
	defer writer.Close()
	follower := connect(t, srv.URL(), Options{PollInterval: 10 * time.Millisecond})
	defer follower.Close()
	waitAcross(t, writer, follower)
}

// TestReservedStreamNames proves that ledger streams whose names
// EventStoreDB or the store reserve are escaped: they are stored and read
// like any other and do not disturb the log.
func TestReservedStreamNames(t *testing.T) {
	t.Logf("running against the %s", wireNote)
	s := connect(t, wireServer(t).URL(), Options{Prefix: "n" + uuid.NewString()[:8] + "-"})
	defer s.Close()
	tricky := []string{logStream, checkpointStream, idStreamPrefix + uuid.NewString(), "$all", "$$meta", "~x", "~~x", "x"}
	for _, stream := range tricky {
		if _, err := s.Append(t.Context(), one(stream, domain.ExpectNoStream)); err != nil {
			t.Fatalf("Append to %q: %v", stream, err)
		}
	}
	for _, stream := range tricky {
		evs, err := s.ReadStream(t.Context(), stream, 0, 0)
		if err != nil || len(evs) != 1 || evs[0].Stream != stream {
			t.Fatalf("ReadStream(%q) = %d events, %v; want its one event", stream, len(evs), err)
		}
	}
	v, err := domain.VerifyChain(t.Context(), s, nil)
	if err != nil || !v.Intact() || v.Events != int64(len(tricky)) {
		t.Fatalf("VerifyChain = %+v, %v; want %d events intact", v, err, len(tricky))
	}
	seen := map[string]bool{}
	for _, stream := range tricky {
		name := s.names.stream(stream)
		if seen[name] || name == s.names.log() || name == s.names.checkpoint() {
			t.Fatalf("stream %q maps to %q, which is taken", stream, name)
		}
		seen[name] = true
	}
}

// TestGroupCommitBatch runs one batch by hand: a conflict in the middle
// writes nothing, the others share one log write, and a repeat of an
// append earlier in the same batch is answered with that append's result.
func TestGroupCommitBatch(t *testing.T) {
	t.Logf("running against the %s", wireNote)
	s := connect(t, wireServer(t).URL(), Options{Prefix: "g" + uuid.NewString()[:8] + "-"})
	defer s.Close()
	first := []domain.StreamAppend{{Stream: "a", Expected: domain.ExpectNoStream,
		Events: []domain.EventData{storetest.NewEventData(), storetest.NewEventData()}}}
	batch := []*request{newRequest(first), newRequest([]domain.StreamAppend{one("a", domain.ExpectVersion(5))}),
		newRequest([]domain.StreamAppend{one("b", domain.ExpectNoStream)}), newRequest(first)}
	s.sem <- struct{}{} // the writer is idle: nothing is queued
	replies := s.runBatch(batch)
	s.unlock()

	wantPositions := []int64{2, 0, 3, 2}
	for i, r := range replies {
		if i == 1 {
			if !errors.Is(r.err, domain.ErrConflict) {
				t.Fatalf("append %d: error %v, want a conflict", i, r.err)
			}
			continue
		}
		if r.err != nil || r.res.Position != wantPositions[i] {
			t.Fatalf("append %d = %+v, %v; want position %d", i, r.res, r.err, wantPositions[i])
		}
	}
	if n := rawCount(t, wireServer(t).URL(), s.names.log()); n != 3 {
		t.Fatalf("the log holds %d events, want 3", n)
	}
}

// newRequest builds the writer's request for a valid append.
func newRequest(appends []domain.StreamAppend) *request {
	r := &request{appends: normalize(appends, time.Now()), reply: make(chan reply, 1)}
	for _, a := range appends {
		for _, e := range a.Events {
			r.ids = append(r.ids, uuid.MustParse(e.ID))
		}
	}
	return r
}

// TestProcessesShareTheLog proves §3.1 and §3.3 across processes: two
// stores over the same streams, each appending from a few goroutines to
// shared and own streams, keep positions dense, versions dense and the
// chain intact, with every acknowledged event stored exactly once.
func TestProcessesShareTheLog(t *testing.T) {
	url, prefix := backend(t)
	stores := []*Store{connect(t, url, Options{Prefix: prefix}), connect(t, url, Options{Prefix: prefix})}
	for _, s := range stores {
		defer s.Close()
	}
	acked := make(chan string, 200)
	var wg sync.WaitGroup
	for p, s := range stores {
		for g := range 3 {
			wg.Go(func() {
				for i := range 8 {
					a := one(fmt.Sprintf("shared-%d", i%2), domain.ExpectAny)
					b := one(fmt.Sprintf("own-%d-%d-%d", p, g, i), domain.ExpectNoStream)
					if _, err := s.Append(t.Context(), a, b); err != nil {
						t.Errorf("store %d: Append: %v", p, err)
						return
					}
					acked <- a.Events[0].ID
					acked <- b.Events[0].ID
				}
			})
		}
	}
	wg.Wait()
	close(acked)
	want := map[string]bool{}
	for id := range acked {
		want[id] = true
	}
	for p, s := range stores {
		wantLog(t, s, want)
		for i := range 2 {
			evs, err := s.ReadStream(t.Context(), fmt.Sprintf("shared-%d", i), 0, 0)
			if err != nil || len(evs) != 24 || evs[23].Version != 24 {
				t.Fatalf("store %d: shared-%d = %d events, %v; want versions 1..24", p, i, len(evs), err)
			}
		}
	}
}

// wantLog fails the test unless st's log holds exactly the events in want,
// at positions 1..n, with the chain intact.
func wantLog(t *testing.T, st domain.EventStore, want map[string]bool) {
	t.Helper()
	all, err := st.ReadAll(t.Context(), 0, 1000)
	if err != nil || len(all) != len(want) {
		t.Fatalf("ReadAll = %d events, %v; want %d", len(all), err, len(want))
	}
	for i, e := range all {
		if e.Position != int64(i)+1 || !want[e.ID] {
			t.Fatalf("log event %d is %s at %d (acknowledged: %v)", i, e.ID, e.Position, want[e.ID])
		}
	}
	v, err := domain.VerifyChain(t.Context(), st, nil)
	if err != nil || !v.Intact() || v.Events != int64(len(want)) {
		t.Fatalf("VerifyChain = %+v, %v; want %d events intact", v, err, len(want))
	}
}

// TestCatchUpSkipsCopiedEvents proves that a store catching up with
// appends another process made and finished checks them (one read per
// stream) without writing anything again.
func TestCatchUpSkipsCopiedEvents(t *testing.T) {
	t.Logf("running against a fresh %s", wireNote)
	srv, err := esdbtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	a := connect(t, srv.URL(), Options{})
	defer a.Close()
	b := connect(t, srv.URL(), Options{})
	defer b.Close()
	for i := range 5 {
		if _, err := a.Append(t.Context(), one(fmt.Sprintf("s-%d", i), domain.ExpectNoStream)); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	before := srv.AppendCalls()
	evs, err := b.ReadStream(t.Context(), "s-3", 0, 0)
	if err != nil || len(evs) != 1 {
		t.Fatalf("ReadStream = %d events, %v; want 1", len(evs), err)
	}
	if b.applied.Load() != 5 {
		t.Fatalf("the reading store caught up to %d, want 5", b.applied.Load())
	}
	if n := srv.AppendCalls() - before; n != 0 {
		t.Fatalf("catching up made %d append calls, want none", n)
	}
}

// TestGatherKeepsBatchesSmall proves that the writer's batches stay under
// maxBatchBytes (EventStoreDB refuses appends over 1 MiB by default): the
// request that would overflow a batch starts the next one.
func TestGatherKeepsBatchesSmall(t *testing.T) {
	big := func() *request {
		e := storetest.NewEventData()
		e.Data = make([]byte, maxBatchBytes/3)
		return newRequest([]domain.StreamAppend{{Stream: "s", Expected: domain.ExpectAny, Events: []domain.EventData{e}}})
	}
	s := &Store{reqs: make(chan *request, 4)}
	for range 3 {
		s.reqs <- big()
	}
	batch, next := s.gather(big())
	if len(batch) != 2 || next == nil {
		t.Fatalf("gather took %d requests and left %v, want 2 and the third", len(batch), next)
	}
	batch, next = s.gather(next)
	if len(batch) != 2 || next != nil {
		t.Fatalf("second gather took %d requests and left %v, want the last 2 and none", len(batch), next)
	}
}
