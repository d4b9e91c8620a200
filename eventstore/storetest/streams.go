package storetest

import (
	"testing"

	"github.com/patentledger/ledger/domain"
)

// testOptimisticConcurrency proves §3.1: each expectation kind holds or
// fails, and a failed one returns a conflict and writes nothing.
func (s *suite) testOptimisticConcurrency(t *testing.T) {
	st, _ := s.open(t)
	res := mustAppend(t, st, to("s-1", domain.ExpectNoStream, NewEventData()))
	wantResult(t, res, 1, domain.StreamVersion{Stream: "s-1", Version: 1})

	conflicts := []struct {
		name string
		a    domain.StreamAppend
	}{
		{"no stream on an existing stream", to("s-1", domain.ExpectNoStream, NewEventData())},
		{"a version behind", to("s-1", domain.ExpectVersion(0), NewEventData())},
		{"a version ahead", to("s-1", domain.ExpectVersion(2), NewEventData())},
		{"a version on a missing stream", to("s-2", domain.ExpectVersion(1), NewEventData())},
	}
	for _, c := range conflicts {
		before := take(t, st, "s-1", "s-2")
		_, err := st.Append(ctx(t), c.a)
		wantErr(t, err, domain.ErrConflict)
		unchanged(t, st, before)
	}

	res = mustAppend(t, st, to("s-1", domain.ExpectVersion(1), events(2)...))
	wantResult(t, res, 3, domain.StreamVersion{Stream: "s-1", Version: 3})
	before := take(t, st, "s-1")
	_, err := st.Append(ctx(t), to("s-1", domain.ExpectVersion(1), NewEventData()))
	wantErr(t, err, domain.ErrConflict)
	unchanged(t, st, before)

	res = mustAppend(t, st, to("s-1", domain.ExpectAny, NewEventData()))
	wantResult(t, res, 4, domain.StreamVersion{Stream: "s-1", Version: 4})
	res = mustAppend(t, st, to("s-3", domain.ExpectAny, NewEventData()))
	wantResult(t, res, 5, domain.StreamVersion{Stream: "s-3", Version: 1})
	wantVersions(t, readStream(t, st, "s-1"), 1, 4)
}

// testAtomicMultiStream proves §3.2: one append over several streams is
// written whole, in the order given, or not at all.
func (s *suite) testAtomicMultiStream(t *testing.T) {
	st, _ := s.open(t)
	a, b, c := events(1), events(1), events(2)
	res := mustAppend(t, st, to("a", domain.ExpectNoStream, a...), to("b", domain.ExpectNoStream, b...), to("c", domain.ExpectNoStream, c...))
	wantResult(t, res, 4, domain.StreamVersion{Stream: "a", Version: 1},
		domain.StreamVersion{Stream: "b", Version: 1}, domain.StreamVersion{Stream: "c", Version: 2})
	wantIDs(t, readAll(t, st), a[0].ID, b[0].ID, c[0].ID, c[1].ID)

	failing := [][]domain.StreamAppend{
		{to("a", 1, NewEventData()), to("b", domain.ExpectNoStream, NewEventData()), to("c", 2, NewEventData())},
		{to("a", 1, NewEventData()), to("c", 2, NewEventData()), to("b", 0, NewEventData())},
		{to("d", domain.ExpectNoStream, events(3)...), to("b", 5, NewEventData())},
	}
	for _, appends := range failing {
		before := take(t, st, "a", "b", "c", "d")
		_, err := st.Append(ctx(t), appends...)
		wantErr(t, err, domain.ErrConflict)
		unchanged(t, st, before)
	}

	// The events of a refused append were not remembered either: appending
	// them again with expectations that hold writes them afresh.
	retry := failing[0]
	retry[1].Expected = 1
	res = mustAppend(t, st, retry...)
	wantResult(t, res, 7, domain.StreamVersion{Stream: "a", Version: 2},
		domain.StreamVersion{Stream: "b", Version: 2}, domain.StreamVersion{Stream: "c", Version: 3})
}

// testGlobalLogPaging proves the paging of §3.3: positions run from 1
// without gaps in append order, and ReadAll and ReadStream honour after and
// limit.
func (s *suite) testGlobalLogPaging(t *testing.T) {
	st, _ := s.open(t)
	var ids []string
	for i := range 9 {
		e := NewEventData()
		mustAppend(t, st, to([]string{"x", "y", "z"}[i%3], domain.ExpectAny, e))
		ids = append(ids, e.ID)
	}
	multi := events(4)
	mustAppend(t, st, to("x", domain.ExpectVersion(3), multi[:3]...), to("w", domain.ExpectNoStream, multi[3]))
	for _, e := range multi {
		ids = append(ids, e.ID)
	}
	all := readAll(t, st)
	wantIDs(t, all, ids...)
	wantPositions(t, all, 1, int64(len(ids)))

	for _, limit := range []int{1, 4, 7, len(ids), 100} {
		sameEvents(t, "paged log", pageAll(t, st, limit), all)
	}
	page, err := st.ReadAll(ctx(t), 5, 3)
	if err != nil {
		t.Fatalf("ReadAll(5, 3): %v", err)
	}
	wantPositions(t, page, 6, 8)
	if page, err = st.ReadAll(ctx(t), int64(len(ids)), 0); err != nil || len(page) != 0 {
		t.Fatalf("ReadAll past the end = %d events, %v; want none", len(page), err)
	}

	x := readStream(t, st, "x")
	wantVersions(t, x, 1, 6)
	wantIDs(t, x, ids[0], ids[3], ids[6], ids[9], ids[10], ids[11])
	page, err = st.ReadStream(ctx(t), "x", 2, 3)
	if err != nil {
		t.Fatalf("ReadStream(x, 2, 3): %v", err)
	}
	wantVersions(t, page, 3, 5)
	sameEvents(t, "stream page", page, x[2:5])
	if page, err = st.ReadStream(ctx(t), "x", 6, 0); err != nil || len(page) != 0 {
		t.Fatalf("ReadStream past the end = %d events, %v; want none", len(page), err)
	}
}

// pageAll reads the whole log in pages of limit, checking each page's size.
func pageAll(t testing.TB, st domain.EventStore, limit int) []domain.RecordedEvent {
	t.Helper()
	var all []domain.RecordedEvent
	var after int64
	for {
		page, err := st.ReadAll(ctx(t), after, limit)
		if err != nil {
			t.Fatalf("ReadAll(%d, %d): %v", after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("ReadAll(%d, %d) returned %d events", after, limit, len(page))
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}

// testInvalidAppends proves that malformed appends are refused with an
// invalid_argument error and write nothing.
func (s *suite) testInvalidAppends(t *testing.T) {
	st, _ := s.open(t)
	mustAppend(t, st, to("ok", domain.ExpectNoStream, NewEventData()))
	noID, noType, dup, nulType, badActor := NewEventData(), NewEventData(), NewEventData(), NewEventData(), NewEventData()
	noID.ID, noType.Type, nulType.Type, badActor.Meta.Actor = "", "", "org.registered\x00.v1", "\xff\xfe"
	cases := []struct {
		name    string
		appends []domain.StreamAppend
	}{
		{"no appends", nil},
		{"no events", []domain.StreamAppend{to("x", domain.ExpectAny)}},
		{"no events in the second stream", []domain.StreamAppend{to("x", domain.ExpectAny, NewEventData()), to("y", domain.ExpectAny)}},
		{"empty stream", []domain.StreamAppend{to("", domain.ExpectAny, NewEventData())}},
		{"empty ID", []domain.StreamAppend{to("x", domain.ExpectAny, NewEventData(), noID)}},
		{"empty type", []domain.StreamAppend{to("x", domain.ExpectAny, noType)}},
		{"NUL byte in a type", []domain.StreamAppend{to("x", domain.ExpectAny, nulType)}},
		{"invalid UTF-8 in an actor", []domain.StreamAppend{to("x", domain.ExpectAny, badActor)}},
		{"NUL byte in a stream", []domain.StreamAppend{to("x\x00y", domain.ExpectAny, NewEventData())}},
		{"expected version below any", []domain.StreamAppend{to("x", -2, NewEventData())}},
		{"duplicate ID in a stream", []domain.StreamAppend{to("x", domain.ExpectAny, dup, NewEventData(), dup)}},
		{"duplicate ID across streams", []domain.StreamAppend{to("x", domain.ExpectAny, dup), to("y", domain.ExpectAny, dup)}},
		{"valid then empty stream", []domain.StreamAppend{to("ok", domain.ExpectVersion(1), NewEventData()), to("", domain.ExpectAny, NewEventData())}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := take(t, st, "ok", "x", "y")
			_, err := st.Append(ctx(t), c.appends...)
			wantErr(t, err, domain.ErrInvalidArgument)
			unchanged(t, st, before)
		})
	}
}

// testMissingStream proves that a stream without events reads as empty,
// and so does a name no append can hold: a client's made-up organisation
// ID with a NUL byte or invalid UTF-8 (PostgreSQL refused to compare
// such text, and the API answered 500).
func (s *suite) testMissingStream(t *testing.T) {
	st, _ := s.open(t)
	for range 2 {
		for _, name := range []string{"no-such-stream", "org-\x00", "org-a\xc3\x28b", "org-\xff"} {
			if evs := readStream(t, st, name); len(evs) != 0 {
				t.Fatalf("missing stream %q read %d events", name, len(evs))
			}
		}
		mustAppend(t, st, to("other", domain.ExpectAny, NewEventData()))
	}
}

// wantResult fails the test unless res has the given position and stream
// versions.
func wantResult(t testing.TB, res domain.AppendResult, pos int64, streams ...domain.StreamVersion) {
	t.Helper()
	if res.Position != pos || len(res.Streams) != len(streams) {
		t.Fatalf("append result %+v, want position %d and streams %+v", res, pos, streams)
	}
	for i := range streams {
		if res.Streams[i] != streams[i] {
			t.Fatalf("append result %+v, want streams %+v", res, streams)
		}
	}
}

// wantIDs fails the test unless evs hold exactly the given IDs in order.
func wantIDs(t testing.TB, evs []domain.RecordedEvent, ids ...string) {
	t.Helper()
	if len(evs) != len(ids) {
		t.Fatalf("%d events, want %d", len(evs), len(ids))
	}
	for i, e := range evs {
		if e.ID != ids[i] {
			t.Fatalf("event %d is %s, want %s", i, e.ID, ids[i])
		}
	}
}

// wantPositions fails the test unless evs sit at positions from..to.
func wantPositions(t testing.TB, evs []domain.RecordedEvent, from, to int64) {
	t.Helper()
	if int64(len(evs)) != to-from+1 {
		t.Fatalf("%d events, want positions %d..%d", len(evs), from, to)
	}
	for i, e := range evs {
		if e.Position != from+int64(i) {
			t.Fatalf("event %d at position %d, want %d", i, e.Position, from+int64(i))
		}
	}
}

// wantVersions fails the test unless evs are versions from..to of a stream.
func wantVersions(t testing.TB, evs []domain.RecordedEvent, from, to int64) {
	t.Helper()
	if int64(len(evs)) != to-from+1 {
		t.Fatalf("%d events, want versions %d..%d", len(evs), from, to)
	}
	for i, e := range evs {
		if e.Version != from+int64(i) {
			t.Fatalf("event %d is version %d, want %d", i, e.Version, from+int64(i))
		}
	}
}
