package esdb

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
)

// validate returns an invalid_argument error for an append the store must
// refuse before looking at the server: what every store refuses, and event
// IDs that are not UUIDs or name one UUID twice in another spelling, since
// EventStoreDB identifies events by UUID.
func validate(appends []domain.StreamAppend) error {
	if err := domain.ValidateAppend(appends); err != nil {
		return err
	}
	seen := make(map[uuid.UUID]bool)
	for i, a := range appends {
		for j, e := range a.Events {
			field := fmt.Sprintf("appends[%d].events[%d].id", i, j)
			id, err := uuid.Parse(e.ID)
			switch {
			case err != nil:
				return domain.Invalid(field, "%q is not a UUID", e.ID)
			case seen[id]:
				return domain.Invalid(field, "event ID %s appears twice in one append", e.ID)
			}
			seen[id] = true
		}
	}
	return nil
}

// normalize returns appends in the form the store keeps (see
// domain.NormalizeAppend).
func normalize(appends []domain.StreamAppend, now time.Time) []domain.StreamAppend {
	out, _ := domain.NormalizeAppend(appends, now)
	return out
}
