package domain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// CanonicalBytes is the byte string the hash chain covers for one event:
// its position, stream, version, ID, type, payload and metadata, each field
// length-prefixed so that no two different events share an encoding. The
// recorded time enters with microsecond precision, the finest every
// supported store keeps.
func CanonicalBytes(e RecordedEvent) []byte {
	var b bytes.Buffer
	b.Grow(128 + len(e.Data) + len(e.Stream) + len(e.Type))
	writeInt := func(v int64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(v))
		b.Write(n[:])
	}
	writeBytes := func(p []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		b.Write(n[:])
		b.Write(p)
	}
	writeString := func(s string) { writeBytes([]byte(s)) }
	writeInt(e.Position)
	writeString(e.Stream)
	writeInt(e.Version)
	writeString(e.ID)
	writeString(e.Type)
	writeBytes(e.Data)
	m := e.Meta
	writeInt(m.RecordedAt.UnixMicro())
	writeString(m.Actor)
	writeString(m.CorrelationID)
	writeString(m.CausationID)
	writeString(m.IdempotencyKey)
	writeString(m.CommandHash)
	writeInt(int64(m.SchemaVersion))
	return b.Bytes()
}

// ChainHash returns SHA-256(prev ‖ CanonicalBytes(e)), the hash an event
// stores in the tamper-evident chain along the global log. The first event's
// prev is empty.
func ChainHash(prev []byte, e RecordedEvent) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(CanonicalBytes(e))
	return h.Sum(nil)
}

// VerifyResult is the outcome of walking the hash chain.
type VerifyResult struct {
	// Events is the number of events checked.
	Events int64
	// Head is the last position and hash checked.
	Head Head
	// BadPosition is the first position whose stored hash does not match,
	// or whose position breaks the sequence; 0 when the chain is intact.
	BadPosition int64
	// Reason says what was wrong at BadPosition.
	Reason string
}

// Intact reports whether the walk found no broken link.
func (r VerifyResult) Intact() bool { return r.BadPosition == 0 }

// LogReader reads the global log in position order, as
// EventStore.ReadAll does: an EventStore, or a client of a server's log.
type LogReader interface {
	ReadAll(ctx context.Context, afterPosition int64, limit int) ([]RecordedEvent, error)
}

// VerifyChain walks the whole global log of store in batches (one event at
// a time through a batch that cannot be read, so that a log damaged midway
// is verified up to the last event it gives), recomputes
// every hash and reports the first event whose stored hash, or whose
// position, does not follow from its predecessor. progress, when not nil,
// is called after each batch with the last position checked.
func VerifyChain(ctx context.Context, store LogReader, progress func(position int64)) (VerifyResult, error) {
	var res VerifyResult
	var prev []byte
	const batchSize = 4096
	var after, singleUntil int64 // single events are read up to singleUntil, the end of a batch that failed
	var damage error             // the last read that failed: a damaged file, whose rows past the damage a read may skip
	for {
		size := batchSize
		if after < singleUntil {
			size = 1
		}
		batch, err := store.ReadAll(ctx, after, size)
		switch {
		case err != nil && size > 1 && ctx.Err() == nil:
			singleUntil, damage = after+batchSize, err
			continue
		case err != nil:
			return res, fmt.Errorf("read global log after %d: %w", after, err)
		case size == 1 && (len(batch) == 0 || batch[0].Position != after+1):
			// A damaged file gives nothing, or the event after the damage, next.
			return res, fmt.Errorf("read global log after %d: %w", after, damage)
		case len(batch) == 0:
			return res, nil
		}
		for _, e := range batch {
			if e.Position != after+1 && damage != nil {
				return res, fmt.Errorf("read global log after %d: %w", after, damage)
			}
			if e.Position != after+1 {
				res.BadPosition = after + 1
				res.Reason = fmt.Sprintf("position %d is missing (next stored is %d)", after+1, e.Position)
				return res, nil
			}
			want := ChainHash(prev, e)
			if !bytes.Equal(want, e.Hash) {
				res.BadPosition = e.Position
				res.Reason = fmt.Sprintf("stored hash %s, computed %s", hex.EncodeToString(e.Hash), hex.EncodeToString(want))
				return res, nil
			}
			prev = e.Hash
			after = e.Position
			res.Events++
			res.Head = Head{Position: e.Position, Hash: e.Hash}
		}
		if progress != nil {
			progress(after)
		}
	}
}
