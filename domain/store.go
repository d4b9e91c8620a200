package domain

import (
	"context"
	"time"
)

// ExpectedVersion is the optimistic-concurrency precondition of one stream
// in an append. Stream versions count events: a stream with three events is
// at version 3, and a stream that does not exist is at version 0.
type ExpectedVersion int64

const (
	// ExpectAny appends whatever the stream's version is.
	ExpectAny ExpectedVersion = -1
	// ExpectNoStream appends only when the stream has no events yet.
	ExpectNoStream ExpectedVersion = 0
)

// ExpectVersion appends only when the stream is exactly at version v.
func ExpectVersion(v int64) ExpectedVersion { return ExpectedVersion(v) }

// Metadata is what the ledger records about an event beside its payload
// (DESIGN.md §3.5).
type Metadata struct {
	// RecordedAt is when the event was appended, in UTC.
	RecordedAt time.Time `json:"recorded_at"`
	// Actor is the organisation ID that wrote the fact, or "admin".
	Actor string `json:"actor,omitempty"`
	// CorrelationID ties together every event caused by one request.
	CorrelationID string `json:"correlation_id,omitempty"`
	// CausationID is the ID of the message that caused this event.
	CausationID string `json:"causation_id,omitempty"`
	// IdempotencyKey is the client's key of the command, if it gave one.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// CommandHash fingerprints the command so that a repeat of the same
	// idempotency key with another body can be told apart.
	CommandHash string `json:"command_hash,omitempty"`
	// SchemaVersion is the version of the event type's payload schema.
	SchemaVersion int `json:"schema_version"`
}

// EventData is an event about to be appended.
type EventData struct {
	// ID is a UUID, unique across the store. Appending an ID that is
	// already stored is idempotent (see EventStore.Append).
	ID string
	// Type is the versioned event type name, e.g. "patent.declaration_filed.v1".
	Type string
	// Data is the JSON payload.
	Data []byte
	// Meta is the event's metadata.
	Meta Metadata
}

// RecordedEvent is an event as the store holds it.
type RecordedEvent struct {
	// Position is the event's place in the global log, from 1, strictly
	// increasing in commit order.
	Position int64
	// Stream is the stream the event belongs to.
	Stream string
	// Version is the event's number within its stream, from 1.
	Version int64
	EventData
	// Hash is SHA-256(previous event's Hash ‖ CanonicalBytes(event)).
	Hash []byte
}

// StreamAppend is the part of an append that targets one stream.
type StreamAppend struct {
	Stream   string
	Expected ExpectedVersion
	Events   []EventData
}

// StreamVersion reports a stream's version after an append.
type StreamVersion struct {
	Stream  string
	Version int64
}

// AppendResult is the outcome of a successful append.
type AppendResult struct {
	// Position is the global position of the last event appended.
	Position int64
	// Streams holds each stream's version after the append, in the order
	// the appends were given.
	Streams []StreamVersion
}

// Head is the end of the global log: the last position and its hash. An
// empty log has position 0 and a nil hash.
type Head struct {
	Position int64
	Hash     []byte
}

// LedgerIdentified is an event store that keeps a random ID of its own,
// the same for every node of one ledger and different for every other
// (the SQLite and PostgreSQL adapters).
type LedgerIdentified interface{ LedgerID() string }

// EventStore is the port every store adapter implements (DESIGN.md §3).
// Implementations are safe for concurrent use by many goroutines.
type EventStore interface {
	// Append writes the events of every StreamAppend atomically: all of
	// them or none. For each stream the expected version must hold, or
	// Append returns an error matching ErrConflict and writes nothing.
	//
	// Events get consecutive global positions in the order given. Append
	// returns only once the events are durable.
	//
	// Idempotency: when the first event's ID is already stored, Append
	// writes nothing and checks that the call repeats a whole earlier
	// append: every given event stored with the same ID, stream, type and
	// data, at consecutive positions in the order given. If so it returns
	// the original result, otherwise an error matching
	// ErrIdempotencyMismatch; so does a call whose first event is new but a
	// later one is stored. Expected versions are not checked for a repeat,
	// and metadata is not compared: the command service compares command
	// hashes itself.
	//
	// Meta.RecordedAt is set by the caller (the store keeps microseconds);
	// a zero RecordedAt is stamped with the store's clock.
	//
	// Invalid appends (see ValidateAppend: no events, the same stream
	// twice, an empty stream name, ID or type, duplicate IDs within one
	// call, an expected version below ExpectAny, text that is not valid
	// UTF-8 or holds NUL bytes) return an error matching ErrInvalidArgument.
	// Adapters may refuse more (EventStoreDB needs UUID event IDs).
	//
	// When ctx ends before the store has taken the append up, Append
	// returns ctx.Err() and nothing is written; once taken up, the append
	// completes and its result is returned.
	Append(ctx context.Context, appends ...StreamAppend) (AppendResult, error)

	// ReadStream returns up to limit events of stream with a version
	// greater than afterVersion, in version order. A stream that does not
	// exist reads as empty, and so does a name no append can hold (not
	// StorableText): a client's made-up ID is not a store failure.
	// limit <= 0 means no limit.
	ReadStream(ctx context.Context, stream string, afterVersion int64, limit int) ([]RecordedEvent, error)

	// ReadAll returns up to limit events of the global log with a position
	// greater than afterPosition, in position order. A reader that follows
	// the log by calling ReadAll with the last position it saw never
	// misses an event. limit <= 0 means a default batch size chosen by
	// the adapter.
	ReadAll(ctx context.Context, afterPosition int64, limit int) ([]RecordedEvent, error)

	// Head returns the last position of the global log and its hash.
	Head(ctx context.Context) (Head, error)

	// WaitForPosition blocks until the global log holds an event with a
	// position greater than afterPosition, or ctx is done (then it returns
	// ctx.Err()), or the store is closed (then it returns an error).
	// Adapters wake waiters as soon as they know of a commit
	// and poll as a fallback for commits made by other processes.
	WaitForPosition(ctx context.Context, afterPosition int64) error

	// Close releases the store. Appends in flight finish first; calls
	// after Close return an error.
	Close() error
}
