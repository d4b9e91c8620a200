package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event types of an import's receipt: the facts that make an import under
// an idempotency key answer a repeat with its first report.
const (
	TypeImportStarted   = "import.started.v1"
	TypeImportCompleted = "import.completed.v1"
	TypeImportFailed    = "import.failed.v1"
)

// ImportStarted records that an import under an idempotency key began: it
// claims the key for the file with the given SHA-256.
type ImportStarted struct {
	ImportID   string `json:"import_id"`
	FileSHA256 string `json:"file_sha256"`
	// Claimant names the process that runs the import (an ID each Service
	// draws when it is made), so that a repeat can tell an import still
	// running from one whose process died. Receipts of 2026-11-28 and
	// before have none.
	Claimant string `json:"claimant,omitempty"`
}

// ImportCompleted records the report of an import under an idempotency
// key, which a repeat of the request answers.
type ImportCompleted struct {
	ImportID string       `json:"import_id"`
	Report   ImportReport `json:"report"`
}

// ImportFailed records that the run of a claimed import stopped before its
// report (the store failing, the request cut off): a repeat runs it again.
// The rows it imported stay; running it again imports the rest.
type ImportFailed struct {
	ImportID string `json:"import_id"`
	Reason   string `json:"reason"`
}

// EventType implements Event.
func (ImportStarted) EventType() string { return TypeImportStarted }

// EventType implements Event.
func (ImportCompleted) EventType() string { return TypeImportCompleted }

// EventType implements Event.
func (ImportFailed) EventType() string { return TypeImportFailed }

// ImportStream is the stream of the receipt of the import with the given
// ID (CommandID of the actor and the idempotency key).
func ImportStream(importID string) string { return "import-" + importID }

// importReceipt is what an import stream holds.
type importReceipt struct {
	version    int64
	fileSHA256 string
	completed  *ImportReport
	// running is set while the last claim has neither completed nor
	// failed; claimant and claimedAt are that claim's.
	running   bool
	claimant  string
	claimedAt time.Time
}

// defaultStaleImport is how long after its claim an unfinished import of
// another process is taken for dead when ServiceOptions.StaleImportAfter
// is zero.
const defaultStaleImport = time.Hour

// maxFailureReason bounds the reason an ImportFailed records.
const maxFailureReason = 500

// ImportOnce runs an import under req's idempotency key; run does the work
// on the file whose SHA-256 (hex) is fileSHA256 and returns its report.
//
// The first request with a key claims the key for that file
// (ImportStarted) and records run's report once it succeeds
// (ImportCompleted), or its failure (ImportFailed). A repeat with the same
// file answers the recorded report without running (repeat true); with
// another file it fails with ErrIdempotencyMismatch and runs nothing. A
// repeat while the import runs fails with ErrConflict and runs nothing, so
// that one run alone makes the report. A repeat of an import that failed,
// or whose process died (see ServiceOptions.SoleWriter and
// StaleImportAfter), runs again: importing the same rows twice is
// idempotent by content. Without a key, run just runs.
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
	// Claims are made one at a time in a process, each with its mark as
	// running, so that a repeat here never takes a claim of this process
	// for one whose run died.
	s.importClaims.Lock()
	rc, err := s.claimImport(ctx, req, stream, ImportStarted{ImportID: id, FileSHA256: fileSHA256, Claimant: s.processID})
	if err == nil && rc.completed == nil {
		s.runningImports.Store(id, struct{}{})
		defer s.runningImports.Delete(id)
	}
	s.importClaims.Unlock()
	if err != nil || rc.completed != nil {
		return answerReceipt(rc, err)
	}
	if rep, err = run(); err != nil {
		s.recordImportFailure(ctx, req, stream, rc.version, id, err)
		return rep, false, err
	}
	err = s.appendImportEvent(ctx, req, stream, ExpectVersion(rc.version), ImportCompleted{ImportID: id, Report: rep})
	if errors.Is(err, ErrConflict) { // taken for dead and run again meanwhile
		after, rerr := s.readImportReceipt(ctx, stream)
		if rerr == nil && after.completed != nil {
			return *after.completed, true, nil
		}
		return rep, false, rerr
	}
	return rep, false, err
}

// recordImportFailure records that the run of the import claimed at
// version claimed failed with cause, so that a repeat on any node runs it
// again. It is recorded even when the request's context ended (often the
// cause); when it cannot be, the claim stays until it is taken for dead.
func (s *Service) recordImportFailure(ctx context.Context, req Request, stream string, claimed int64, id string, cause error) {
	reason := cause.Error()
	if len(reason) > maxFailureReason {
		reason = strings.ToValidUTF8(reason[:maxFailureReason], "") + "…"
	}
	_ = s.appendImportEvent(context.WithoutCancel(ctx), req, stream, ExpectVersion(claimed), ImportFailed{ImportID: id, Reason: reason})
}

// claimDead reports whether the unfinished claim of rc was made by a
// process that no longer runs it: this process, when it does not run the
// import (its run failed without recording so); another one, when this
// process alone writes the store, or when the claim is older than
// StaleImportAfter. The caller holds s.importClaims.
func (s *Service) claimDead(id string, rc importReceipt) bool {
	switch {
	case rc.claimant == s.processID:
		_, running := s.runningImports.Load(id)
		return !running
	case s.soleWriter:
		return true
	}
	return s.clock().Sub(rc.claimedAt) >= s.staleImport
}

// stillRunning is the answer to a repeat of an import whose run is under
// way: in this process, or in another one writing the store, which may
// also have died without finishing it; such a claim lapses after
// StaleImportAfter, and the answer says when.
func (s *Service) stillRunning(rc importReceipt) error {
	since := rc.claimedAt.UTC().Format(time.RFC3339)
	if rc.claimant == s.processID || s.soleWriter {
		return Conflict(nil, "an import with this Idempotency-Key is still running (since %s); "+
			"repeat the request once it has finished to get its report", since)
	}
	return Conflict(nil, "an import with this Idempotency-Key is still running (since %s) on another server, or that server "+
		"stopped without finishing it; repeat the request once it has finished to get its report, or from %s, when a run "+
		"left unfinished lapses and the repeat runs the import again", since, rc.claimedAt.Add(s.staleImport).UTC().Format(time.RFC3339))
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
// the file of started: claimed now (or again, after a failure or the
// death of the claimant), or completed earlier for the same file. It fails
// with ErrIdempotencyMismatch when the key was claimed for another file,
// and with ErrConflict while another run of the import is under way.
func (s *Service) claimImport(ctx context.Context, req Request, stream string, started ImportStarted) (importReceipt, error) {
	id := started.ImportID
	for attempt := 0; ; attempt++ {
		rc, err := s.readImportReceipt(ctx, stream)
		switch {
		case err != nil:
			return rc, err
		case rc.version > 0 && rc.fileSHA256 != started.FileSHA256:
			return rc, &Error{Code: CodeIdempotencyMismatch, Message: "this Idempotency-Key was used to import a different file"}
		case rc.completed != nil:
			return rc, nil
		case rc.running && !s.claimDead(id, rc):
			return rc, s.stillRunning(rc)
		}
		expected := ExpectNoStream
		if rc.version > 0 {
			expected = ExpectVersion(rc.version)
		}
		err = s.appendImportEvent(ctx, req, stream, expected, started)
		if err == nil {
			return importReceipt{version: rc.version + 1, fileSHA256: started.FileSHA256, running: true, claimant: started.Claimant}, nil
		}
		if !errors.Is(err, ErrConflict) || attempt > 0 {
			return rc, err
		}
	}
}

// receiptPage is how many events of an import stream are read at a time:
// one claim and its end for each run, the last of which completes.
const receiptPage = 64

// readImportReceipt reads the receipt an import stream holds, every run's
// claim and end; an empty stream gives version 0.
func (s *Service) readImportReceipt(ctx context.Context, stream string) (importReceipt, error) {
	var rc importReceipt
	for {
		events, err := s.store.ReadStream(ctx, stream, rc.version, receiptPage)
		if err != nil {
			return importReceipt{}, fmt.Errorf("read %s: %w", stream, err)
		}
		for _, re := range events {
			if err := rc.apply(s.codec, re); err != nil {
				return importReceipt{}, fmt.Errorf("%s version %d: %w", stream, re.Version, err)
			}
		}
		if len(events) < receiptPage {
			return rc, nil
		}
	}
}

// apply adds a recorded event of an import stream to the receipt.
func (rc *importReceipt) apply(codec *Codec, re RecordedEvent) error {
	e, err := codec.Decode(re.Type, re.Data)
	if err != nil {
		return err
	}
	switch v := e.(type) {
	case ImportStarted:
		rc.fileSHA256, rc.running, rc.claimant, rc.claimedAt = v.FileSHA256, true, v.Claimant, re.Meta.RecordedAt
	case ImportCompleted:
		rc.completed, rc.running = &v.Report, false
	case ImportFailed:
		rc.running = false
	}
	rc.version = re.Version
	return nil
}

// appendImportEvent appends one receipt event to stream.
func (s *Service) appendImportEvent(ctx context.Context, req Request, stream string, expected ExpectedVersion, e Event) error {
	typ, data, err := s.codec.Encode(e)
	if err != nil {
		return err
	}
	_, err = s.append(ctx, StreamAppend{Stream: stream, Expected: expected, Events: []EventData{{
		ID: s.newID(), Type: typ, Data: data, Meta: Metadata{
			RecordedAt: s.clock().UTC().Truncate(time.Microsecond), Actor: req.Actor.String(),
			CorrelationID: req.CorrelationID, CausationID: req.CausationID, IdempotencyKey: req.IdempotencyKey,
			SchemaVersion: SchemaVersion(typ)}}}})
	return err
}
