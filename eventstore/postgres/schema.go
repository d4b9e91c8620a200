package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema changes in order; migration i brings the schema
// from version i to i+1 and is recorded in schema_migrations. Never edit one
// that has shipped: append a new one. Each runs with search_path set to the
// store's schema. Stream names and IDs are only ever compared for equality,
// so they collate bytewise ("C"): that is the cheapest comparison, and their
// unique indexes cannot be corrupted by an operating system upgrade that
// changes the collation of the database's locale.
var migrations = []string{
	`CREATE TABLE events (
		position        bigint      NOT NULL,
		stream          text        COLLATE "C" NOT NULL,
		version         bigint      NOT NULL,
		id              text        COLLATE "C" NOT NULL,
		type            text        NOT NULL,
		data            bytea       NOT NULL,
		recorded_at     timestamptz NOT NULL,
		actor           text        NOT NULL,
		correlation_id  text        NOT NULL,
		causation_id    text        NOT NULL,
		idempotency_key text        NOT NULL,
		command_hash    text        NOT NULL,
		schema_version  bigint      NOT NULL,
		hash            bytea       NOT NULL,
		CONSTRAINT events_pkey PRIMARY KEY (position),
		CONSTRAINT events_id_key UNIQUE (id),
		CONSTRAINT events_stream_version_key UNIQUE (stream, version),
		CONSTRAINT events_position_check CHECK (position > 0),
		CONSTRAINT events_version_check CHECK (version > 0)
	);
	-- Every append locks this one row first: that serialises position
	-- assignment across every node (see the package documentation).
	CREATE TABLE append_lock (
		id integer PRIMARY KEY CHECK (id = 1)
	);
	INSERT INTO append_lock (id) VALUES (1);`,
	// A random ID of this ledger, drawn once (Store.LedgerID).
	`CREATE TABLE ledger_identity (
		id        integer PRIMARY KEY CHECK (id = 1),
		ledger_id text    NOT NULL
	);
	INSERT INTO ledger_identity (id, ledger_id) VALUES (1, md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text));`,
}

// minReadableVersion is the oldest schema version an Existing open
// accepts: the events table is the same in every version so far, so a
// schema that ledger serve has not yet migrated can still be verified and
// rebuilt from. A migration that changes what the store reads raises it.
const minReadableVersion = 1

// identityVersion is the first schema version with a ledger_identity.
const identityVersion = 2

// migrateLockKey is the text hashed into the key of the advisory lock that
// serialises migrations of one schema.
const migrateLockKey = "patentledger/eventstore/postgres migrate "

// defaultConnectTimeout bounds making a connection when the URL sets no
// connect_timeout: a host that never answers (a network partition, a
// firewall dropping packets) then fails Open and the store's calls as
// unavailable instead of leaving them waiting on the operating system.
const defaultConnectTimeout = 10 * time.Second

// poolConfig parses url and returns the pool configuration and the schema
// of the store: every connection has search_path set to that schema alone,
// synchronous_commit on and, unless the URL sets one, a connect timeout of
// defaultConnectTimeout.
func poolConfig(url string, opts Options) (*pgxpool.Config, string, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, "", err
	}
	params := cfg.ConnConfig.RuntimeParams
	schema := opts.Schema
	if schema == "" {
		schema = firstSchema(params["search_path"])
	}
	params["search_path"] = pgx.Identifier{schema}.Sanitize()
	params["synchronous_commit"] = "on"
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	return cfg, schema, nil
}

// firstSchema returns the first schema named in a search_path setting,
// without its quotes, or "public" when the setting names none.
func firstSchema(searchPath string) string {
	first, _, _ := strings.Cut(searchPath, ",")
	first = strings.TrimSpace(first)
	if len(first) >= 2 && first[0] == '"' && first[len(first)-1] == '"' {
		first = strings.ReplaceAll(first[1:len(first)-1], `""`, `"`)
	}
	if first == "" {
		return "public"
	}
	return first
}

// migrate creates schema when missing and applies the migrations it lacks,
// all in one transaction that holds an advisory lock on the schema's name,
// so that nodes starting at once migrate it once. It returns the version
// the schema had (0 for a new one). A schema at this program's version is
// left alone without writing, so that a node starts on a PostgreSQL that
// takes no writes for now (a primary set read-only during a failover),
// reading, its appends answering unavailable until it takes writes again.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) (from int, err error) {
	if current, err := schemaVersion(ctx, pool, schema); err == nil && current == len(migrations) {
		return current, nil
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
		}
	}()
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", migrateLockKey+schema); err != nil {
		return 0, fmt.Errorf("lock migration of schema %s: %w", ident, err)
	}
	for _, stmt := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + ident,
		"SET LOCAL search_path TO " + ident,
		`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`,
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return 0, fmt.Errorf("prepare migration of schema %s: %w", ident, err)
		}
	}
	if from, err = applyMigrations(ctx, tx); err != nil {
		return 0, fmt.Errorf("migrate schema %s: %w", ident, err)
	}
	return from, tx.Commit(ctx)
}

// checkSchema checks, without changing anything, that schema holds a store
// this program can read (minReadableVersion up to its own version). It
// returns ErrNoStore when the schema or its schema_migrations table is
// missing.
func checkSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	ident := pgx.Identifier{schema}.Sanitize()
	current, err := schemaVersion(ctx, pool, schema)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && (pgErr.Code == pgUndefinedTable || pgErr.Code == pgInvalidSchemaName):
		return fmt.Errorf("schema %s %w", ident, ErrNoStore)
	case err != nil:
		return fmt.Errorf("read schema version of %s: %w", ident, err)
	case current < minReadableVersion || current > len(migrations):
		return fmt.Errorf("schema %s is at version %d, this program reads %d to %d (ledger serve migrates an older one)",
			ident, current, minReadableVersion, len(migrations))
	}
	return nil
}

// schemaVersion returns the version recorded in schema's schema_migrations.
func schemaVersion(ctx context.Context, pool *pgxpool.Pool, schema string) (int, error) {
	var v int
	err := pool.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM "+pgx.Identifier{schema}.Sanitize()+".schema_migrations").Scan(&v)
	return v, err
}

// readLedgerID returns the ledger ID of schema, or "" when the schema is
// older than identityVersion (opened Existing, before ledger serve
// migrated it).
func readLedgerID(ctx context.Context, pool *pgxpool.Pool, schema string) (string, error) {
	v, err := schemaVersion(ctx, pool, schema)
	if err != nil || v < identityVersion {
		return "", err
	}
	var id string
	err = pool.QueryRow(ctx, "SELECT ledger_id FROM "+pgx.Identifier{schema}.Sanitize()+".ledger_identity").Scan(&id)
	return id, err
}

// The SQLSTATE codes of a missing table and a missing schema.
const (
	pgUndefinedTable    = "42P01"
	pgInvalidSchemaName = "3F000"
)

// applyMigrations applies, in tx, the migrations newer than the version
// recorded in schema_migrations, and returns that version.
func applyMigrations(ctx context.Context, tx pgx.Tx) (from int, err error) {
	var current int
	if err := tx.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return 0, fmt.Errorf("schema version %d is newer than this program's %d", current, len(migrations))
	}
	for v := current + 1; v <= len(migrations); v++ {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return 0, fmt.Errorf("to version %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v); err != nil {
			return 0, fmt.Errorf("record version %d: %w", v, err)
		}
	}
	return current, nil
}
