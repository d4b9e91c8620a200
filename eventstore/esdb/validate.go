package esdb

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
)

// validate returns an invalid_argument error for an append the store must
// refuse before looking at the server.
func validate(appends []domain.StreamAppend) error {
	if len(appends) == 0 {
		return domain.Invalid("appends", "no events to append")
	}
	streams := make(map[string]bool, len(appends))
	ids := make(map[uuid.UUID]bool)
	for i, a := range appends {
		if err := validateStream(i, a, streams); err != nil {
			return err
		}
		for j, e := range a.Events {
			if err := validateEvent(i, j, e, ids); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateStream checks the i-th StreamAppend apart from its events.
func validateStream(i int, a domain.StreamAppend, seen map[string]bool) error {
	switch {
	case a.Stream == "":
		return domain.Invalid(fmt.Sprintf("appends[%d].stream", i), "must not be empty")
	case seen[a.Stream]:
		return domain.Invalid(fmt.Sprintf("appends[%d].stream", i), "stream %q appears twice in one append", a.Stream)
	case a.Expected < domain.ExpectAny:
		return domain.Invalid(fmt.Sprintf("appends[%d].expected", i), "expected version %d is below %d", a.Expected, domain.ExpectAny)
	case len(a.Events) == 0:
		return domain.Invalid(fmt.Sprintf("appends[%d].events", i), "no events")
	}
	seen[a.Stream] = true
	return nil
}

// validateEvent checks event j of the i-th StreamAppend. EventStoreDB
// identifies events by UUID, so the ID must be one.
func validateEvent(i, j int, e domain.EventData, seen map[uuid.UUID]bool) error {
	field := func(name string) string { return fmt.Sprintf("appends[%d].events[%d].%s", i, j, name) }
	if e.ID == "" {
		return domain.Invalid(field("id"), "must not be empty")
	}
	id, err := uuid.Parse(e.ID)
	switch {
	case err != nil:
		return domain.Invalid(field("id"), "%q is not a UUID", e.ID)
	case e.Type == "":
		return domain.Invalid(field("type"), "must not be empty")
	case seen[id]:
		return domain.Invalid(field("id"), "event ID %s appears twice in one append", e.ID)
	}
	seen[id] = true
	return nil
}

// normalize returns a copy of appends whose events carry their recorded
// time in UTC to the microsecond (now for a zero time) and non-nil data.
func normalize(appends []domain.StreamAppend, now time.Time) []domain.StreamAppend {
	out := make([]domain.StreamAppend, len(appends))
	for i, a := range appends {
		events := make([]domain.EventData, len(a.Events))
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
	}
	return out
}
