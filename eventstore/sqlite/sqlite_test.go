package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/appendqueue"
	"github.com/patentledger/ledger/eventstore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		Name: "sqlite",
		Open: func(t testing.TB, location string) domain.EventStore {
			return openTest(t, location, Options{})
		},
		NewLocation: func(t testing.TB) string { return filepath.Join(t.TempDir(), "events.db") },
	})
}

// openTest opens the store at path and fails the test on error.
func openTest(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// fill appends n single events to one stream and closes the store.
func fill(t testing.TB, path string, n int) {
	t.Helper()
	s := openTest(t, path, Options{})
	for i := range n {
		e := storetest.NewEventData()
		if _, err := s.Append(context.Background(), domain.StreamAppend{Stream: "s", Expected: domain.ExpectVersion(int64(i)), Events: []domain.EventData{e}}); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// flipByte changes one byte of column (data or hash) of the event at pos,
// with raw SQL through the driver.
func flipByte(t testing.TB, path, column string, pos int64) {
	t.Helper()
	db, err := sql.Open(driverName, dsn(path, true, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b []byte
	if err := db.QueryRow("SELECT "+column+" FROM events WHERE position = ?", pos).Scan(&b); err != nil {
		t.Fatalf("read %s at %d: %v", column, pos, err)
	}
	b[len(b)/2] ^= 0x01
	if _, err := db.Exec("UPDATE events SET "+column+" = ? WHERE position = ?", b, pos); err != nil {
		t.Fatalf("tamper with %s at %d: %v", column, pos, err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	const k = 13
	for _, column := range []string{"data", "hash"} {
		t.Run(column, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			fill(t, path, 20)
			flipByte(t, path, column, k)
			s := openTest(t, path, Options{ReadOnly: true})
			defer s.Close()
			res, err := domain.VerifyChain(context.Background(), s, nil)
			if err != nil {
				t.Fatalf("VerifyChain: %v", err)
			}
			if res.BadPosition != k {
				t.Fatalf("VerifyChain = %+v, want bad position %d", res, k)
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	fill(t, path, 5)
	s := openTest(t, path, Options{ReadOnly: true})
	defer s.Close()
	e := storetest.NewEventData()
	_, err := s.Append(context.Background(), domain.StreamAppend{Stream: "s", Expected: domain.ExpectAny, Events: []domain.EventData{e}})
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Append on a read-only store = %v, want %v", err, ErrReadOnly)
	}
	res, err := domain.VerifyChain(context.Background(), s, nil)
	if err != nil || !res.Intact() || res.Events != 5 {
		t.Fatalf("VerifyChain = %+v, %v; want 5 events intact", res, err)
	}
}

// TestReadOnlyLeavesNoWALFiles: a read-only store (ledger verify of a
// backup) left the -wal and -shm files SQLite made for it beside the file,
// which only a writable connection removes. Close removes them, when no
// other connection still has the file open; the file's bytes are
// unchanged. Files that were there before the open, another process's,
// stay.
func TestReadOnlyLeavesNoWALFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	fill(t, path, 5)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path, Options{ReadOnly: true})
	if _, err := s.Head(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-shm"); err != nil {
		t.Fatalf("no -shm file while the store is open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Errorf("%s is left after Close: %v", filepath.Base(name), err)
		}
	}
	if after, err := os.ReadFile(path); err != nil || string(after) != string(before) {
		t.Errorf("the file changed: %v", err)
	}

	writer := openTest(t, path, Options{})
	defer writer.Close()
	reader := openTest(t, path, Options{ReadOnly: true})
	if err := reader.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("the writer's %s was removed: %v", filepath.Base(name), err)
		}
	}
}

func TestReadOnlyRefusesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	if s, err := Open(context.Background(), path, Options{ReadOnly: true}); err == nil {
		s.Close()
		t.Fatal("read-only Open of a missing file succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only Open left a file behind: %v", err)
	}
}

// TestWaitForPositionPolls proves the polling fallback: a store sees commits
// made through another Store on the same file, as if by another process.
func TestWaitForPositionPolls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	writer := openTest(t, path, Options{})
	defer writer.Close()
	follower := openTest(t, path, Options{ReadOnly: true, PollInterval: 10 * time.Millisecond})
	defer follower.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- follower.WaitForPosition(ctx, 0) }()
	e := storetest.NewEventData()
	if _, err := writer.Append(ctx, domain.StreamAppend{Stream: "s", Expected: domain.ExpectNoStream, Events: []domain.EventData{e}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitForPosition: %v", err)
	}
}

// TestGroupCommitBatch runs one batch by hand: a conflict in the middle is
// rolled back alone, and a repeat of an append earlier in the same batch is
// answered with that append's result.
func TestGroupCommitBatch(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "events.db"), Options{})
	defer s.Close()
	first := []domain.StreamAppend{{Stream: "a", Expected: domain.ExpectNoStream, Events: []domain.EventData{storetest.NewEventData(), storetest.NewEventData()}}}
	conflict := []domain.StreamAppend{{Stream: "a", Expected: domain.ExpectVersion(5), Events: []domain.EventData{storetest.NewEventData()}}}
	third := []domain.StreamAppend{{Stream: "b", Expected: domain.ExpectNoStream, Events: []domain.EventData{storetest.NewEventData()}}}
	batch := []*appendqueue.Request{request(first), request(conflict), request(third), request(first)}
	s.w.commit(batch, s.notify) // the writer goroutine is idle: nothing is queued

	wantPositions := []int64{2, 0, 3, 2}
	for i, r := range batch {
		rep := <-r.Replies
		if i == 1 {
			if !errors.Is(rep.Err, domain.ErrConflict) {
				t.Fatalf("append %d: error %v, want a conflict", i, rep.Err)
			}
			continue
		}
		if rep.Err != nil || rep.Res.Position != wantPositions[i] {
			t.Fatalf("append %d = %+v, %v; want position %d", i, rep.Res, rep.Err, wantPositions[i])
		}
	}
	res, err := domain.VerifyChain(context.Background(), s, nil)
	if err != nil || !res.Intact() || res.Events != 3 {
		t.Fatalf("VerifyChain = %+v, %v; want 3 events intact", res, err)
	}
}

// request builds the writer's request for a valid append.
func request(appends []domain.StreamAppend) *appendqueue.Request {
	return appendqueue.NewRequest(context.Background(), appends)
}

func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	fill(t, path, 1)
	db, err := sql.Open(driverName, dsn(path, false, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := userVersion(context.Background(), db); err != nil || v != len(migrations) {
		t.Fatalf("user_version = %d, %v; want %d", v, err, len(migrations))
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestAppendWhileAnotherProcessHoldsTheLock: when another process (a local
// `ledger import`, a sqlite3 shell) keeps the write lock for longer than
// the busy timeout, the append fails as unavailable, which the API answers
// 503 with Retry-After, not as an internal error (it was a 500); it writes
// nothing, and the next append once the lock is released succeeds.
func TestAppendWhileAnotherProcessHoldsTheLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	const busy = 200 * time.Millisecond
	s := openTest(t, path, Options{BusyTimeout: busy})
	defer s.Close()
	other, err := sql.Open(driverName, dsn(path, true, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	appendOne := func() (domain.AppendResult, error) {
		return s.Append(ctx, domain.StreamAppend{Stream: "s", Expected: domain.ExpectNoStream,
			Events: []domain.EventData{storetest.NewEventData()}})
	}
	start := time.Now()
	_, err = appendOne()
	if !errors.Is(err, domain.ErrUnavailable) || time.Since(start) < busy {
		t.Fatalf("append under another process's lock: %v after %v; want unavailable after %v", err, time.Since(start), busy)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	res, err := appendOne()
	if err != nil || res.Position != 1 {
		t.Fatalf("append once the lock is released: %+v, %v; want position 1", res, err)
	}
}

// TestWriteConnectionsCutTheWALBack: the store's write connections cut the
// WAL file back to walSizeLimit after a checkpoint, so that a large import
// does not leave it at its peak size.
func TestWriteConnectionsCutTheWALBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	fill(t, path, 1)
	db, err := sql.Open(driverName, dsn(path, true, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var limit int64
	if err := db.QueryRow("PRAGMA journal_size_limit").Scan(&limit); err != nil || limit != walSizeLimit {
		t.Fatalf("journal_size_limit = %d, %v; want %d", limit, err, walSizeLimit)
	}
}

// TestLedgerIDIsTheFiles: every process of a file reads one random
// ledger ID, another file another one; a file created before the ID
// existed is still read by a read-only open (ID "") and gets one when it
// is opened for writing, which later opens read. ledger serve names its
// NATS namespace after it: two data folders at one path on two machines
// shared one.
func TestLedgerIDIsTheFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	a := openTest(t, path, Options{})
	defer a.Close()
	b := openTest(t, path, Options{ReadOnly: true})
	defer b.Close()
	other := openTest(t, filepath.Join(dir, "other.db"), Options{})
	defer other.Close()
	if len(a.LedgerID()) != 32 || a.LedgerID() != b.LedgerID() || other.LedgerID() == a.LedgerID() || len(other.LedgerID()) != 32 {
		t.Fatalf("ledger IDs %q and %q in one file, %q in another; want one 32-hex ID per file", a.LedgerID(), b.LedgerID(), other.LedgerID())
	}

	old := filepath.Join(dir, "old.db")
	fill(t, old, 1)
	db, err := sql.Open(driverName, dsn(old, true, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DROP TABLE ledger_identity; PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := openTest(t, old, Options{ReadOnly: true})
	evs, err := before.ReadAll(context.Background(), 0, 0)
	if err != nil || len(evs) != 1 || before.LedgerID() != "" {
		t.Fatalf("read-only open of a file at version 1: %d events, %v, ID %q; want its event and no ID", len(evs), err, before.LedgerID())
	}
	before.Close()
	migrated := openTest(t, old, Options{})
	id := migrated.LedgerID()
	// Each open says whether it raised the file's version (serve logs it).
	again := openTest(t, old, Options{})
	for what, c := range map[string]struct {
		s    *Store
		want [2]int
	}{"a new file": {a, [2]int{0, schemaVersion}}, "the file an open migrated": {migrated, [2]int{1, schemaVersion}},
		"a read-only open of version 1": {before, [2]int{schemaVersion, schemaVersion}}, "the next open": {again, [2]int{schemaVersion, schemaVersion}}} {
		if from, to := c.s.SchemaUpgrade(); [2]int{from, to} != c.want {
			t.Errorf("SchemaUpgrade of %s: %d, %d; want %v", what, from, to, c.want)
		}
	}
	again.Close()
	migrated.Close()
	after := openTest(t, old, Options{ReadOnly: true})
	defer after.Close()
	if id == "" || after.LedgerID() != id {
		t.Fatalf("after migration: ID %q, then %q read; want one non-empty ID", id, after.LedgerID())
	}
}

// capFile makes SQLite refuse, on s's write connection, to grow the
// database file past the pages it holds now (PRAGMA max_page_count), so
// that an append that needs a new page fails with SQLITE_FULL as on a full
// disk, and returns the function that lifts the cap.
func capFile(t *testing.T, s *Store) (lift func()) {
	t.Helper()
	ctx := context.Background()
	var pages int64
	if err := s.w.conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := s.w.conn.ExecContext(ctx, "PRAGMA max_page_count = 4294967294"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAppendOnAFullDisk: an append the disk has no room for failed as an
// internal error (the API answered 500 without Retry-After); it is
// unavailable now, saying the disk is full, writes nothing, and appends
// succeed again once there is room.
func TestAppendOnAFullDisk(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "events.db"), Options{})
	defer s.Close()
	appendOne := func(stream string, size int) (domain.AppendResult, error) {
		ev := storetest.NewEventData()
		ev.Data = []byte(`{"text":"` + strings.Repeat("x", size) + `"}`)
		return s.Append(ctx, domain.StreamAppend{Stream: stream, Expected: domain.ExpectNoStream,
			Events: []domain.EventData{ev}})
	}
	if _, err := appendOne("first", 10); err != nil {
		t.Fatal(err)
	}
	lift := capFile(t, s)
	_, err := appendOne("big", 64<<10)
	if !errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), "disk that holds the event store is full") {
		t.Fatalf("append on a full disk: %v; want unavailable, saying the disk is full", err)
	}
	if h, err := s.Head(ctx); err != nil || h.Position != 1 {
		t.Fatalf("head after the refused append: %+v, %v; want position 1", h, err)
	}
	lift()
	res, err := appendOne("big", 64<<10)
	if err != nil || res.Position != 2 {
		t.Fatalf("append once there is room: %+v, %v; want position 2", res, err)
	}
}
