package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/storetest"
)

// The benchmarks write durably (WAL, synchronous=FULL) to a temp dir and
// report events/s. Run them with -benchtime=Nx to keep them short, e.g.
// -benchtime=20000x for the single-event ones and 100x for the batches.

// goroutines is how many appenders the single-event benchmarks run.
const goroutines = 64

// batchSize is the number of events per append in the batch benchmarks.
const batchSize = 1000

// idKinds are the event IDs the append benchmarks try: random UUIDv4s, and
// UUIDv7s made in time order, which keep the unique index on id append-only.
var idKinds = []struct {
	name   string
	events func(n int) []domain.EventData
}{
	{"uuidv4", newEvents},
	{"uuidv7", newEventsV7},
}

// BenchmarkAppendSingle64 appends one event per call from 64 goroutines,
// each to its own stream at the exact expected version.
func BenchmarkAppendSingle64(b *testing.B) {
	for _, kind := range idKinds {
		b.Run(kind.name, func(b *testing.B) { benchAppendSingle(b, kind.events(b.N)) })
	}
}

// benchAppendSingle appends evs one per call from 64 goroutines.
func benchAppendSingle(b *testing.B, evs []domain.EventData) {
	s := openTest(b, filepath.Join(b.TempDir(), "events.db"), Options{})
	defer s.Close()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	runParallel(goroutines, func(g int) {
		stream := fmt.Sprintf("stream-%d", g)
		var version int64
		for i := next.Add(1) - 1; i < int64(len(evs)); i = next.Add(1) - 1 {
			a := domain.StreamAppend{Stream: stream, Expected: domain.ExpectVersion(version), Events: evs[i : i+1]}
			if _, err := s.Append(context.Background(), a); err != nil {
				b.Error(err)
				return
			}
			version++
		}
	})
	reportRate(b, len(evs), start)
}

// BenchmarkAppendBatch1000 appends 1,000 events per call to one stream.
func BenchmarkAppendBatch1000(b *testing.B) {
	for _, kind := range idKinds {
		b.Run(kind.name, func(b *testing.B) { benchAppendBatch(b, kind.events(b.N*batchSize)) })
	}
}

// benchAppendBatch appends evs in calls of batchSize events.
func benchAppendBatch(b *testing.B, evs []domain.EventData) {
	s := openTest(b, filepath.Join(b.TempDir(), "events.db"), Options{})
	defer s.Close()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(evs); i += batchSize {
		a := domain.StreamAppend{Stream: "batch", Expected: domain.ExpectVersion(int64(i)), Events: evs[i : i+batchSize]}
		if _, err := s.Append(context.Background(), a); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, len(evs), start)
}

// BenchmarkPlainInsertSingle64 is the naive baseline of
// BenchmarkAppendSingle64: 64 goroutines each INSERT one row in a
// transaction of its own through a database/sql pool with the same pragmas.
func BenchmarkPlainInsertSingle64(b *testing.B) {
	db, insert := openPlain(b)
	evs := newEvents(b.N)
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	runParallel(goroutines, func(g int) {
		stream := fmt.Sprintf("stream-%d", g)
		var version int64
		for i := next.Add(1) - 1; i < int64(len(evs)); i = next.Add(1) - 1 {
			version++
			if err := plainTx(db, insert, stream, version, evs[i:i+1]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, b.N, start)
}

// BenchmarkPlainInsertBatch1000 is the baseline of BenchmarkAppendBatch1000:
// 1,000 plain INSERTs in one transaction.
func BenchmarkPlainInsertBatch1000(b *testing.B) {
	db, insert := openPlain(b)
	evs := newEvents(b.N * batchSize)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := plainTx(db, insert, "batch", int64(i*batchSize+1), evs[i*batchSize:(i+1)*batchSize]); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N*batchSize, start)
}

// BenchmarkReadStream10000 reads a whole stream of 10,000 events.
func BenchmarkReadStream10000(b *testing.B) {
	const n = 10 * batchSize
	s := openTest(b, filepath.Join(b.TempDir(), "events.db"), Options{})
	defer s.Close()
	evs := newEvents(n)
	for i := 0; i < n; i += batchSize {
		a := domain.StreamAppend{Stream: "big", Expected: domain.ExpectAny, Events: evs[i : i+batchSize]}
		if _, err := s.Append(context.Background(), a); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		got, err := s.ReadStream(context.Background(), "big", 0, 0)
		if err != nil || len(got) != n {
			b.Fatalf("ReadStream = %d events, %v", len(got), err)
		}
	}
	reportRate(b, b.N*n, start)
}

// newEvents returns n realistic events.
func newEvents(n int) []domain.EventData {
	evs := make([]domain.EventData, n)
	for i := range evs {
		evs[i] = storetest.NewEventData()
	}
	return evs
}

// newEventsV7 returns n realistic events whose IDs are UUIDv7s in time
// order, as a generator that stamps the millisecond and counts within it
// makes them.
func newEventsV7(n int) []domain.EventData {
	evs := newEvents(n)
	ms := time.Now().UnixMilli()
	for i := range evs {
		t := ms + int64(i/4096)
		evs[i].ID = fmt.Sprintf("%08x-%04x-7%03x-%s", uint32(t>>16), uint16(t), i%4096, evs[i].ID[19:])
	}
	return evs
}

// runParallel runs f(0..n-1) on n goroutines and waits for them.
func runParallel(n int, f func(g int)) {
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() { f(g) })
	}
	wg.Wait()
}

// reportRate reports events/s since start.
func reportRate(b *testing.B, events int, start time.Time) {
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
}

// openPlain creates a store's schema in a temp dir and returns a plain
// connection pool on it (same pragmas, immediate transactions) and its
// INSERT statement.
func openPlain(b *testing.B) (*sql.DB, *sql.Stmt) {
	path := filepath.Join(b.TempDir(), "events.db")
	if err := openTest(b, path, Options{}).Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open(driverName, dsn(path, true, time.Minute)+"&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(goroutines)
	db.SetMaxIdleConns(goroutines)
	insert, err := db.Prepare(`INSERT INTO events (stream, version, id, type, data,
		recorded_at, actor, correlation_id, causation_id, idempotency_key,
		command_hash, schema_version, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	return db, insert
}

// plainTx inserts evs as versions from first of stream in one transaction,
// hashing each row as the store does but without reading a chain.
func plainTx(db *sql.DB, insert *sql.Stmt, stream string, first int64, evs []domain.EventData) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt := tx.Stmt(insert)
	for i, e := range evs {
		rec := domain.RecordedEvent{Stream: stream, Version: first + int64(i), EventData: e}
		m := e.Meta
		if _, err := stmt.Exec(stream, rec.Version, e.ID, e.Type, e.Data, m.RecordedAt.UnixMicro(),
			m.Actor, m.CorrelationID, m.CausationID, m.IdempotencyKey, m.CommandHash,
			m.SchemaVersion, domain.ChainHash(nil, rec)); err != nil {
			return err
		}
	}
	return tx.Commit()
}
