package domain

// aggregateBase is what every aggregate tracks beside its own state: the
// stream version it reflects and the commands that were written with an
// idempotency key, so that a repeat can be answered without deciding again.
type aggregateBase struct {
	version  int64
	commands map[string]*commandRecord
	// snapshotVersion is the version of the latest snapshot known to
	// hold this state, or of the one it was loaded from.
	snapshotVersion int64
	// lastEventID is the ID of the event at version.
	lastEventID string
}

// commandRecord is what the stream holds of one idempotent command.
type commandRecord struct {
	Hash         string
	LastPosition int64
	Events       []Event
}

// Version returns the stream version the state reflects (0: no events).
func (b *aggregateBase) Version() int64 { return b.version }

func (b *aggregateBase) base() *aggregateBase { return b }

// track notes a recorded event's version and, when it was written under an
// idempotency key, files it under its command ID.
func (b *aggregateBase) track(re RecordedEvent, e Event) {
	b.version, b.lastEventID = re.Version, re.ID
	if re.Meta.IdempotencyKey == "" {
		return
	}
	id := CommandID(re.Meta.Actor, re.Meta.IdempotencyKey)
	if b.commands == nil {
		b.commands = map[string]*commandRecord{}
	}
	rec := b.commands[id]
	if rec == nil {
		rec = &commandRecord{Hash: re.Meta.CommandHash}
		b.commands[id] = rec
	}
	rec.LastPosition = max(rec.LastPosition, re.Position)
	rec.Events = append(rec.Events, e)
}

// aggregate is a state the command service loads from a stream.
type aggregate interface {
	Apply(Event)
	base() *aggregateBase
}

var (
	_ aggregate = (*Org)(nil)
	_ aggregate = (*creditCodeClaim)(nil)
	_ aggregate = (*Patent)(nil)
)
