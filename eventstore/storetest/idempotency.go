package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// testIdempotency proves §3.4: a repeat is a no-op that returns the original
// result even when its expectations no longer hold, a repeat with other
// content is refused, and so are duplicate IDs within one call.
func (s *suite) testIdempotency(t *testing.T) {
	st, _ := s.open(t)
	mustAppend(t, st, to("other", domain.ExpectNoStream, NewEventData()))
	a, b := events(2), events(1)
	original := []domain.StreamAppend{to("i-1", domain.ExpectNoStream, a...), to("i-2", domain.ExpectNoStream, b...)}
	want := mustAppend(t, st, original...)
	wantResult(t, want, 4, domain.StreamVersion{Stream: "i-1", Version: 2}, domain.StreamVersion{Stream: "i-2", Version: 1})

	before := take(t, st, "i-1", "i-2")
	wantRepeat(t, st, want, original...)
	unchanged(t, st, before)

	mustAppend(t, st, to("i-1", domain.ExpectVersion(2), NewEventData()))
	before = take(t, st, "i-1", "i-2")
	wantRepeat(t, st, want, original...)
	wantRepeat(t, st, want, to("i-1", domain.ExpectVersion(7), a...), to("i-2", domain.ExpectAny, b...))
	later := retimed(a)
	wantRepeat(t, st, want, to("i-1", domain.ExpectNoStream, later...), to("i-2", domain.ExpectNoStream, b...))
	unchanged(t, st, before)

	otherData, otherType := retimed(a), retimed(a)
	otherData[1].Data = []byte(`{"changed":true}`)
	otherType[0].Type = "patent.other.v1"
	newSecond := []domain.EventData{a[0], NewEventData()}
	mismatches := []struct {
		name    string
		appends []domain.StreamAppend
	}{
		{"other data", []domain.StreamAppend{to("i-1", domain.ExpectAny, otherData...), to("i-2", domain.ExpectAny, b...)}},
		{"other type", []domain.StreamAppend{to("i-1", domain.ExpectAny, otherType...), to("i-2", domain.ExpectAny, b...)}},
		{"other stream", []domain.StreamAppend{to("i-3", domain.ExpectAny, a...), to("i-2", domain.ExpectAny, b...)}},
		{"an event not stored", []domain.StreamAppend{to("i-1", domain.ExpectAny, newSecond...)}},
	}
	for _, m := range mismatches {
		_, err := st.Append(ctx(t), m.appends...)
		if !errors.Is(err, domain.ErrIdempotencyMismatch) {
			t.Fatalf("%s: got error %v, want an idempotency mismatch", m.name, err)
		}
		unchanged(t, st, before)
	}

	dup := NewEventData()
	for _, appends := range [][]domain.StreamAppend{
		{to("i-4", domain.ExpectNoStream, dup, dup)},
		{to("i-4", domain.ExpectNoStream, dup), to("i-5", domain.ExpectNoStream, dup)},
	} {
		_, err := st.Append(ctx(t), appends...)
		wantErr(t, err, domain.ErrInvalidArgument)
		unchanged(t, st, before)
	}
}

// testConcurrentRepeats proves that the same append sent by many goroutines
// at once is written once and answered alike to every caller.
func (s *suite) testConcurrentRepeats(t *testing.T) {
	st, _ := s.open(t)
	const callers = 16
	for round := range 3 {
		appends := []domain.StreamAppend{to("r-"+newID(), domain.ExpectNoStream, events(2)...)}
		results := make([]domain.AppendResult, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				var err error
				if results[i], err = st.Append(ctx(t), appends...); err != nil {
					t.Errorf("round %d caller %d: %v", round, i, err)
				}
			})
		}
		wg.Wait()
		for i := range results {
			wantResult(t, results[i], int64(2*round+2), domain.StreamVersion{Stream: appends[0].Stream, Version: 2})
		}
		wantVersions(t, readStream(t, st, appends[0].Stream), 1, 2)
	}
	wantPositions(t, readAll(t, st), 1, 6)
}

// wantRepeat appends a repeat and fails the test unless it returns want.
func wantRepeat(t testing.TB, st domain.EventStore, want domain.AppendResult, appends ...domain.StreamAppend) {
	t.Helper()
	got, err := st.Append(ctx(t), appends...)
	if err != nil {
		t.Fatalf("repeated Append: %v", err)
	}
	wantResult(t, got, want.Position, want.Streams...)
}

// retimed returns copies of evs recorded an hour later, as a retry of the
// same command would be.
func retimed(evs []domain.EventData) []domain.EventData {
	out := make([]domain.EventData, len(evs))
	for i, e := range evs {
		e.Meta.RecordedAt = e.Meta.RecordedAt.Add(time.Hour)
		out[i] = e
	}
	return out
}
