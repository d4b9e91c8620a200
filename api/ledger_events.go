package api

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/patentledger/ledger/domain"
)

// maxLogPage bounds one page of the global log; after_position pages on.
const maxLogPage = 1000

// LogEvent is an event of the global log as GET /v1/ledger/events shows
// it: every field the hash chain covers, byte for byte (the payload as
// stored, recorded_at to the microsecond), and the stored hash, so that a
// client can recompute the chain (domain.ChainHash) without the store.
type LogEvent struct {
	Position int64           `json:"position"`
	Stream   string          `json:"stream"`
	Version  int64           `json:"version"`
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
	// DataBase64 holds the stored payload, and Data is null, for an event
	// whose payload is not JSON (a damaged log: a sound one never has
	// such), so that the page still serves it and the chain's check fails
	// at it rather than the page.
	DataBase64     string `json:"data_base64,omitempty"`
	RecordedAt     string `json:"recorded_at"`
	Actor          string `json:"actor"`
	CorrelationID  string `json:"correlation_id"`
	CausationID    string `json:"causation_id"`
	IdempotencyKey string `json:"idempotency_key"`
	CommandHash    string `json:"command_hash"`
	SchemaVersion  int    `json:"schema_version"`
	Hash           string `json:"hash"`
}

// LogTimeLayout is the layout of recorded_at in the global log and in a
// patent's history: UTC with microseconds, the precision the chain covers.
const LogTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// newLogEvent shows e as a LogEvent.
func newLogEvent(e domain.RecordedEvent) LogEvent {
	m := e.Meta
	le := LogEvent{Position: e.Position, Stream: e.Stream, Version: e.Version, ID: e.ID, Type: e.Type,
		Data: json.RawMessage(e.Data), RecordedAt: m.RecordedAt.UTC().Format(LogTimeLayout), Actor: m.Actor,
		CorrelationID: m.CorrelationID, CausationID: m.CausationID, IdempotencyKey: m.IdempotencyKey,
		CommandHash: m.CommandHash, SchemaVersion: m.SchemaVersion, Hash: hex.EncodeToString(e.Hash)}
	if !json.Valid(e.Data) {
		le.Data, le.DataBase64 = nil, base64.StdEncoding.EncodeToString(e.Data)
	}
	return le
}

// marshalLogEvent writes e as JSON with its payload exactly as stored:
// encoding/json compacts a json.RawMessage, and the hash covers the stored
// bytes, whitespace included.
func marshalLogEvent(e LogEvent) ([]byte, error) {
	data := e.Data
	e.Data = nil
	b, err := json.Marshal(e)
	if err != nil || data == nil {
		return b, err
	}
	return bytes.Replace(b, []byte(`"data":null`), append([]byte(`"data":`), data...), 1), nil
}

// writeLogPage answers a page of LogEvents, each payload as stored.
func writeLogPage(c echo.Context, events []LogEvent) error {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, e := range events {
		if i > 0 {
			body.WriteByte(',')
		}
		b, err := marshalLogEvent(e)
		if err != nil {
			return err
		}
		body.Write(b)
	}
	body.WriteString("]\n")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body.Bytes())
}

// RecordedEvent is the event e shows, as a client that recomputes the
// hash chain needs it.
func (e LogEvent) RecordedEvent() (domain.RecordedEvent, error) {
	at, err := time.Parse(LogTimeLayout, e.RecordedAt)
	if err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("recorded_at: %w", err)
	}
	hash, err := hex.DecodeString(e.Hash)
	if err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("hash: %w", err)
	}
	data := []byte(e.Data)
	if e.DataBase64 != "" {
		if data, err = base64.StdEncoding.DecodeString(e.DataBase64); err != nil {
			return domain.RecordedEvent{}, fmt.Errorf("data_base64: %w", err)
		}
	}
	return domain.RecordedEvent{Position: e.Position, Stream: e.Stream, Version: e.Version, Hash: hash,
		EventData: domain.EventData{ID: e.ID, Type: e.Type, Data: data, Meta: domain.Metadata{
			RecordedAt: at, Actor: e.Actor, CorrelationID: e.CorrelationID, CausationID: e.CausationID,
			IdempotencyKey: e.IdempotencyKey, CommandHash: e.CommandHash, SchemaVersion: e.SchemaVersion}}}, nil
}

// ledgerEvents answers a page of the global log, for a regulator or the
// admin to audit it and verify its hash chain; while more follows, a Link
// header names the next page. Other organisations' keys get 403: the log
// holds every organisation's requests.
func (s *Server) ledgerEvents(c echo.Context) error {
	p, err := requireReader(c)
	if err != nil {
		return err
	}
	if !p.admin && p.org.Kind != domain.OrgRegulator {
		return domain.Forbidden("the global log is for regulators' and the admin's keys; read a patent's history instead")
	}
	after, err := intQuery(c, "after_position", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit", maxLogPage, 1, maxLogPage)
	if err != nil {
		return err
	}
	if err := s.waitForStore(c); err != nil {
		return err
	}
	events, err := s.store.ReadAll(c.Request().Context(), after, int(limit)+1)
	if err != nil {
		return err
	}
	if len(events) > int(limit) {
		events = events[:limit]
		setNextPageLink(c, "after_position", events[limit-1].Position, limit)
	}
	out := make([]LogEvent, len(events))
	for i, e := range events {
		out[i] = newLogEvent(e)
	}
	return writeLogPage(c, out)
}
