package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/appendqueue"
)

// errInsertRefused reports that PostgreSQL refused the rows of a batch, so
// that the batch must be redone append by append.
var errInsertRefused = errors.New("insert of the batch refused")

// The statements of an append transaction. lockSQL must run, and return
// its row, before headSQL: in READ COMMITTED each statement takes a new
// snapshot, so headSQL then sees every append committed before the lock was
// granted. (In REPEATABLE READ, whatever the server's default, the snapshot
// would predate the lock: beginSQL names the isolation level.)
const (
	beginSQL    = "BEGIN ISOLATION LEVEL READ COMMITTED"
	lockSQL     = "SELECT id FROM append_lock WHERE id = 1 FOR UPDATE"
	headSQL     = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
	versionsSQL = `SELECT s.stream, COALESCE((SELECT max(e.version) FROM events e WHERE e.stream = s.stream), 0)
		FROM unnest($1::text[]) AS s(stream)`
	byIDSQL   = "SELECT id, position, stream, version, type, data FROM events WHERE id = ANY($1::text[])"
	notifySQL = "SELECT pg_notify($1, $2)"
	insertSQL = `INSERT INTO events (position, stream, version, id, type, data, recorded_at, actor,
		correlation_id, causation_id, idempotency_key, command_hash, schema_version, hash)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bytea[],
			$7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bytea[])`
)

// copyMinRows is the fewest rows a group commit writes with COPY rather
// than INSERT: COPY writes many rows faster, but takes round trips of its
// own, which an INSERT saves by travelling with the COMMIT.
const copyMinRows = 256

// insertColumns are the columns of events that copy writes, in its order.
var insertColumns = []string{"position", "stream", "version", "id", "type", "data", "recorded_at", "actor",
	"correlation_id", "causation_id", "idempotency_key", "command_hash", "schema_version", "hash"}

// txn is an append transaction holding the append lock, and what it knows
// of the log: the last event, the version of every stream of the batch and
// the stored events it has looked up by ID. Planning an append moves this
// state along as if the append were written.
type txn struct {
	ctx      context.Context
	conn     *pgxpool.Conn
	channel  channel
	head     domain.Head
	versions map[string]int64
	stored   map[string]domain.StoredEvent
}

// begin starts the transaction of batch on conn: in one round trip it
// begins, takes the append lock, and reads the last event, the versions of
// the streams of batch and the stored events that have the ID of an
// append's first event.
func begin(ctx context.Context, conn *pgxpool.Conn, channel channel, batch []*appendqueue.Request) (*txn, error) {
	t := &txn{ctx: ctx, conn: conn, channel: channel,
		versions: map[string]int64{}, stored: map[string]domain.StoredEvent{}}
	streams, firsts := touched(batch)
	b := &pgx.Batch{}
	b.Queue(beginSQL)
	b.Queue(lockSQL).QueryRow(func(row pgx.Row) error {
		var id int
		if err := row.Scan(&id); err != nil {
			return fmt.Errorf("take the append lock: %w (is the append_lock row missing?)", err)
		}
		return nil
	})
	b.Queue(headSQL).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&t.head.Position, &t.head.Hash)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read the last event: %w", err)
		}
		return nil
	})
	b.Queue(versionsSQL, streams).Query(func(rows pgx.Rows) error {
		var stream string
		var version int64
		_, err := pgx.ForEachRow(rows, []any{&stream, &version}, func() error {
			t.versions[stream] = version
			return nil
		})
		return err
	})
	b.Queue(byIDSQL, firsts).Query(t.scanStored)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return t, nil
}

// touched returns the streams named in batch and the IDs of the first event
// of each append.
func touched(batch []*appendqueue.Request) (streams, firsts []string) {
	seen := map[string]bool{}
	for _, r := range batch {
		firsts = append(firsts, r.Appends[0].Events[0].ID)
		for _, a := range r.Appends {
			if !seen[a.Stream] {
				seen[a.Stream] = true
				streams = append(streams, a.Stream)
			}
		}
	}
	return streams, firsts
}

// scanStored adds the events of rows (the columns of byIDSQL) to t.stored.
func (t *txn) scanStored(rows pgx.Rows) error {
	var id string
	var e domain.StoredEvent
	_, err := pgx.ForEachRow(rows, []any{&id, &e.Position, &e.Stream, &e.Version, &e.Type, &e.Data}, func() error {
		t.stored[id] = e
		return nil
	})
	return err
}

// writeAll decides every append of batch in memory, filling replies, then
// writes the events of those that hold with one statement and commits. It
// returns errInsertRefused when PostgreSQL refuses the rows, leaving the
// transaction to be rolled back.
func (t *txn) writeAll(batch []*appendqueue.Request, replies []appendqueue.Reply) error {
	var recs []domain.RecordedEvent
	for i, r := range batch {
		p, err := t.plan(r.Appends)
		if err != nil {
			return err
		}
		replies[i] = p.reply
		t.accept(p.recs)
		recs = append(recs, p.recs...)
	}
	if len(recs) == 0 {
		return t.exec("ROLLBACK")
	}
	return t.insertAndCommit(recs)
}

// insertAndCommit writes recs and commits, notifying listeners. Fewer than
// copyMinRows rows are inserted in the round trip of the COMMIT, more with
// a COPY before it. It returns errInsertRefused when PostgreSQL refuses the
// rows.
func (t *txn) insertAndCommit(recs []domain.RecordedEvent) error {
	b := &pgx.Batch{}
	inserted := true
	if len(recs) < copyMinRows {
		inserted = false
		b.Queue(insertSQL, columnsOf(recs)...).Exec(func(pgconn.CommandTag) error {
			inserted = true
			return nil
		})
	} else if err := t.copy(recs); err != nil {
		return refusal(err)
	}
	t.queueCommit(b)
	err := t.conn.SendBatch(t.ctx, b).Close()
	if !inserted {
		return refusal(err)
	}
	return err
}

// refusal wraps an error PostgreSQL returned in errInsertRefused; other
// errors pass unchanged.
func refusal(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Errorf("%w: %w", errInsertRefused, err)
	}
	return err
}

// writeEach decides and inserts the appends of batch one by one, each in a
// savepoint, filling replies, then commits. An append whose insert
// PostgreSQL refuses is rolled back to its savepoint and answered with its
// own error.
func (t *txn) writeEach(batch []*appendqueue.Request, replies []appendqueue.Reply) error {
	written := false
	for i, r := range batch {
		p, err := t.plan(r.Appends)
		if err != nil {
			return err
		}
		if len(p.recs) > 0 {
			if p.reply.Err, err = t.insertAlone(p.recs); err != nil {
				return err
			}
			if p.reply.Err == nil {
				t.accept(p.recs)
				written = true
			}
		}
		replies[i] = p.reply
	}
	if !written {
		return t.exec("ROLLBACK")
	}
	b := &pgx.Batch{}
	t.queueCommit(b)
	return t.conn.SendBatch(t.ctx, b).Close()
}

// insertAlone inserts recs in a savepoint of their own. When PostgreSQL
// refuses them it rolls back to the savepoint and returns the refusal as
// the first result, an idempotency mismatch when an event's ID is stored
// already. The error is for a failure of the transaction.
func (t *txn) insertAlone(recs []domain.RecordedEvent) (refused, err error) {
	if err := t.exec("SAVEPOINT append"); err != nil {
		return nil, err
	}
	insertErr := t.copy(recs)
	var pgErr *pgconn.PgError
	if !errors.As(insertErr, &pgErr) {
		return nil, errors.Join(insertErr, t.exec("RELEASE SAVEPOINT append"))
	}
	if err := t.exec("ROLLBACK TO SAVEPOINT append; RELEASE SAVEPOINT append"); err != nil {
		return nil, errors.Join(insertErr, err)
	}
	if pgErr.ConstraintName == "events_id_key" {
		return t.storedError(recs, insertErr)
	}
	return fmt.Errorf("postgres: insert events: %w", unavailableWhenTransient(insertErr)), nil
}

// storedError explains a unique violation on the ID of one of recs: it
// returns an idempotency mismatch naming the event stored already, or
// insertErr when none is (the violation came from elsewhere).
func (t *txn) storedError(recs []domain.RecordedEvent, insertErr error) (refused, err error) {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	if err := t.lookup(ids); err != nil {
		return nil, err
	}
	for _, r := range recs {
		if stored, ok := t.stored[r.ID]; ok {
			return domain.IdempotencyMismatch("event %s is already stored at position %d by another append", r.ID, stored.Position), nil
		}
	}
	return fmt.Errorf("postgres: insert events: %w", insertErr), nil
}

// queueCommit queues the notification of the new last position and the
// COMMIT, which must report COMMIT: PostgreSQL answers a COMMIT of a failed
// transaction with ROLLBACK.
func (t *txn) queueCommit(b *pgx.Batch) {
	b.Queue(notifySQL, t.channel.name, t.channel.payload(t.head.Position))
	b.Queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() != "COMMIT" {
			return fmt.Errorf("commit answered %q", tag.String())
		}
		return nil
	})
}

// exec runs sql, which takes no arguments.
func (t *txn) exec(sql string) error {
	_, err := t.conn.Exec(t.ctx, sql)
	return err
}

// copy writes recs with one COPY.
func (t *txn) copy(recs []domain.RecordedEvent) error {
	_, err := t.conn.CopyFrom(t.ctx, pgx.Identifier{"events"}, insertColumns, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
		r := recs[i]
		m := r.Meta
		return []any{r.Position, r.Stream, r.Version, r.ID, r.Type, r.Data, m.RecordedAt, m.Actor,
			m.CorrelationID, m.CausationID, m.IdempotencyKey, m.CommandHash, int64(m.SchemaVersion), r.Hash}, nil
	}))
	return err
}

// lookup reads the stored events with the given IDs into t.stored.
func (t *txn) lookup(ids []string) error {
	rows, err := t.conn.Query(t.ctx, byIDSQL, ids)
	if err != nil {
		return fmt.Errorf("look up events by ID: %w", err)
	}
	if err := t.scanStored(rows); err != nil {
		return fmt.Errorf("look up events by ID: %w", err)
	}
	return nil
}

// columnsOf returns recs as the column arrays insertSQL takes.
func columnsOf(recs []domain.RecordedEvent) []any {
	n := len(recs)
	positions, versions, schemas := make([]int64, n), make([]int64, n), make([]int64, n)
	streams, ids, types := make([]string, n), make([]string, n), make([]string, n)
	actors, corrs, causes := make([]string, n), make([]string, n), make([]string, n)
	keys, cmds := make([]string, n), make([]string, n)
	data, hashes := make([][]byte, n), make([][]byte, n)
	times := make([]time.Time, n)
	for i, r := range recs {
		m := r.Meta
		positions[i], streams[i], versions[i], ids[i], types[i] = r.Position, r.Stream, r.Version, r.ID, r.Type
		data[i], times[i], actors[i], corrs[i], causes[i] = r.Data, m.RecordedAt, m.Actor, m.CorrelationID, m.CausationID
		keys[i], cmds[i], schemas[i], hashes[i] = m.IdempotencyKey, m.CommandHash, int64(m.SchemaVersion), r.Hash
	}
	return []any{positions, streams, versions, ids, types, data, times, actors, corrs, causes, keys, cmds, schemas, hashes}
}
