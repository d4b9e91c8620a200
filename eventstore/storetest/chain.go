package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// testMetadata proves §3.5: every metadata field reads back as appended,
// the recorded time in UTC to the microsecond, through both read calls.
func (s *suite) testMetadata(t *testing.T) {
	st, _ := s.open(t)
	full := NewEventData()
	full.Data = []byte(`{"title":"一种芯片封装结构","fee_fen":120000}`)
	full.Meta = domain.Metadata{
		RecordedAt:     time.Date(2025, 3, 5, 10, 11, 12, 123456789, time.FixedZone("CST", 8*3600)),
		Actor:          "91110000600037341L",
		CorrelationID:  "corr-" + newID(),
		CausationID:    "cause-" + newID(),
		IdempotencyKey: "idem-" + newID(),
		CommandHash:    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		SchemaVersion:  3,
	}
	sparse := NewEventData()
	sparse.Meta = domain.Metadata{RecordedAt: time.Date(2025, 3, 5, 2, 11, 12, 999999000, time.UTC)}
	stream := "patent-ZL202010123456.7"
	mustAppend(t, st, to(stream, domain.ExpectNoStream, full, sparse))

	want := []domain.RecordedEvent{
		{Position: 1, Stream: stream, Version: 1, EventData: full},
		{Position: 2, Stream: stream, Version: 2, EventData: sparse},
	}
	for _, got := range [][]domain.RecordedEvent{readAll(t, st), readStream(t, st, stream)} {
		if len(got) != len(want) {
			t.Fatalf("read %d events, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].Position != want[i].Position || got[i].Stream != stream || got[i].Version != want[i].Version {
				t.Fatalf("event %d at %d %q v%d, want %d %q v%d", i, got[i].Position, got[i].Stream, got[i].Version, want[i].Position, stream, want[i].Version)
			}
			if err := diffData(got[i].EventData, want[i].EventData); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if loc := got[i].Meta.RecordedAt.Location(); loc != time.UTC {
				t.Fatalf("event %d recorded at %v, in %v, want UTC", i, got[i].Meta.RecordedAt, loc)
			}
		}
	}
}

// testHashChain proves §3.6: each event's hash chains to its predecessor's,
// the head is the last event, and VerifyChain finds the chain intact.
func (s *suite) testHashChain(t *testing.T) {
	st, _ := s.open(t)
	if h := head(t, st); h.Position != 0 || h.Hash != nil {
		t.Fatalf("empty store head = %+v, want position 0 and a nil hash", h)
	}
	wantIntact(t, st, 0)

	mustAppend(t, st, to("h-1", domain.ExpectNoStream, NewEventData()))
	mustAppend(t, st, to("h-2", domain.ExpectNoStream, events(3)...), to("h-3", domain.ExpectNoStream, events(2)...))
	res := mustAppend(t, st, to("h-1", domain.ExpectVersion(1), events(4)...))
	all := readAll(t, st)
	wantChained(t, all)
	h := head(t, st)
	last := all[len(all)-1]
	if h.Position != last.Position || h.Position != res.Position || !bytes.Equal(h.Hash, last.Hash) {
		t.Fatalf("head = %d %x, want the last event %d %x (last append at %d)", h.Position, h.Hash, last.Position, last.Hash, res.Position)
	}
	wantIntact(t, st, int64(len(all)))
}

// wantChained fails the test unless every hash of evs, a prefix of the log,
// is ChainHash of its predecessor's hash and the event.
func wantChained(t testing.TB, evs []domain.RecordedEvent) {
	t.Helper()
	var prev []byte
	for _, e := range evs {
		if want := domain.ChainHash(prev, e); !bytes.Equal(e.Hash, want) {
			t.Fatalf("event at %d has hash %x, want %x", e.Position, e.Hash, want)
		}
		prev = e.Hash
	}
}

// wantIntact fails the test unless VerifyChain walks n events, finds the
// chain intact and ends at the store's head.
func wantIntact(t testing.TB, st domain.EventStore, n int64) {
	t.Helper()
	res, err := domain.VerifyChain(ctx(t), st, nil)
	if err != nil {
		t.Fatalf("VerifyChain: %v", err)
	}
	if !res.Intact() || res.Events != n {
		t.Fatalf("VerifyChain = %+v, want %d events intact", res, n)
	}
	if h := head(t, st); !sameHead(res.Head, h) {
		t.Fatalf("VerifyChain ended at %+v, head is %+v", res.Head, h)
	}
}
