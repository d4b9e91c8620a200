package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/patentledger/ledger/domain"
)

var _ domain.SnapshotStore = (*Snapshots)(nil)

// Snapshots is a domain.SnapshotStore in its own SQLite file beside the
// event store. Snapshots are derived data, so the file is written without
// waiting for fsync and may be deleted at any time.
type Snapshots struct {
	db         *sql.DB
	load, save *sql.Stmt
}

const snapshotSchema = `CREATE TABLE IF NOT EXISTS snapshots (
	stream        TEXT    PRIMARY KEY,
	version       INTEGER NOT NULL,
	last_event_id TEXT    NOT NULL,
	format        INTEGER NOT NULL,
	data          BLOB    NOT NULL
) STRICT`

// OpenSnapshots opens (creating if needed) the snapshot file at path.
func OpenSnapshots(ctx context.Context, path string) (*Snapshots, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open(driverName, "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	s := &Snapshots{db: db}
	if err := s.prepare(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("snapshots %s: %w", path, err), db.Close())
	}
	return s, nil
}

func (s *Snapshots) prepare(ctx context.Context) (err error) {
	if _, err = s.db.ExecContext(ctx, snapshotSchema); err != nil {
		return err
	}
	if s.load, err = s.db.PrepareContext(ctx, `SELECT version, last_event_id, format, data FROM snapshots WHERE stream = ?`); err != nil {
		return err
	}
	s.save, err = s.db.PrepareContext(ctx, `INSERT INTO snapshots (stream, version, last_event_id, format, data)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (stream) DO UPDATE SET version = excluded.version, last_event_id = excluded.last_event_id,
			format = excluded.format, data = excluded.data
		WHERE excluded.version > snapshots.version OR excluded.format <> snapshots.format`)
	return err
}

// LoadSnapshot implements domain.SnapshotStore.
func (s *Snapshots) LoadSnapshot(ctx context.Context, stream string) (domain.Snapshot, bool, error) {
	snap := domain.Snapshot{Stream: stream}
	err := s.load.QueryRowContext(ctx, stream).Scan(&snap.Version, &snap.LastEventID, &snap.Format, &snap.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return snap, false, nil
	}
	if err != nil {
		return snap, false, err
	}
	return snap, true, nil
}

// SaveSnapshot implements domain.SnapshotStore.
func (s *Snapshots) SaveSnapshot(ctx context.Context, snap domain.Snapshot) error {
	_, err := s.save.ExecContext(ctx, snap.Stream, snap.Version, snap.LastEventID, snap.Format, snap.Data)
	return err
}

// Close closes the snapshot file.
func (s *Snapshots) Close() error { return s.db.Close() }
