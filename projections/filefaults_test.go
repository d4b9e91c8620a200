package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patentledger/ledger/domain"
)

// capFile makes SQLite refuse, on db's write connection, to grow the
// read-model file past the pages it holds now (PRAGMA max_page_count), so
// that a commit that needs a new page fails with SQLITE_FULL as on a full
// disk, and returns the function that lifts the cap.
func capFile(t *testing.T, db *DB) (lift func()) {
	t.Helper()
	ctx := context.Background()
	var pages int64
	if err := db.conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := db.conn.ExecContext(ctx, "PRAGMA max_page_count = 4294967294"); err != nil {
			t.Fatal(err)
		}
	}
}

// waitUntil polls cond every 10 ms for up to 10 s and reports whether it
// came true.
func waitUntil(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// paddedRecorder records each event with 8 KiB beside it, so that every
// event needs pages the file does not have yet.
var paddedRecorder = recorder{padding: 8 << 10}

// TestProjectionWaitsOutAFullDisk: a read-model file whose disk was full
// stopped the projection for good (the log said "until rebuilt or
// restarted"): once space was freed, the store took writes again but the
// listings and tallies stayed where they were until the server restarted.
// Now the projection is unhealthy while the disk refuses writes, the
// message comes again, and once there is room the events apply and it is
// healthy again.
func TestProjectionWaitsOutAFullDisk(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 3)
	r, db, bus := routedRecorder(t, st, paddedRecorder)
	publish(t, st, bus, 1, 0)
	if err := waitFor(t, r, 1); err != nil {
		t.Fatal(err)
	}
	lift := capFile(t, db)
	published := make(chan struct{})
	go func() {
		defer close(published)
		publish(t, st, bus, 2, 1)
	}()
	if !waitUntil(func() bool { return r.Statuses()[0].Waiting }) {
		t.Fatalf("on a full disk: %+v, want the projection waiting", r.Statuses()[0])
	}
	if s := r.Statuses()[0]; s.Healthy || s.Checkpoint != 1 || !strings.Contains(s.Error, "disk is full") {
		t.Fatalf("on a full disk: %+v, want unhealthy at 1, saying the disk is full", s)
	}
	lift()
	<-published
	publish(t, st, bus, 3, 2)
	if err := waitFor(t, r, 3); err != nil {
		t.Fatal(err)
	}
	if s := r.Statuses()[0]; !s.Healthy || s.Waiting || s.Error != "" {
		t.Fatalf("once the disk has room: %+v, want healthy", s)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(3)) {
		t.Fatalf("applied %v", got)
	}
}

// TestCatchUpWaitsOutAFullDisk: a catch-up (at start, or the stall
// check's) on a full disk stopped the projection for good; now it returns
// the failure with the projection waiting at its checkpoint, and the next
// catch-up once there is room applies the events.
func TestCatchUpWaitsOutAFullDisk(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 3)
	r, db := unroutedRecorder(t, st, paddedRecorder)
	lift := capFile(t, db)
	if _, err := r.CatchUp(context.Background(), nil); !diskTrouble(err) {
		t.Fatalf("catch-up on a full disk: %v, want the disk's failure", err)
	}
	if s := r.Statuses()[0]; s.Healthy || !s.Waiting || s.Checkpoint != 0 {
		t.Fatalf("after the failed catch-up: %+v, want waiting at 0", s)
	}
	lift()
	if pos, err := r.CatchUp(context.Background(), nil); err != nil || pos != 3 {
		t.Fatalf("catch-up once there is room: %d, %v", pos, err)
	}
	if s := r.Statuses()[0]; !s.Healthy || s.Waiting {
		t.Fatalf("after the catch-up: %+v, want healthy", s)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(3)) {
		t.Fatalf("applied %v", got)
	}
}

// damagePage overwrites the page of the read-model file at path that is
// the root of table with bytes no page holds, as a failing disk might.
// The file must be closed; rootPage and pageSize say where the page is.
func damagePage(t *testing.T, path string, rootPage, pageSize int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xa5", int(pageSize))), (rootPage-1)*pageSize); err != nil {
		t.Fatal(err)
	}
}

// rootPageOf returns the root page of table in db's file and the file's
// page size.
func rootPageOf(t *testing.T, db *DB, table string) (root, pageSize int64) {
	t.Helper()
	r := db.Reader()
	if err := r.QueryRow("SELECT rootpage FROM sqlite_schema WHERE name = ?", table).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := r.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	return root, pageSize
}

// TestDamageFoundWhileServing: a read-model file damaged in its middle
// opened, and then every listing query answered an internal error while
// the projections said they were healthy, and a projection that met the
// damage stopped "until rebuilt or restarted" (a restart stopped it again;
// nothing said to delete the file). Now a query that meets it answers
// unavailable, every projection is unhealthy from then on, and what they
// say tells the operator to delete the file and start again; the log says
// so once, as an error, not only in a warning per query.
func TestDamageFoundWhileServing(t *testing.T) {
	w := newListingWorld(t)
	db := w.p.db
	path := db.path
	root, pageSize := rootPageOf(t, db, "lst_patents")
	if err := w.p.Close(); err != nil {
		t.Fatal(err)
	}
	damagePage(t, path, root, pageSize)
	logs := &lockedBuffer{}
	p, err := Start(context.Background(), w.st, path, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Runner: fastRetries(), SQLOnly: true})
	if err != nil {
		t.Fatalf("start on a file damaged in its middle: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	if d := p.db.Damage(); d != nil {
		t.Fatalf("damage noted before any query met it: %v", d)
	}
	for range 3 {
		_, err = p.Listings(context.Background(), ListingQuery{Today: date("2024-07-01"), Text: "锂电池"})
		if !errors.Is(err, domain.ErrUnavailable) || !Damaged(err) {
			t.Fatalf("listing query on the damaged page: %v, want unavailable, carrying the damage", err)
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR msg=\"read models: the read-model file is damaged"); n != 1 {
		t.Errorf("the damage met by three queries was logged as an error %d times, want once:\n%s", n, logs.String())
	}
	for _, s := range p.Statuses() {
		if s.Healthy || !strings.Contains(s.Error, "is damaged") || !strings.Contains(s.Error, "delete that file") ||
			!strings.Contains(s.Error, filepath.Base(path)) {
			t.Fatalf("projection after the damage was met: %+v, want unhealthy, saying to delete the file", s)
		}
	}
}

// TestAFileThatCannotBeOpenedIsUnavailable: a read connection that cannot
// open the read-model file (its permissions changed, or something else
// stands at its path) answered 500 with SQLite's "unable to open database
// file (14)", naming neither the file nor why; it is unavailable (503),
// naming both for the log, and the queries go on once the file is back.
func TestAFileThatCannotBeOpenedIsUnavailable(t *testing.T) {
	w := newListingWorld(t)
	db := w.p.db
	db.read.SetMaxIdleConns(0) // every query opens its connection
	q := ListingQuery{Today: date("2024-07-01"), Text: "锂电池", Sort: SortNewest}
	if _, err := db.Listings(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	// Root opens a file whatever its mode: the file goes away for a moment,
	// then a folder stands in its place.
	aside := db.path + ".aside"
	if err := os.Rename(db.path, aside); err != nil {
		t.Fatal(err)
	}
	for _, cause := range []string{"no such file or directory", "is a directory"} {
		if cause == "is a directory" {
			if err := os.Mkdir(db.path, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		_, err := db.Listings(context.Background(), q)
		if !errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), db.path) || Damaged(err) {
			t.Errorf("a query that cannot open the file (%s): %v, want unavailable naming %s", cause, err, db.path)
		}
	}
	if err := os.Remove(db.path); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(aside, db.path); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Listings(context.Background(), q); err != nil {
		t.Errorf("once the file is back: %v", err)
	}
}

// TestDamageMetByACommitSaysToDeleteTheFile: a projection whose commit
// meets a damaged page stops, saying to delete the file and start again
// (a restart alone stops it again on the same event).
func TestDamageMetByACommitSaysToDeleteTheFile(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 40)
	dir := t.TempDir()
	opts := fastRetries()
	opts.Projections = []Projection{recorder{padding: 1000}}
	db, err := OpenDB(context.Background(), filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(context.Background(), db, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if pos, err := r.CatchUp(context.Background(), nil); err != nil || pos != 40 {
		t.Fatalf("catch-up: %d, %v", pos, err)
	}
	root, pageSize := rootPageOf(t, db, "rec")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damagePage(t, db.path, root, pageSize)
	appendRaw(t, st, "t", 1)
	db = openDB(t, dir)
	if r, err = NewRunner(context.Background(), db, st, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CatchUp(context.Background(), nil); err != nil {
		t.Fatalf("catch-up: %v", err)
	}
	s := r.Statuses()[0]
	if s.Healthy || s.Checkpoint != 40 || !strings.Contains(s.Error, "is damaged") || !strings.Contains(s.Error, "delete that file") {
		t.Fatalf("after the commit met the damage: %+v, want stopped at 40, saying to delete the file", s)
	}
	if db.Damage() == nil {
		t.Fatal("the damage the commit met is not noted")
	}
}

// TestAFullDiskIsLoggedOnce: while a projection waited for its disk, the
// router logged "Handler returned error" at every redelivery, about once
// a second. Now the wait is logged once, as an error, and the
// redeliveries at debug level only.
func TestAFullDiskIsLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	st, svc, _, _ := onePatentOneFirm(t, dir)
	p, logs := startLoggingPipeline(t, st, dir)
	waitHead(t, p, st)
	lift := capFile(t, p.db)
	uni := registerOrg(t, svc, 3, orgSpec{"第二大学", domain.OrgUniversity, "440106", false})
	for i := range 20 {
		registerPatent(t, svc, patentNumber(t, 2021, 1, 100+i), strings.Repeat("一种固态锂电池电解质", 20), []string{"H01M 10/0562"}, date("2021-01-01"), uni)
	}
	waitForLog(t, logs, "the read-model file cannot be written", 1)
	time.Sleep(2 * time.Second) // redeliveries, every few hundred milliseconds
	lift()
	waitHead(t, p, st)
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("%d errors logged while the disk was full, want 1 (the wait):\n%s", n, logs.String())
	}
}
