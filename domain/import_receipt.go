package domain

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Event types of an import's receipt: the facts that make an import under
// an idempotency key answer a repeat with its first report.
const (
	TypeImportStarted   = "import.started.v1"
	TypeImportCompleted = "import.completed.v1"
)

// ImportStarted records that an import under an idempotency key began: it
// claims the key for the file with the given SHA-256.
type ImportStarted struct {
	ImportID   string `json:"import_id"`
	FileSHA256 string `json:"file_sha256"`
}

// ImportCompleted records the report of an import under an idempotency
// key, which a repeat of the request answers.
type ImportCompleted struct {
	ImportID string       `json:"import_id"`
	Report   ImportReport `json:"report"`
}

// EventType implements Event.
func (ImportStarted) EventType() string { return TypeImportStarted }

// EventType implements Event.
func (ImportCompleted) EventType() string { return TypeImportCompleted }

// ImportStream is the stream of the receipt of the import with the given
// ID (CommandID of the actor and the idempotency key).
func ImportStream(importID string) string { return "import-" + importID }

// importReceipt is what an import stream holds.
type importReceipt struct {
	version    int64
	fileSHA256 string
	completed  *ImportReport
}

// ImportOnce runs an import under req's idempotency key; run does the work
// on the file whose SHA-256 (hex) is fileSHA256 and returns its report.
//
// The first request with a key claims the key for that file
// (ImportStarted) and records run's report once it succeeds
// (ImportCompleted). A repeat with the same file answers the recorded
// report without running (repeat true); with another file it fails with
// ErrIdempotencyMismatch and runs nothing. A repeat of an import that
// failed before its report was recorded runs again: importing the same
// rows twice is idempotent by content. Without a key, run just runs.
func (s *Service) ImportOnce(ctx context.Context, req Request, fileSHA256 string, run func() (ImportReport, error)) (rep ImportReport, repeat bool, err error) {
	if req.IdempotencyKey == "" {
		rep, err := run()
		return rep, false, err
	}
	if err := s.checkActor(ctx, req.Actor); err != nil {
		return ImportReport{}, false, err
	}
	id := CommandID(req.Actor.String(), req.IdempotencyKey)
	stream := ImportStream(id)
	rc, err := s.claimImport(ctx, req, stream, ImportStarted{ImportID: id, FileSHA256: fileSHA256})
	if err != nil || rc.completed != nil {
		return answerReceipt(rc, err)
	}
	if rep, err = run(); err != nil {
		return rep, false, err
	}
	err = s.appendImportEvent(ctx, req, stream, ExpectVersion(rc.version), ImportCompleted{ImportID: id, Report: rep})
	if errors.Is(err, ErrConflict) { // a concurrent repeat recorded its report first
		return answerReceipt(s.readImportReceipt(ctx, stream))
	}
	return rep, false, err
}

// answerReceipt answers a repeat with the recorded report.
func answerReceipt(rc importReceipt, err error) (ImportReport, bool, error) {
	if err != nil {
		return ImportReport{}, false, err
	}
	if rc.completed == nil {
		return ImportReport{}, false, Conflict(nil, "an import with this Idempotency-Key is still running; retry later")
	}
	return *rc.completed, true, nil
}

// claimImport returns the receipt of stream once the import is claimed for
// the file of started: claimed now, or earlier by a request for the same
// file. It fails with ErrIdempotencyMismatch when the key was claimed for
// another file.
func (s *Service) claimImport(ctx context.Context, req Request, stream string, started ImportStarted) (importReceipt, error) {
	for attempt := 0; ; attempt++ {
		rc, err := s.readImportReceipt(ctx, stream)
		switch {
		case err != nil:
			return rc, err
		case rc.version > 0 && rc.fileSHA256 != started.FileSHA256:
			return rc, &Error{Code: CodeIdempotencyMismatch, Message: "this Idempotency-Key was used to import a different file"}
		case rc.version > 0:
			return rc, nil
		}
		err = s.appendImportEvent(ctx, req, stream, ExpectNoStream, started)
		if err == nil {
			return importReceipt{version: 1, fileSHA256: started.FileSHA256}, nil
		}
		if !errors.Is(err, ErrConflict) || attempt > 0 {
			return rc, err
		}
	}
}

// readImportReceipt reads the receipt an import stream holds; an empty
// stream gives version 0.
func (s *Service) readImportReceipt(ctx context.Context, stream string) (importReceipt, error) {
	events, err := s.store.ReadStream(ctx, stream, 0, 10)
	if err != nil {
		return importReceipt{}, fmt.Errorf("read %s: %w", stream, err)
	}
	var rc importReceipt
	for _, re := range events {
		e, err := s.codec.Decode(re.Type, re.Data)
		if err != nil {
			return importReceipt{}, fmt.Errorf("%s version %d: %w", stream, re.Version, err)
		}
		switch v := e.(type) {
		case ImportStarted:
			rc.fileSHA256 = v.FileSHA256
		case ImportCompleted:
			rc.completed = &v.Report
		}
		rc.version = re.Version
	}
	return rc, nil
}

// appendImportEvent appends one receipt event to stream.
func (s *Service) appendImportEvent(ctx context.Context, req Request, stream string, expected ExpectedVersion, e Event) error {
	typ, data, err := s.codec.Encode(e)
	if err != nil {
		return err
	}
	_, err = s.store.Append(ctx, StreamAppend{Stream: stream, Expected: expected, Events: []EventData{{
		ID: s.newID(), Type: typ, Data: data, Meta: Metadata{
			RecordedAt: s.clock().UTC().Truncate(time.Microsecond), Actor: req.Actor.String(),
			CorrelationID: req.CorrelationID, CausationID: req.CausationID, IdempotencyKey: req.IdempotencyKey,
			SchemaVersion: SchemaVersion(typ)}}}})
	return err
}
