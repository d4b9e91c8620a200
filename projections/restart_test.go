package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
)

// snapshot answers a fixed set of queries as JSON, to compare read models.
func snapshot(t testing.TB, db *DB) string {
	t.Helper()
	ctx := context.Background()
	var out []any
	for _, subj := range Subjects {
		for _, p := range []Period{Week, Quarter} {
			tl, err := db.Tally(ctx, TallyQuery{Subject: subj, Period: p, From: date("2021-01-01"), To: date("2025-12-31")})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tl)
		}
	}
	for _, q := range []ListingQuery{{Today: date("2024-07-01"), Limit: 100}, {Today: date("2023-01-01"), Text: "电池", Limit: 100},
		{Today: date("2025-01-01"), Sort: SortFee, IPCPrefix: "H01"}} {
		page, err := db.Listings(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page)
	}
	for _, m := range []string{MetricLicenses, MetricFees, MetricDeclared} {
		r, err := db.Rankings(ctx, RankingQuery{Metric: m, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cancelAt wraps a projection and cancels the catch-up while it applies
// the event at pos, inside the transaction, like a crash mid-batch.
type cancelAt struct {
	Projection
	pos    int64
	cancel context.CancelFunc
}

func (c cancelAt) Apply(tx *Tx, e domain.RecordedEvent, ev domain.Event) error {
	if e.Position == c.pos {
		c.cancel()
	}
	return c.Projection.Apply(tx, e, ev)
}

func TestCatchUpResumesExactlyAfterAnInterruption(t *testing.T) {
	st := openStore(t, t.TempDir())
	h := newHistory(t, newService(t, st), 7)
	h.run(150)
	ref := openDB(t, t.TempDir())
	r0, err := NewRunner(context.Background(), ref, st, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	if err := r0.Rebuild(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, ref)

	t.Run("stopped between batches", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), FileName)
		ctx, cancel := context.WithCancel(context.Background())
		batches := 0
		r := interruptedRunner(t, st, path, nil, func(r *Runner) error {
			_, err := r.CatchUp(ctx, func(Progress) {
				if batches++; batches == 3 {
					cancel()
				}
			})
			return err
		})
		for _, s := range r {
			if s.Checkpoint != 3*17 {
				t.Fatalf("checkpoint after three batches of 17: %+v", s)
			}
		}
		if got := resume(t, st, path); got != want {
			t.Fatalf("after a restart:\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("stopped inside a batch", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), FileName)
		ctx, cancel := context.WithCancel(context.Background())
		ps := []Projection{cancelAt{Listings{}, 40, cancel}, Tallies{}}
		statuses := interruptedRunner(t, st, path, ps, func(r *Runner) error {
			_, err := r.CatchUp(ctx, nil)
			return err
		})
		if statuses[0].Checkpoint != 2*17 || !statuses[0].Healthy {
			t.Fatalf("listings must roll back to the end of batch 2: %+v", statuses)
		}
		if got := resume(t, st, path); got != want {
			t.Fatalf("after a restart:\n%s\nwant\n%s", got, want)
		}
	})
}

// interruptedRunner opens the read models at path, runs work with a runner
// of batches of 17 events (which must end with context.Canceled), closes
// the file and returns the statuses as they were.
func interruptedRunner(t *testing.T, st domain.EventStore, path string, ps []Projection, work func(*Runner) error) []Status {
	t.Helper()
	db, err := OpenDB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := fastRetries()
	opts.BatchSize, opts.Projections = 17, ps
	r, err := NewRunner(context.Background(), db, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := work(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted work: %v", err)
	}
	return r.Statuses()
}

// resume reopens the read models at path, catches up and snapshots them.
func resume(t *testing.T, st domain.EventStore, path string) string {
	t.Helper()
	db, err := OpenDB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := fastRetries()
	opts.BatchSize = 17
	r, err := NewRunner(context.Background(), db, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CatchUp(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return snapshot(t, db)
}

// TestRebuildCreatesIndexesAtTheEnd checks that a rebuild fills tables
// without their secondary indexes, creates them at the end and only then
// stores the schema fingerprint; so a rebuild interrupted in the middle is
// started again from scratch by the next runner's catch-up (as when the
// server starts), the same way, and ends indexed.
func TestRebuildCreatesIndexesAtTheEnd(t *testing.T) {
	st, _ := shortHistory(t, 11)
	db := openDB(t, t.TempDir())
	r := smallBatchRunner(t, db, st)
	ctx, cancel := context.WithCancel(context.Background())
	err := r.Rebuild(ctx, nil, func(Progress) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted rebuild: %v", err)
	}
	for _, name := range r.Names() {
		if fp := storedFingerprint(t, db, name); fp != "" {
			t.Fatalf("%s has fingerprint %q in the middle of a rebuild", name, fp)
		}
	}
	if n := secondaryIndexes(t, db); n != 0 {
		t.Fatalf("%d secondary indexes in the middle of a rebuild", n)
	}

	r = smallBatchRunner(t, db, st)
	for _, s := range r.Statuses() {
		if s.Checkpoint != 0 {
			t.Fatalf("after an interrupted rebuild, %s starts at %d, not 0", s.Name, s.Checkpoint)
		}
	}
	catchUpWatchingIndexes(t, r, db, 0)
	requireIndexed(t, db, "after the rebuild")
}

// shortHistory writes a random history with seed into a new store and
// returns the store and its head position.
func shortHistory(t *testing.T, seed uint64) (domain.EventStore, int64) {
	t.Helper()
	st := openStore(t, t.TempDir())
	h := newHistory(t, newService(t, st), seed)
	h.run(80)
	head, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st, head.Position
}

// smallBatchRunner returns a runner of every projection in db, fed from
// st, that reads 40 events at a time, so that a short history takes
// several batches.
func smallBatchRunner(t *testing.T, db *DB, st domain.EventStore) *Runner {
	t.Helper()
	opts := fastRetries()
	opts.BatchSize = 40
	r, err := NewRunner(context.Background(), db, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// catchUpWatchingIndexes catches r up, checking after every batch that db
// holds exactly indexes secondary indexes (a replay builds the rebuilt
// projections' indexes only at its end), and that the replay took
// several batches.
func catchUpWatchingIndexes(t *testing.T, r *Runner, db *DB, indexes int) {
	t.Helper()
	batches := 0
	_, err := r.CatchUp(context.Background(), func(Progress) {
		batches++
		if n := secondaryIndexes(t, db); n != indexes {
			t.Errorf("%d secondary indexes while the catch-up replays a rebuild, want %d", n, indexes)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if batches < 2 {
		t.Fatalf("the catch-up replayed %d batches, want several", batches)
	}
}

// requireIndexed fails the test unless every projection in db has all its
// secondary indexes and its schema's fingerprint.
func requireIndexed(t *testing.T, db *DB, when string) {
	t.Helper()
	want := 0
	for _, p := range All() {
		_, indexes := splitSchema(p.Schema())
		want += len(indexes)
		if fp := storedFingerprint(t, db, p.Name()); fp != fingerprint(p) {
			t.Errorf("%s has fingerprint %q %s, want %q", p.Name(), fp, when, fingerprint(p))
		}
	}
	if n := secondaryIndexes(t, db); n != want || want < 10 {
		t.Errorf("%d secondary indexes %s, want %d", n, when, want)
	}
}

func storedFingerprint(t *testing.T, db *DB, name string) string {
	t.Helper()
	var fp string
	if err := db.Reader().QueryRow("SELECT fingerprint FROM projection_checkpoints WHERE name = ?", name).Scan(&fp); err != nil {
		t.Fatal(err)
	}
	return fp
}

// secondaryIndexes counts the indexes made by CREATE INDEX statements.
func secondaryIndexes(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND sql LIKE 'CREATE INDEX%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// readsFailAfter is a store whose reads after position failAfter fail
// while failing is set, like a database that stops answering.
type readsFailAfter struct {
	domain.EventStore
	failAfter int64
	failing   bool
}

func (s *readsFailAfter) ReadAll(ctx context.Context, after int64, limit int) ([]domain.RecordedEvent, error) {
	if s.failing && after >= s.failAfter {
		return nil, errors.New("the store does not answer")
	}
	return s.EventStore.ReadAll(ctx, after, limit)
}

// TestReplayCutShortByTheStoreGoesOn checks that a rebuild cut short by
// an error reading the store leaves its tables indexed, with the schema
// fingerprint, at a checkpoint that matches their rows: the next catch-up
// goes on from there and ends with the answers of a clean rebuild.
func TestReplayCutShortByTheStoreGoesOn(t *testing.T) {
	st, head := shortHistory(t, 13)
	flaky := &readsFailAfter{EventStore: st, failAfter: head / 2, failing: true}
	db := openDB(t, t.TempDir())
	r := smallBatchRunner(t, db, flaky)
	if _, err := r.CatchUp(context.Background(), nil); err == nil {
		t.Fatal("the catch-up ended without the store's error")
	}
	requireIndexed(t, db, "after the cut-short replay")
	for _, s := range r.Statuses() {
		if s.Checkpoint == 0 || s.Checkpoint >= head {
			t.Errorf("%s stopped at %d, want a checkpoint between 0 and %d", s.Name, s.Checkpoint, head)
		}
	}
	flaky.failing = false
	if _, err := r.CatchUp(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got, want := snapshot(t, db), snapshot(t, rebuiltDB(t, st)); got != want {
		t.Errorf("after the store answers again:\n got %s\nwant %s", got, want)
	}
}

// TestChangedSchemaIsRebuiltAtStart checks that a projection whose stored
// fingerprint is not its schema's (an upgrade changed its tables) is
// dropped by the next runner and rebuilt by its catch-up the way Rebuild
// does, while the other projection keeps its rows and indexes; the answers
// then equal a clean rebuild's.
func TestChangedSchemaIsRebuiltAtStart(t *testing.T) {
	st, head := shortHistory(t, 17)
	db := openDB(t, t.TempDir())
	if _, err := smallBatchRunner(t, db, st).CatchUp(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(context.Background(), func(tx *Tx) error {
		return tx.Exec("UPDATE projection_checkpoints SET fingerprint = 'an older schema' WHERE name = ?", TalliesName)
	}); err != nil {
		t.Fatal(err)
	}

	r := smallBatchRunner(t, db, st)
	for _, s := range r.Statuses() {
		if want := map[string]int64{ListingsName: head, TalliesName: 0}[s.Name]; s.Checkpoint != want {
			t.Fatalf("%s starts at %d, want %d", s.Name, s.Checkpoint, want)
		}
	}
	_, listingIndexes := splitSchema(Listings{}.Schema())
	catchUpWatchingIndexes(t, r, db, len(listingIndexes)) // the listings' only
	requireIndexed(t, db, "after the tallies' rebuild")
	if got, want := snapshot(t, db), snapshot(t, rebuiltDB(t, st)); got != want {
		t.Errorf("after the rebuild at start:\n got %s\nwant %s", got, want)
	}
}

// TestReadModelsOfAnotherStoreAreRebuiltAtStart: read models opened beside
// a store they were not built from are rebuilt from it, never served with
// the store's new events skipped up to their old checkpoint: read models
// ahead of their own ledger's store (restored from an older backup), and
// read models of another ledger whose head is further on; the answers then
// equal a clean rebuild's, and the file names the store's ledger.
func TestReadModelsOfAnotherStoreAreRebuiltAtStart(t *testing.T) {
	backupDir, dir := t.TempDir(), t.TempDir()
	built := openStore(t, dir)
	h := newHistory(t, newService(t, built), 17)
	h.run(30)
	backUp(t, filepath.Join(dir, "events.db"), filepath.Join(backupDir, "events.db"))
	h.run(80)
	builtHead, err := built.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	another := openStore(t, t.TempDir())
	newHistory(t, newService(t, another), 29).run(400)
	for _, c := range []struct {
		name  string
		store *sqlite.Store
		ahead bool
	}{{"its own ledger restored from an older backup", openStore(t, backupDir), false}, {"another ledger further on", another, true}} {
		t.Run(c.name, func(t *testing.T) {
			db := openDB(t, t.TempDir())
			if _, err := smallBatchRunner(t, db, built).CatchUp(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			head, err := c.store.Head(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if head.Position > builtHead.Position != c.ahead || (c.store.LedgerID() == built.LedgerID()) == c.ahead {
				t.Fatalf("head %d beside %d, ledger %s beside %s: the case is not tested", head.Position, builtHead.Position,
					c.store.LedgerID(), built.LedgerID())
			}
			r := smallBatchRunner(t, db, c.store)
			for _, s := range r.Statuses() {
				if s.Checkpoint != 0 {
					t.Fatalf("%s starts at %d beside another store, want 0", s.Name, s.Checkpoint)
				}
			}
			if _, err := r.CatchUp(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if got, want := snapshot(t, db), snapshot(t, rebuiltDB(t, c.store)); got != want {
				t.Errorf("beside the other store:\n got %s\nwant %s", got, want)
			}
			var ledger string
			if err := db.Reader().QueryRow("SELECT ledger_id FROM read_model_ledger").Scan(&ledger); err != nil || ledger != c.store.LedgerID() {
				t.Errorf("the read models name ledger %q (%v), want the store's %q", ledger, err, c.store.LedgerID())
			}
		})
	}
}

// backUp copies the SQLite database at path, in use, to backup.
func backUp(t *testing.T, path, backup string) {
	t.Helper()
	db, err := sql.Open(driverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("VACUUM INTO ?", backup); err != nil {
		t.Fatal(err)
	}
}
