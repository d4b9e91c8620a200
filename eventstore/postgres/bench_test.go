package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/patentledger/ledger/domain"
)

// The benchmarks write durably (synchronous_commit on) to a fresh schema of
// the database that LEDGER_TEST_POSTGRES_URL names, and skip without it.
// Each measures the store and, in the same run on the same rows, plain
// baselines, and reports the rates and the store's ratio to each. Run each
// on its own with a fixed count, as the count means events for the first
// and batches of 1,000 events for the second:
//
//	go test -run '^$' -bench '^BenchmarkSingle64$' -benchtime=5000x ./eventstore/postgres
//	go test -run '^$' -bench '^BenchmarkBatch1000$' -benchtime=20x ./eventstore/postgres

// goroutines is how many appenders the single-event benchmark runs.
const goroutines = 64

// batchSize is the number of events per append in the batch benchmark.
const batchSize = 1000

// plainColumns are the columns the baselines write: all but position,
// which an identity column numbers as a bigserial would.
var plainColumns = []string{"stream", "version", "id", "type", "data", "recorded_at", "actor",
	"correlation_id", "causation_id", "idempotency_key", "command_hash", "schema_version", "hash"}

// plainInsertSQL inserts one row of plainColumns.
const plainInsertSQL = `INSERT INTO plain_events (stream, version, id, type, data, recorded_at, actor,
	correlation_id, causation_id, idempotency_key, command_hash, schema_version, hash)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// BenchmarkSingle64 appends b.N single events from 64 goroutines, each to
// its own stream at the exact expected version, then INSERTs the same number
// of rows from 64 goroutines, one transaction per row.
func BenchmarkSingle64(b *testing.B) {
	schema := newSchema(b)
	s := openTest(b, schema, Options{})
	pool := plainPool(b, schema)
	evs := events(b.N)
	plain := events(b.N)
	b.ResetTimer()
	store := rate(b.N, func() { appendSingles(b, s, evs) })
	baseline := rate(b.N, func() { insertSingles(b, pool, plain) })
	b.StopTimer()
	b.ReportMetric(store, "store-events/s")
	b.ReportMetric(baseline, "insert-events/s")
	b.ReportMetric(store/baseline, "store/insert")
}

// BenchmarkBatch1000 appends b.N batches of 1,000 events to one stream, then
// writes the same number of rows as 1,000 plain INSERTs per transaction and
// as one COPY of 1,000 rows per transaction.
func BenchmarkBatch1000(b *testing.B) {
	schema := newSchema(b)
	s := openTest(b, schema, Options{})
	pool := plainPool(b, schema)
	evs, plain, copied := events(b.N*batchSize), events(b.N*batchSize), events(b.N*batchSize)
	n := b.N * batchSize
	b.ResetTimer()
	store := rate(n, func() { appendBatches(b, s, evs) })
	inserts := rate(n, func() { insertBatches(b, pool, plain) })
	copies := rate(n, func() { copyBatches(b, pool, copied) })
	b.StopTimer()
	b.ReportMetric(store, "store-events/s")
	b.ReportMetric(inserts, "insert-events/s")
	b.ReportMetric(copies, "copy-events/s")
	b.ReportMetric(store/inserts, "store/insert")
	b.ReportMetric(store/copies, "store/copy")
}

// rate runs f and returns n divided by the seconds it took.
func rate(n int, f func()) float64 {
	start := time.Now()
	f()
	return float64(n) / time.Since(start).Seconds()
}

// appendSingles appends evs one per call from 64 goroutines.
func appendSingles(b *testing.B, s *Store, evs []domain.EventData) {
	var next atomic.Int64
	runParallel(goroutines, func(g int) {
		stream := fmt.Sprintf("stream-%d", g)
		var version int64
		for i := next.Add(1) - 1; i < int64(len(evs)); i = next.Add(1) - 1 {
			if _, err := s.Append(context.Background(), to(stream, domain.ExpectVersion(version), evs[i])); err != nil {
				b.Error(err)
				return
			}
			version++
		}
	})
}

// appendBatches appends evs in calls of batchSize events.
func appendBatches(b *testing.B, s *Store, evs []domain.EventData) {
	for i := 0; i < len(evs); i += batchSize {
		if _, err := s.Append(context.Background(), to("batch", domain.ExpectVersion(int64(i)), evs[i:i+batchSize]...)); err != nil {
			b.Fatal(err)
		}
	}
}

// insertSingles INSERTs evs from 64 goroutines, one row per statement
// outside any explicit transaction.
func insertSingles(b *testing.B, pool *pgxpool.Pool, evs []domain.EventData) {
	var next atomic.Int64
	runParallel(goroutines, func(g int) {
		stream := fmt.Sprintf("stream-%d", g)
		var version int64
		for i := next.Add(1) - 1; i < int64(len(evs)); i = next.Add(1) - 1 {
			version++
			if _, err := pool.Exec(context.Background(), plainInsertSQL, plainRow(stream, version, evs[i])...); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// insertBatches INSERTs evs one statement per row, batchSize rows per
// transaction.
func insertBatches(b *testing.B, pool *pgxpool.Pool, evs []domain.EventData) {
	ctx := context.Background()
	for i := 0; i < len(evs); i += batchSize {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for j, e := range evs[i : i+batchSize] {
				if _, err := tx.Exec(ctx, plainInsertSQL, plainRow("batch", int64(i+j+1), e)...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// copyBatches writes evs with one COPY of batchSize rows per transaction.
func copyBatches(b *testing.B, pool *pgxpool.Pool, evs []domain.EventData) {
	for i := 0; i < len(evs); i += batchSize {
		rows := make([][]any, batchSize)
		for j, e := range evs[i : i+batchSize] {
			rows[j] = plainRow("copy", int64(i+j+1), e)
		}
		if _, err := pool.CopyFrom(context.Background(), pgx.Identifier{"plain_events"}, plainColumns, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
	}
}

// plainRow returns the values of plainColumns for e as version of stream,
// hashing it as the store does but without reading a chain.
func plainRow(stream string, version int64, e domain.EventData) []any {
	rec := domain.RecordedEvent{Stream: stream, Version: version, EventData: e}
	m := e.Meta
	return []any{stream, version, e.ID, e.Type, e.Data, m.RecordedAt, m.Actor, m.CorrelationID,
		m.CausationID, m.IdempotencyKey, m.CommandHash, int64(m.SchemaVersion), domain.ChainHash(nil, rec)}
}

// plainPool creates plain_events in schema, a copy of the events table
// (indexes included) whose position is an identity column, and returns a
// pool of 64 connections to it, closed when the benchmark ends.
func plainPool(b *testing.B, schema string) *pgxpool.Pool {
	cfg, _, err := poolConfig(testURL(b), Options{Schema: schema, MaxConns: goroutines})
	if err != nil {
		b.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	_, err = pool.Exec(context.Background(), `CREATE TABLE plain_events (LIKE events INCLUDING ALL);
		ALTER TABLE plain_events ALTER COLUMN position ADD GENERATED ALWAYS AS IDENTITY`)
	if err != nil {
		b.Fatal(err)
	}
	return pool
}

// runParallel runs f(0..n-1) on n goroutines and waits for them.
func runParallel(n int, f func(g int)) {
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() { f(g) })
	}
	wg.Wait()
}
