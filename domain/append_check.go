package domain

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ValidateAppend returns an invalid_argument error naming the field for an
// append every store refuses before looking at its log: no appends, an empty
// or repeated stream, an expected version below ExpectAny, a stream without
// events, an empty or repeated event ID, an empty type, or text that is not
// valid UTF-8 or holds a NUL byte (not every store can keep those).
func ValidateAppend(appends []StreamAppend) error {
	if len(appends) == 0 {
		return Invalid("appends", "no events to append")
	}
	streams := make(map[string]bool, len(appends))
	ids := make(map[string]bool)
	for i, a := range appends {
		if err := validateStreamAppend(i, a, streams); err != nil {
			return err
		}
		for j, e := range a.Events {
			if err := validateEventData(i, j, e, ids); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateStreamAppend(i int, a StreamAppend, seen map[string]bool) error {
	field := func(name string) string { return fmt.Sprintf("appends[%d].%s", i, name) }
	switch {
	case a.Stream == "":
		return Invalid(field("stream"), "must not be empty")
	case !StorableText(a.Stream):
		return Invalid(field("stream"), "must be valid UTF-8 without NUL bytes")
	case seen[a.Stream]:
		return Invalid(field("stream"), "stream %q appears twice in one append", a.Stream)
	case a.Expected < ExpectAny:
		return Invalid(field("expected"), "expected version %d is below %d", a.Expected, ExpectAny)
	case len(a.Events) == 0:
		return Invalid(field("events"), "no events")
	}
	seen[a.Stream] = true
	return nil
}

func validateEventData(i, j int, e EventData, seen map[string]bool) error {
	field := func(name string) string { return fmt.Sprintf("appends[%d].events[%d].%s", i, j, name) }
	switch {
	case e.ID == "":
		return Invalid(field("id"), "must not be empty")
	case e.Type == "":
		return Invalid(field("type"), "must not be empty")
	case seen[e.ID]:
		return Invalid(field("id"), "event ID %s appears twice in one append", e.ID)
	}
	seen[e.ID] = true
	m := e.Meta
	for _, t := range [...]struct{ name, text string }{
		{"id", e.ID}, {"type", e.Type}, {"meta.actor", m.Actor},
		{"meta.correlation_id", m.CorrelationID}, {"meta.causation_id", m.CausationID},
		{"meta.idempotency_key", m.IdempotencyKey}, {"meta.command_hash", m.CommandHash},
	} {
		if !StorableText(t.text) {
			return Invalid(field(t.name), "must be valid UTF-8 without NUL bytes")
		}
	}
	return nil
}

// StorableText reports whether s is valid UTF-8 without NUL bytes: text
// every store can keep. A stream whose name is not cannot have been
// appended to, so a store reads it as empty (ReadStream) without asking
// its database, which may refuse such text.
func StorableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// NormalizeAppend returns a copy of appends whose events carry their
// recorded time in UTC to the microsecond (now for a zero time) and non-nil
// data, and the number of events: the form every store keeps.
func NormalizeAppend(appends []StreamAppend, now time.Time) ([]StreamAppend, int) {
	out := make([]StreamAppend, len(appends))
	n := 0
	for i, a := range appends {
		events := make([]EventData, len(a.Events))
		for j, e := range a.Events {
			if e.Meta.RecordedAt.IsZero() {
				e.Meta.RecordedAt = now
			}
			e.Meta.RecordedAt = time.UnixMicro(e.Meta.RecordedAt.UnixMicro()).UTC()
			if e.Data == nil {
				e.Data = []byte{}
			}
			events[j] = e
		}
		a.Events = events
		out[i] = a
		n += len(events)
	}
	return out, n
}

// StoredEvent is what a store knows of an event it holds, enough to check
// whether an append repeats it.
type StoredEvent struct {
	Position, Version int64
	Stream, Type      string
	Data              []byte
}

// CheckRepeat returns an idempotency_mismatch error unless e is stored
// (found) in stream with the same type and data, right after position prev
// (0: the append's first event, which may be anywhere).
func CheckRepeat(stored StoredEvent, found bool, stream string, e EventData, prev int64) error {
	switch {
	case !found:
		return IdempotencyMismatch("event %s is not stored, but the append's first event is", e.ID)
	case stored.Stream != stream:
		return IdempotencyMismatch("event %s is stored in stream %q, not %q", e.ID, stored.Stream, stream)
	case stored.Type != e.Type:
		return IdempotencyMismatch("event %s is stored with type %q, not %q", e.ID, stored.Type, e.Type)
	case !bytes.Equal(stored.Data, e.Data):
		return IdempotencyMismatch("event %s is stored with other data", e.ID)
	case prev != 0 && stored.Position != prev+1:
		return IdempotencyMismatch("event %s is stored at position %d, not right after %d", e.ID, stored.Position, prev)
	}
	return nil
}

// IdempotencyMismatch returns an idempotency_mismatch error.
func IdempotencyMismatch(format string, args ...any) error {
	return &Error{Code: CodeIdempotencyMismatch, Message: fmt.Sprintf(format, args...)}
}
