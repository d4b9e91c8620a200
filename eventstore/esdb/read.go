package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/patentledger/ledger/domain"
)

// Read sizes: the default ReadAll batch and the page ReadStream and
// recovery read at a time.
const (
	defaultBatch = 1000
	readPage     = 1000
)

// ReadStream returns up to limit events of stream after afterVersion, as
// domain.EventStore.ReadStream describes. It first finishes any append the
// log holds but the streams do not yet (see the package doc), so that a
// read never shows part of an append. A stream without events reads as
// empty. It returns an error matching ErrAltered when a stored event does
// not match its hash, ErrClosed after Close and a wrapped client error when
// the server cannot be read.
func (s *Store) ReadStream(ctx context.Context, stream string, afterVersion int64, limit int) ([]domain.RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	if !domain.StorableText(stream) {
		return nil, nil // no append can name it (domain.StorableText)
	}
	if err := s.syncStreams(ctx); err != nil {
		return nil, fmt.Errorf("esdb: read stream %q: %w", stream, err)
	}
	recs, err := s.readStream(ctx, s.names.stream(stream), max(afterVersion, 0), limit)
	if err != nil {
		return nil, fmt.Errorf("esdb: read stream %q: %w", stream, err)
	}
	for i, r := range recs {
		if err := checkCopy(stream, max(afterVersion, 0)+int64(i)+1, r); err != nil {
			return nil, err
		}
	}
	return events(recs), nil
}

// checkCopy returns an error matching ErrAltered unless r, read from
// stream at the given version, claims that stream and version and its hash
// follows from its content and its predecessor's hash.
func checkCopy(stream string, version int64, r record) error {
	if r.Stream != stream || r.Version != version || !r.verify() {
		return fmt.Errorf("%w: stream %q version %d (position %d) does not match its hash or place",
			ErrAltered, stream, version, r.Position)
	}
	return nil
}

// readStream reads the EventStoreDB stream name page by page from the
// 0-based revision after (the ledger's version after+1) on.
func (s *Store) readStream(ctx context.Context, name string, after int64, limit int) ([]record, error) {
	var out []record
	for limit <= 0 || len(out) < limit {
		n := readPage
		if limit > 0 {
			n = min(n, limit-len(out))
		}
		raw, err := s.readRaw(ctx, name, esdbclient.Revision(uint64(after)+uint64(len(out))), false, uint64(n))
		if err != nil {
			return nil, err
		}
		evs, err := decodeAll(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
		if len(raw) < n {
			break
		}
	}
	return out, nil
}

// ReadAll returns up to limit events of the global log after
// afterPosition, as domain.EventStore.ReadAll describes; limit <= 0 means
// 1000. It reads the log stream, whose revision r holds position r+1. It
// returns ErrClosed after Close and a wrapped client error when the server
// cannot be read.
func (s *Store) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]domain.RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()
	if limit <= 0 {
		limit = defaultBatch
	}
	recs, err := s.readLog(ctx, max(afterPosition, 0), limit)
	if err != nil {
		return nil, fmt.Errorf("esdb: read the log after %d: %w", afterPosition, err)
	}
	return events(recs), nil
}

// readLog returns up to limit log events after position after.
func (s *Store) readLog(ctx context.Context, after int64, limit int) ([]record, error) {
	raw, err := s.readRaw(ctx, s.names.log(), esdbclient.Revision(uint64(after)), false, uint64(limit))
	if err != nil {
		return nil, err
	}
	return decodeAll(raw)
}

// Head returns the last position of the global log and its hash, read from
// the server. It returns ErrClosed after Close and a wrapped client error
// when the server cannot be read.
func (s *Store) Head(ctx context.Context) (domain.Head, error) {
	if err := s.enter(); err != nil {
		return domain.Head{}, err
	}
	defer s.inflight.Done()
	h, err := s.readHead(ctx)
	if err != nil {
		return domain.Head{}, fmt.Errorf("esdb: head: %w", err)
	}
	return h, nil
}

// readHead reads the last event of the log.
func (s *Store) readHead(ctx context.Context) (domain.Head, error) {
	raw, err := s.readRaw(ctx, s.names.log(), esdbclient.End{}, true, 1)
	if err != nil || len(raw) == 0 {
		return domain.Head{}, err
	}
	evs, err := decodeAll(raw)
	if err != nil {
		return domain.Head{}, err
	}
	return domain.Head{Position: evs[0].Position, Hash: evs[0].Hash}, nil
}

// readCheckpoint returns the last position recorded as materialised, 0 when
// none is.
func (s *Store) readCheckpoint(ctx context.Context) (int64, error) {
	raw, err := s.readRaw(ctx, s.names.checkpoint(), esdbclient.End{}, true, 1)
	if err != nil || len(raw) == 0 {
		return 0, err
	}
	var cp checkpoint
	if err := json.Unmarshal(raw[0].Data, &cp); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	return cp.Position, nil
}

// decodeAll decodes the ledger events of raw.
func decodeAll(raw []*esdbclient.RecordedEvent) ([]record, error) {
	evs := make([]record, len(raw))
	for i, r := range raw {
		var err error
		if evs[i], err = decodeEvent(r); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// readRaw reads up to count events of the EventStoreDB stream name from
// from on, forwards or backwards. A missing stream reads as empty.
func (s *Store) readRaw(ctx context.Context, name string, from esdbclient.StreamPosition, backwards bool, count uint64) ([]*esdbclient.RecordedEvent, error) {
	opts := esdbclient.ReadStreamOptions{Direction: esdbclient.Forwards, From: from}
	if backwards {
		opts.Direction = esdbclient.Backwards
	}
	rs, err := s.c.ReadStream(ctx, name, opts, count)
	if err != nil {
		return nil, clientErr(ctx, err)
	}
	defer rs.Close()
	var out []*esdbclient.RecordedEvent
	for {
		ev, err := rs.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case hasCode(err, esdbclient.ErrorCodeResourceNotFound):
			return nil, nil
		case err != nil:
			return nil, clientErr(ctx, err)
		}
		out = append(out, ev.OriginalEvent())
	}
}

// clientErr returns ctx's error when ctx has ended, since the client then
// reports a cancelled gRPC call, and err otherwise.
func clientErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// hasCode reports whether err is a client error with the given code.
func hasCode(err error, code esdbclient.ErrorCode) bool {
	var e *esdbclient.Error
	return errors.As(err, &e) && e.Code() == code
}
