package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// NewEventData returns a realistic event with a fresh UUID: a JSON payload
// of about 300 bytes and every metadata field filled. The suite appends such
// events, and adapter benchmarks may too.
func NewEventData() domain.EventData {
	id := newID()
	data := fmt.Sprintf(`{"declaration_id":%q,"patent_number":"ZL202010123456.7",`+
		`"patentee_id":"91110000600037341L","title":"一种锂离子电池正极材料及其制备方法",`+
		`"fee":{"kind":"royalty_rate","rate_bp":350,"minimum_fen":1000000},`+
		`"term":{"start":"2025-01-01","end":"2029-12-31"},"ipc":["H01M 10/0525"]}`, id)
	return domain.EventData{
		ID:   id,
		Type: "patent.declaration_filed.v1",
		Data: []byte(data),
		Meta: domain.Metadata{
			RecordedAt:     time.Now().UTC(),
			Actor:          "91110000600037341L",
			CorrelationID:  "corr-" + id[:8],
			CausationID:    "cmd-" + id[:8],
			IdempotencyKey: "key-" + id[:8],
			CommandHash:    "sha256:" + id,
			SchemaVersion:  1,
		},
	}
}

// events returns n fresh events.
func events(n int) []domain.EventData {
	evs := make([]domain.EventData, n)
	for i := range evs {
		evs[i] = NewEventData()
	}
	return evs
}

// to returns a StreamAppend of evs to stream with expectation exp.
func to(stream string, exp domain.ExpectedVersion, evs ...domain.EventData) domain.StreamAppend {
	return domain.StreamAppend{Stream: stream, Expected: exp, Events: evs}
}

// mustAppend appends and fails the test on error.
func mustAppend(t testing.TB, st domain.EventStore, appends ...domain.StreamAppend) domain.AppendResult {
	t.Helper()
	res, err := st.Append(ctx(t), appends...)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res
}

// wantErr fails the test unless err matches target.
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one matching %v", err, target)
	}
}

// readAll pages through the whole global log with ReadAll's default limit.
func readAll(t testing.TB, st domain.EventStore) []domain.RecordedEvent {
	t.Helper()
	var all []domain.RecordedEvent
	var after int64
	for {
		batch, err := st.ReadAll(ctx(t), after, 0)
		if err != nil {
			t.Fatalf("ReadAll(after %d): %v", after, err)
		}
		if len(batch) == 0 {
			return all
		}
		all = append(all, batch...)
		after = batch[len(batch)-1].Position
	}
}

// readStream reads the whole of stream.
func readStream(t testing.TB, st domain.EventStore, stream string) []domain.RecordedEvent {
	t.Helper()
	evs, err := st.ReadStream(ctx(t), stream, 0, 0)
	if err != nil {
		t.Fatalf("ReadStream(%q): %v", stream, err)
	}
	return evs
}

// head returns the store's head.
func head(t testing.TB, st domain.EventStore) domain.Head {
	t.Helper()
	h, err := st.Head(ctx(t))
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

// snapshot is what the suite compares to prove that a failed append wrote
// nothing.
type snapshot struct {
	head    domain.Head
	log     []domain.RecordedEvent
	streams map[string][]domain.RecordedEvent
}

// take records the head, the log and the named streams of st.
func take(t testing.TB, st domain.EventStore, streams ...string) snapshot {
	t.Helper()
	s := snapshot{head: head(t, st), log: readAll(t, st), streams: map[string][]domain.RecordedEvent{}}
	for _, name := range streams {
		s.streams[name] = readStream(t, st, name)
	}
	return s
}

// unchanged fails the test unless st still looks as before did.
func unchanged(t testing.TB, st domain.EventStore, before snapshot) {
	t.Helper()
	names := make([]string, 0, len(before.streams))
	for name := range before.streams {
		names = append(names, name)
	}
	after := take(t, st, names...)
	if !sameHead(after.head, before.head) {
		t.Fatalf("head moved from %+v to %+v", before.head, after.head)
	}
	sameEvents(t, "global log", after.log, before.log)
	for _, name := range names {
		sameEvents(t, "stream "+name, after.streams[name], before.streams[name])
	}
}

// sameHead reports whether two heads are equal.
func sameHead(a, b domain.Head) bool {
	return a.Position == b.Position && bytes.Equal(a.Hash, b.Hash)
}

// sameEvents fails the test unless got and want hold the same events.
func sameEvents(t testing.TB, what string, got, want []domain.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if err := diffEvent(got[i], want[i]); err != nil {
			t.Fatalf("%s: event %d: %v", what, i, err)
		}
	}
}

// diffEvent describes the first difference between two recorded events.
func diffEvent(got, want domain.RecordedEvent) error {
	switch {
	case got.Position != want.Position || got.Stream != want.Stream || got.Version != want.Version:
		return fmt.Errorf("at %d %q v%d, want %d %q v%d", got.Position, got.Stream, got.Version, want.Position, want.Stream, want.Version)
	case !bytes.Equal(got.Hash, want.Hash):
		return fmt.Errorf("hash %x, want %x", got.Hash, want.Hash)
	}
	return diffData(got.EventData, want.EventData)
}

// diffData describes the first difference between two events' content and
// metadata; times compare to the microsecond.
func diffData(got, want domain.EventData) error {
	switch {
	case got.ID != want.ID || got.Type != want.Type:
		return fmt.Errorf("ID %s type %q, want %s %q", got.ID, got.Type, want.ID, want.Type)
	case !bytes.Equal(got.Data, want.Data):
		return fmt.Errorf("data %q, want %q", got.Data, want.Data)
	case !got.Meta.RecordedAt.Equal(want.Meta.RecordedAt.Truncate(time.Microsecond)):
		return fmt.Errorf("recorded at %v, want %v", got.Meta.RecordedAt, want.Meta.RecordedAt)
	}
	g, w := got.Meta, want.Meta
	g.RecordedAt, w.RecordedAt = time.Time{}, time.Time{}
	if g != w {
		return fmt.Errorf("metadata %+v, want %+v", g, w)
	}
	return nil
}
