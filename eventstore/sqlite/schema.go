package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are the schema changes in order; migration i brings the file
// from PRAGMA user_version i to i+1. Never edit one that has shipped: append
// a new one.
var migrations = []string{
	`CREATE TABLE events (
		position        INTEGER PRIMARY KEY,
		stream          TEXT    NOT NULL,
		version         INTEGER NOT NULL,
		id              TEXT    NOT NULL UNIQUE,
		type            TEXT    NOT NULL,
		data            BLOB    NOT NULL,
		recorded_at     INTEGER NOT NULL,
		actor           TEXT    NOT NULL,
		correlation_id  TEXT    NOT NULL,
		causation_id    TEXT    NOT NULL,
		idempotency_key TEXT    NOT NULL,
		command_hash    TEXT    NOT NULL,
		schema_version  INTEGER NOT NULL,
		hash            BLOB    NOT NULL,
		UNIQUE (stream, version)
	) STRICT`,
	// A random ID of this ledger, drawn once (LedgerID).
	`CREATE TABLE ledger_identity (
		id        INTEGER PRIMARY KEY CHECK (id = 1),
		ledger_id TEXT    NOT NULL
	) STRICT;
	INSERT INTO ledger_identity (id, ledger_id) VALUES (1, lower(hex(randomblob(16))))`,
}

// minReadableVersion is the oldest schema version a read-only open
// accepts: the events table is the same in every version so far, so a
// file that ledger serve has not yet migrated can still be verified and
// rebuilt from. A migration that changes what the reader reads raises it.
const minReadableVersion = 1

// identityVersion is the first schema version with a ledger_identity.
const identityVersion = 2

// schemaVersion is the user_version of a fully migrated file.
var schemaVersion = len(migrations)

// migrate brings the database of conn up to schemaVersion in one immediate
// transaction, so that two processes opening a new file at once do not both
// create the schema. It returns the version the file had (0 for a new one).
func migrate(ctx context.Context, conn *sql.Conn) (from int, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			_, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			err = errors.Join(err, rbErr)
		}
	}()
	current, err := userVersion(ctx, conn)
	if err != nil {
		return 0, err
	}
	if current > schemaVersion {
		return 0, fmt.Errorf("schema version %d is newer than this program's %d", current, schemaVersion)
	}
	for i := current; i < schemaVersion; i++ {
		if _, err := conn.ExecContext(ctx, migrations[i]); err != nil {
			return 0, fmt.Errorf("migrate schema to version %d: %w", i+1, err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			return 0, fmt.Errorf("set schema version %d: %w", i+1, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("commit migration: %w", err)
	}
	return current, nil
}

// ErrNotEventStore is the cause of opening a database that holds no
// event store this package reads: no schema version, or one out of range.
var ErrNotEventStore = errors.New("no event store")

// checkSchema returns the schema version of the database of q, or an
// error matching ErrNotEventStore unless it is between minReadableVersion
// and schemaVersion.
func checkSchema(ctx context.Context, q queryer) (int, error) {
	v, err := userVersion(ctx, q)
	if err != nil {
		return 0, err
	}
	if v < minReadableVersion || v > schemaVersion {
		return 0, fmt.Errorf("schema version is %d, want %d to %d (is this an event store?): %w", v, minReadableVersion, schemaVersion, ErrNotEventStore)
	}
	return v, nil
}

// readLedgerID returns the ledger ID of a database at schema version v,
// or "" for a file older than identityVersion.
func readLedgerID(ctx context.Context, q queryer, v int) (string, error) {
	if v < identityVersion {
		return "", nil
	}
	var id string
	if err := q.QueryRowContext(ctx, "SELECT ledger_id FROM ledger_identity").Scan(&id); err != nil {
		return "", fmt.Errorf("read ledger ID: %w", err)
	}
	return id, nil
}

// queryer is what userVersion needs of a *sql.DB or *sql.Conn.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// userVersion reads PRAGMA user_version.
func userVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
