package domain

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// damagedLog is a log of events chained as a store chains them whose file
// cannot be read past position readable: a read that would reach beyond
// it fails, as SQLite's does on a damaged page.
type damagedLog struct {
	events   []RecordedEvent
	readable int64
}

func (l damagedLog) ReadAll(_ context.Context, after int64, limit int) ([]RecordedEvent, error) {
	if after+int64(limit) > l.readable && after < int64(len(l.events)) {
		return nil, errors.New("database disk image is malformed")
	}
	end := min(int(after)+limit, len(l.events))
	return l.events[after:end], nil
}

// TestVerifyChainReadsUpToTheDamage: a log whose file is damaged midway is
// verified up to the last event it still gives; the batch that met the
// damage was reported whole as unread, 0 events intact at position 712.
func TestVerifyChainReadsUpToTheDamage(t *testing.T) {
	var log damagedLog
	var prev []byte
	for p := int64(1); p <= 1423; p++ {
		e := RecordedEvent{Position: p, Stream: "s", Version: p, EventData: EventData{ID: fmt.Sprint(p), Type: "t",
			Data: []byte(`{}`), Meta: Metadata{RecordedAt: time.Unix(p, 0).UTC()}}}
		e.Hash = ChainHash(prev, e)
		prev = e.Hash
		log.events = append(log.events, e)
	}
	log.readable = 712
	res, err := VerifyChain(context.Background(), log, nil)
	if err == nil || res.Events != 712 || res.Head.Position != 712 {
		t.Fatalf("verified %d events up to %d (%v); want 712 and the read error", res.Events, res.Head.Position, err)
	}
}
