package projections

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/patentledger/ledger/domain"
)

// Topic is the watermill topic the relay publishes the global log on.
const Topic = "ledger.events"

// Metadata keys of a relayed event's message. The correlation ID uses
// watermill's own key, so its CorrelationID middleware carries it on.
const (
	MetaPosition         = "position"
	MetaPreviousPosition = "previous_position"
	MetaEventType        = "event_type"
	MetaStream           = "stream"
	MetaCorrelationID    = middleware.CorrelationIDMetadataKey
	// MetaBatchLast is the position of the last event of the relay's
	// batch that holds this one: every event up to it is in the store
	// already, so a consumer that is behind may read them at once.
	MetaBatchLast = "batch_last"
)

// wireEvent is the JSON payload of a relayed event.
type wireEvent struct {
	Position int64           `json:"position"`
	Stream   string          `json:"stream"`
	Version  int64           `json:"version"`
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
	Metadata domain.Metadata `json:"metadata"`
	Hash     string          `json:"hash"`
}

// NewMessage returns the message of e, whose predecessor in the global log
// is at previous (0 for the first event). The message UUID is the event ID,
// which lets a broker de-duplicate redeliveries.
func NewMessage(e domain.RecordedEvent, previous int64) (*message.Message, error) {
	payload, err := json.Marshal(wireEvent{Position: e.Position, Stream: e.Stream, Version: e.Version,
		ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Meta, Hash: hex.EncodeToString(e.Hash)})
	if err != nil {
		return nil, fmt.Errorf("encode event at position %d: %w", e.Position, err)
	}
	msg := message.NewMessage(e.ID, payload)
	msg.Metadata.Set(MetaPosition, strconv.FormatInt(e.Position, 10))
	msg.Metadata.Set(MetaPreviousPosition, strconv.FormatInt(previous, 10))
	msg.Metadata.Set(MetaEventType, e.Type)
	msg.Metadata.Set(MetaStream, e.Stream)
	if e.Meta.CorrelationID != "" {
		middleware.SetCorrelationID(e.Meta.CorrelationID, msg)
	}
	return msg, nil
}

// DecodeMessage returns the event a message carries and the position of its
// predecessor in the global log. It returns an error when the payload or the
// metadata is malformed or they disagree.
func DecodeMessage(msg *message.Message) (domain.RecordedEvent, int64, error) {
	var w wireEvent
	if err := json.Unmarshal(msg.Payload, &w); err != nil {
		return domain.RecordedEvent{}, 0, fmt.Errorf("message %s: decode payload: %w", msg.UUID, err)
	}
	previous, err := strconv.ParseInt(msg.Metadata.Get(MetaPreviousPosition), 10, 64)
	if err != nil || previous < 0 || previous >= w.Position {
		return domain.RecordedEvent{}, 0, fmt.Errorf("message %s: bad %s %q for position %d", msg.UUID,
			MetaPreviousPosition, msg.Metadata.Get(MetaPreviousPosition), w.Position)
	}
	if got := msg.Metadata.Get(MetaPosition); got != strconv.FormatInt(w.Position, 10) {
		return domain.RecordedEvent{}, 0, fmt.Errorf("message %s: metadata position %q, payload %d", msg.UUID, got, w.Position)
	}
	hash, err := hex.DecodeString(w.Hash)
	if err != nil {
		return domain.RecordedEvent{}, 0, fmt.Errorf("message %s: bad hash: %w", msg.UUID, err)
	}
	e := domain.RecordedEvent{Position: w.Position, Stream: w.Stream, Version: w.Version, Hash: hash,
		EventData: domain.EventData{ID: w.ID, Type: w.Type, Data: w.Data, Meta: w.Metadata}}
	return e, previous, nil
}
