package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"
)

// lockFile takes the write lock of db's file on a connection of its own,
// as another process (a sqlite3 shell, a VACUUM) would, and returns the
// function that releases it.
func lockFile(t *testing.T, db *DB) (release func()) {
	t.Helper()
	var seq int
	var name, path string
	if err := db.Reader().QueryRow("PRAGMA database_list").Scan(&seq, &name, &path); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open(driverName, dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Error(err)
		}
		conn.Close()
	}
}

// testBusyTimeout stands for the read-model writer's busy timeout (5 s)
// in these tests, and lockedTime outlasts the three attempts of
// fastRetries at it.
const (
	testBusyTimeout = 100 * time.Millisecond
	lockedTime      = 10 * testBusyTimeout
)

// shortenBusyTimeout makes db's writer give up on a lock after
// testBusyTimeout instead of 5 s.
func shortenBusyTimeout(t *testing.T, db *DB) {
	t.Helper()
	if _, err := db.conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA busy_timeout = %d", testBusyTimeout.Milliseconds())); err != nil {
		t.Fatal(err)
	}
}

// TestProjectionWaitsOutALockedReadModelFile: while another process held
// the read-model file's write lock for longer than the busy timeout times
// the retries, the projection stopped for good on the event in hand,
// unhealthy until the server restarted, though nothing was wrong with the
// event. Now the message comes again until the lock is released, and then
// the event applies.
func TestProjectionWaitsOutALockedReadModelFile(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 3)
	r, db, bus := routedRecorder(t, st, recorder{})
	publish(t, st, bus, 1, 0)
	if err := waitFor(t, r, 1); err != nil {
		t.Fatal(err)
	}
	shortenBusyTimeout(t, db)
	release := lockFile(t, db)
	published := make(chan struct{})
	go func() {
		defer close(published)
		publish(t, st, bus, 2, 1)
	}()
	time.Sleep(lockedTime)
	if s := r.Statuses()[0]; !s.Healthy || s.Checkpoint != 1 {
		t.Fatalf("while the file is locked: %+v, want healthy at 1", s)
	}
	release()
	<-published
	publish(t, st, bus, 3, 2)
	if err := waitFor(t, r, 3); err != nil {
		t.Fatal(err)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(3)) {
		t.Fatalf("applied %v", got)
	}
}

// TestCatchUpReportsALockedReadModelFile: a catch-up (at start, or the
// stall check's) that could not write the locked file stopped the
// projection for good; now it returns the failure, the projection stays
// healthy at its checkpoint, and the next catch-up applies the events.
func TestCatchUpReportsALockedReadModelFile(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 3)
	r, db := unroutedRecorder(t, st, recorder{})
	shortenBusyTimeout(t, db)
	release := lockFile(t, db)
	_, err := r.CatchUp(context.Background(), nil)
	if !lockedOut(err) {
		t.Fatalf("catch-up under the lock: %v, want the lock's failure", err)
	}
	if s := r.Statuses()[0]; !s.Healthy || s.Checkpoint != 0 {
		t.Fatalf("after the failed catch-up: %+v, want healthy at 0", s)
	}
	release()
	if pos, err := r.CatchUp(context.Background(), nil); err != nil || pos != 3 {
		t.Fatalf("catch-up once the lock is released: %d, %v", pos, err)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(3)) {
		t.Fatalf("applied %v", got)
	}
}
