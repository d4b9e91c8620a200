package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/patentledger/ledger/domain"
)

// insertChunk is the most rows one INSERT statement writes. Writing many
// rows per statement saves the per-statement cost of the driver, which
// dominates large appends.
const insertChunk = 32

// insertColumns are the columns insert writes, in its order.
const insertColumns = `(position, stream, version, id, type, data, recorded_at, actor,
	correlation_id, causation_id, idempotency_key, command_hash, schema_version, hash)`

// insertRow is the placeholders of one row of insertColumns.
const insertRow = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

// insert writes recs, in chunks of at most insertChunk rows.
func (w *writer) insert(recs []domain.RecordedEvent) error {
	for len(recs) > 0 {
		n := min(len(recs), insertChunk)
		if err := w.insertRows(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// insertRows writes recs with one INSERT statement.
func (w *writer) insertRows(recs []domain.RecordedEvent) error {
	stmt, err := w.insertStmt(len(recs))
	if err != nil {
		return err
	}
	args := w.args[:0]
	for _, r := range recs {
		m := r.Meta
		args = append(args, r.Position, r.Stream, r.Version, r.ID, r.Type, r.Data,
			m.RecordedAt.UnixMicro(), m.Actor, m.CorrelationID, m.CausationID,
			m.IdempotencyKey, m.CommandHash, m.SchemaVersion, r.Hash)
	}
	_, err = stmt.Exec(args...)
	clear(args)
	w.args = args[:0]
	if err != nil {
		return w.insertError(recs, err)
	}
	return nil
}

// insertStmt returns the INSERT statement for rows rows, preparing it when
// first needed.
func (w *writer) insertStmt(rows int) (*sql.Stmt, error) {
	if stmt, ok := w.inserts[rows]; ok {
		return stmt, nil
	}
	text := "INSERT INTO events " + insertColumns + " VALUES " + insertRow + strings.Repeat(", "+insertRow, rows-1)
	stmt, err := w.conn.PrepareContext(context.Background(), text)
	if err != nil {
		return nil, fmt.Errorf("prepare insert of %d rows: %w", rows, err)
	}
	w.inserts[rows] = stmt
	return stmt, nil
}

// insertError explains a failed insert of recs: an ID stored by another
// append is an idempotency mismatch, anything else a storage failure.
func (w *writer) insertError(recs []domain.RecordedEvent, err error) error {
	for _, r := range recs {
		stored, found, lookupErr := w.lookup(r.ID)
		if lookupErr != nil {
			return errors.Join(fmt.Errorf("insert events: %w", err), lookupErr)
		}
		if found {
			return domain.IdempotencyMismatch("event %s is already stored at position %d by another append", r.ID, stored.Position)
		}
	}
	return fmt.Errorf("insert events: %w", err)
}
