package esdb

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/patentledger/ledger/domain"
)

// Event types of the store's own streams.
const (
	idEntryType    = "ledger.event_id.v1"
	checkpointType = "ledger.checkpoint.v1"
)

// logNamespace derives the EventStoreDB IDs of log events from their hashes.
var logNamespace = uuid.MustParse("5b0f3e3c-2f4d-4f62-9d0e-6c1a7d3c9b21")

// eventMeta is the JSON metadata of every ledger event the store writes, to
// the log and to the event's stream alike: the ledger's metadata (DESIGN.md
// §3.5), EventStoreDB's own correlation keys, and where the event sits in
// the ledger with its chained hash.
type eventMeta struct {
	RecordedAt     time.Time `json:"recorded_at"`
	Actor          string    `json:"actor,omitempty"`
	CorrelationID  string    `json:"correlation_id,omitempty"`
	CausationID    string    `json:"causation_id,omitempty"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	CommandHash    string    `json:"command_hash,omitempty"`
	SchemaVersion  int       `json:"schema_version"`

	// EventStoreDB's keys, read by its $by_correlation_id projection.
	ESCorrelationID string `json:"$correlationId,omitempty"`
	ESCausationID   string `json:"$causationId,omitempty"`

	ID       string `json:"ledger_event_id"`
	Stream   string `json:"ledger_stream"`
	Version  int64  `json:"ledger_version"`
	Position int64  `json:"ledger_position"`
	Hash     string `json:"ledger_hash"`
	PrevHash string `json:"ledger_prev_hash"`
}

// record is a ledger event with the hash of its predecessor in the log,
// which every stored copy carries so that a copy can be checked on its own.
type record struct {
	domain.RecordedEvent
	prev []byte
}

// verify reports whether r's hash follows from its predecessor's hash and
// its content.
func (r record) verify() bool {
	return bytes.Equal(domain.ChainHash(r.prev, r.RecordedEvent), r.Hash)
}

// events returns the ledger events of recs.
func events(recs []record) []domain.RecordedEvent {
	out := make([]domain.RecordedEvent, len(recs))
	for i, r := range recs {
		out[i] = r.RecordedEvent
	}
	return out
}

// idEntry is the one event of an ID index stream: where the event with
// that ID sits in the ledger.
type idEntry struct {
	Position int64  `json:"position"`
	Stream   string `json:"stream"`
	Version  int64  `json:"version"`
}

// checkpoint is an event of the checkpoint stream: every log position up
// to Position is known to be materialised.
type checkpoint struct {
	Position int64 `json:"position"`
}

// encodeEvent returns rec as an EventStoreDB event with the given ID.
func encodeEvent(rec record, id uuid.UUID) (esdbclient.EventData, error) {
	m := rec.Meta
	meta, err := json.Marshal(eventMeta{
		RecordedAt: m.RecordedAt, Actor: m.Actor, CorrelationID: m.CorrelationID, CausationID: m.CausationID,
		IdempotencyKey: m.IdempotencyKey, CommandHash: m.CommandHash, SchemaVersion: m.SchemaVersion,
		ESCorrelationID: m.CorrelationID, ESCausationID: m.CausationID,
		ID: rec.ID, Stream: rec.Stream, Version: rec.Version, Position: rec.Position, Hash: hex.EncodeToString(rec.Hash), PrevHash: hex.EncodeToString(rec.prev),
	})
	if err != nil {
		return esdbclient.EventData{}, fmt.Errorf("encode metadata of event %s: %w", rec.ID, err)
	}
	return esdbclient.EventData{EventID: id, EventType: rec.Type, ContentType: contentType(rec.Data),
		Data: rec.Data, Metadata: meta}, nil
}

// contentType tells EventStoreDB whether data is JSON, so that its
// projections can read it.
func contentType(data []byte) esdbclient.ContentType {
	if json.Valid(data) {
		return esdbclient.ContentTypeJson
	}
	return esdbclient.ContentTypeBinary
}

// decodeEvent returns the ledger event an EventStoreDB event holds.
func decodeEvent(r *esdbclient.RecordedEvent) (record, error) {
	var m eventMeta
	if err := json.Unmarshal(r.UserMetadata, &m); err != nil {
		return record{}, fmt.Errorf("event %d of stream %q: metadata: %w", r.EventNumber, r.StreamID, err)
	}
	hash, err := hex.DecodeString(m.Hash)
	if err != nil {
		return record{}, fmt.Errorf("event %d of stream %q: hash: %w", r.EventNumber, r.StreamID, err)
	}
	prev, err := hex.DecodeString(m.PrevHash)
	if err != nil {
		return record{}, fmt.Errorf("event %d of stream %q: previous hash: %w", r.EventNumber, r.StreamID, err)
	}
	data := r.Data
	if data == nil {
		data = []byte{}
	}
	return record{prev: prev, RecordedEvent: domain.RecordedEvent{Position: m.Position, Stream: m.Stream, Version: m.Version, Hash: hash,
		EventData: domain.EventData{ID: m.ID, Type: r.EventType, Data: data, Meta: domain.Metadata{
			RecordedAt: m.RecordedAt.UTC(), Actor: m.Actor, CorrelationID: m.CorrelationID, CausationID: m.CausationID,
			IdempotencyKey: m.IdempotencyKey, CommandHash: m.CommandHash, SchemaVersion: m.SchemaVersion,
		}}}}, nil
}

// logEventID returns the EventStoreDB ID of the log event with chained
// hash h. Deriving it from the hash, not reusing the ledger's event ID,
// keeps EventStoreDB's de-duplication from taking another writer's
// different event at the same position for a retry of this one.
func logEventID(h []byte) uuid.UUID { return uuid.NewSHA1(logNamespace, h) }

// encodeJSON returns v as a JSON EventStoreDB event of type typ.
func encodeJSON(id uuid.UUID, typ string, v any) (esdbclient.EventData, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return esdbclient.EventData{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return esdbclient.EventData{EventID: id, EventType: typ, ContentType: esdbclient.ContentTypeJson, Data: data}, nil
}
