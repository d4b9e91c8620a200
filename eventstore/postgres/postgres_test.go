package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/internal/appendqueue"
	"github.com/patentledger/ledger/eventstore/storetest"
)

// envURL names the variable that points the tests at a real PostgreSQL.
const envURL = "LEDGER_TEST_POSTGRES_URL"

// testURL returns the URL of the test database, or skips the test, loudly,
// when none is given.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		t.Skipf("SKIPPED — NO POSTGRESQL: these tests need a real PostgreSQL server. Set %s to a database URL, e.g.\n"+
			"\t%s='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test ./eventstore/postgres\n"+
			"Each test works in a fresh schema of that database and drops it afterwards.", envURL, envURL)
	}
	return u
}

// newSchema returns the name of a fresh schema and drops it, with
// everything in it, when the test ends.
func newSchema(t testing.TB) string {
	t.Helper()
	u := testURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	name := fmt.Sprintf("ledger_test_%x", b)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// openTest opens the store in schema and closes it when the test ends.
func openTest(t testing.TB, schema string, opts Options) *Store {
	t.Helper()
	return openURL(t, testURL(t), schema, opts)
}

// openURL opens the store at u in schema and closes it when the test ends.
func openURL(t testing.TB, u, schema string, opts Options) *Store {
	t.Helper()
	opts.Schema = schema
	s, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() }) // may be closed already
	return s
}

// withParams returns the test URL with the query parameters set to
// values, given as key, value pairs.
func withParams(t testing.TB, kv ...string) string {
	t.Helper()
	u, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for i := 0; i < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// rawExec runs sql with args in schema over a connection of its own, as
// something other than the store would.
func rawExec(t testing.TB, schema, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET search_path TO "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// to returns a StreamAppend of evs to stream with expectation exp.
func to(stream string, exp domain.ExpectedVersion, evs ...domain.EventData) domain.StreamAppend {
	return domain.StreamAppend{Stream: stream, Expected: exp, Events: evs}
}

// events returns n fresh events.
func events(n int) []domain.EventData {
	evs := make([]domain.EventData, n)
	for i := range evs {
		evs[i] = storetest.NewEventData()
	}
	return evs
}

// mustAppend appends and fails the test on error.
func mustAppend(t testing.TB, s *Store, appends ...domain.StreamAppend) domain.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), appends...)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res
}

// verify walks the chain of s and fails the test unless it reports
// badPosition (0: intact) after checking want events.
func verify(t testing.TB, s *Store, badPosition, want int64) {
	t.Helper()
	res, err := domain.VerifyChain(context.Background(), s, nil)
	if err != nil {
		t.Fatalf("VerifyChain: %v", err)
	}
	if res.BadPosition != badPosition || res.Events != want {
		t.Fatalf("VerifyChain = %+v, want bad position %d after %d events", res, badPosition, want)
	}
}

func TestConformance(t *testing.T) {
	testURL(t)
	storetest.Run(t, storetest.Factory{
		Name: "postgres",
		Open: func(t testing.TB, schema string) domain.EventStore {
			return openTest(t, schema, Options{})
		},
		NewLocation: newSchema,
	})
}

// TestVerifyFindsTampering changes the event at position k with raw SQL,
// as someone with database access could, and expects VerifyChain to report
// k.
func TestVerifyFindsTampering(t *testing.T) {
	const k = 13
	flip := func(column string) string {
		return fmt.Sprintf("UPDATE events SET %[1]s = set_byte(%[1]s, length(%[1]s) / 2, get_byte(%[1]s, length(%[1]s) / 2) # 1) WHERE position = $1", column)
	}
	cases := map[string]string{
		"data":        flip("data"),
		"hash":        flip("hash"),
		"recorded_at": "UPDATE events SET recorded_at = recorded_at + interval '1 microsecond' WHERE position = $1",
		"actor":       "UPDATE events SET actor = overlay(actor placing 'X' from 3 for 1) WHERE position = $1",
		"deleted":     "DELETE FROM events WHERE position = $1",
	}
	for name, sql := range cases {
		t.Run(name, func(t *testing.T) {
			schema := newSchema(t)
			s := openTest(t, schema, Options{})
			for i := range 20 {
				mustAppend(t, s, to("s", domain.ExpectVersion(int64(i)), storetest.NewEventData()))
			}
			verify(t, s, 0, 20)
			rawExec(t, schema, sql, k)
			verify(t, s, k, k-1)
		})
	}
}

// TestTwoNodesFollower is the bigserial trap with two nodes: two Stores on
// one schema, each with its own pool and writer, append concurrently (also
// to shared streams) while a follower on a third Store reads the log after
// the last position it saw and waits when caught up. The follower must see
// every acknowledged event exactly once, at the position acknowledged, in
// order. The second node's connections default to SERIALIZABLE, which must
// not change how appends see each other.
func TestTwoNodesFollower(t *testing.T) {
	schema := newSchema(t)
	serializable := withParams(t, "default_transaction_isolation", "serializable")
	nodes := []domain.EventStore{openTest(t, schema, Options{}), openURL(t, serializable, schema, Options{})}
	storetest.FollowUnderLoad(t, openTest(t, schema, Options{}), nodes, 24)
}

// TestConcurrentOpenMigratesOnce races several Opens of one fresh schema:
// every one succeeds and the migrations are applied and recorded once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	schema := newSchema(t)
	const nodes = 4
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			s, err := Open(context.Background(), testURL(t), Options{Schema: schema})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Open: %v", err)
	}
	s := openTest(t, schema, Options{}) // and once more, on a migrated schema
	rows, _ := s.pool.Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(migrations) || versions[len(versions)-1] != int32(len(migrations)) {
		t.Fatalf("schema_migrations holds versions %v, want 1..%d once each", versions, len(migrations))
	}
	var locks int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM append_lock").Scan(&locks); err != nil || locks != 1 {
		t.Fatalf("append_lock holds %d rows (%v), want 1", locks, err)
	}
}

// TestWaitForPositionNotified proves that a commit through one Store wakes
// a waiter on another at once, by NOTIFY: the waiting Store polls only
// hourly.
func TestWaitForPositionNotified(t *testing.T) {
	schema := newSchema(t)
	writer := openTest(t, schema, Options{})
	waiter := openTest(t, schema, Options{PollInterval: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for pos := range int64(3) {
		done := make(chan error, 1)
		go func() { done <- waiter.WaitForPosition(ctx, pos) }()
		mustAppend(t, writer, to("w", domain.ExpectVersion(pos), storetest.NewEventData()))
		if err := <-done; err != nil {
			t.Fatalf("WaitForPosition(%d): %v", pos, err)
		}
	}
}

// TestListenerReconnects terminates the listening connection of a Store
// that polls only hourly: it must connect and LISTEN again, so that a later
// commit through another Store still wakes its waiter.
func TestListenerReconnects(t *testing.T) {
	schema := newSchema(t)
	writer := openTest(t, schema, Options{})
	waiter := openTest(t, schema, Options{PollInterval: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const listening = `SELECT pid FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`
	listen := "LISTEN " + pgx.Identifier{newChannel(schema).name}.Sanitize()
	var old int32
	if err := conn.QueryRow(ctx, listening, listen).Scan(&old); err != nil {
		t.Fatalf("find the listening connection: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend($1)", old); err != nil {
		t.Fatal(err)
	}
	for pid := old; pid == old; {
		if err := conn.QueryRow(ctx, listening, listen).Scan(&pid); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatalf("wait for a new listening connection: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- waiter.WaitForPosition(ctx, 0) }()
	mustAppend(t, writer, to("w", domain.ExpectNoStream, storetest.NewEventData()))
	if err := <-done; err != nil {
		t.Fatalf("WaitForPosition after the listener reconnected: %v", err)
	}
}

// TestListenerSurvivesTimeouts lets the listener of a Store that polls
// every 5 ms time out of many waits for a notification, then sends two by
// hand announcing positions the log does not hold, which only a
// notification, not a poll, can tell the Store of: one for another schema
// on the same channel, to be ignored, then one for the Store's schema.
func TestListenerSurvivesTimeouts(t *testing.T) {
	schema := newSchema(t)
	s := openTest(t, schema, Options{PollInterval: 5 * time.Millisecond})
	time.Sleep(100 * time.Millisecond)
	ch := newChannel(schema)
	rawExec(t, schema, "SELECT pg_notify($1, $2), pg_notify($1, $3)", ch.name, "1000 other", ch.payload(42))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.WaitForPosition(ctx, 41); err != nil {
		t.Fatalf("WaitForPosition(41) after a notification of 42: %v", err)
	}
	if pos, _ := s.notify.Current(); pos != 42 {
		t.Fatalf("the store knows of position %d, want 42 (the other schema's notification must be ignored)", pos)
	}
}

// TestWaitForPositionPolls proves the polling fallback: a row inserted with
// raw SQL, without a notification, still wakes a waiter.
func TestWaitForPositionPolls(t *testing.T) {
	schema := newSchema(t)
	waiter := openTest(t, schema, Options{PollInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- waiter.WaitForPosition(ctx, 0) }()
	rawExec(t, schema, `INSERT INTO events (position, stream, version, id, type, data, recorded_at, actor,
		correlation_id, causation_id, idempotency_key, command_hash, schema_version, hash)
		VALUES (1, 's', 1, 'raw-1', 'test.raw.v1', '\x7b7d', now(), '', '', '', '', '', 1, '\x00')`)
	if err := <-done; err != nil {
		t.Fatalf("WaitForPosition: %v", err)
	}
}

// TestGroupCommitBatch runs one batch by hand: a conflict in the middle
// fails alone, and a repeat of an append earlier in the same batch is
// answered with that append's result.
func TestGroupCommitBatch(t *testing.T) {
	s := openTest(t, newSchema(t), Options{})
	first := []domain.StreamAppend{to("a", domain.ExpectNoStream, events(2)...)}
	conflict := []domain.StreamAppend{to("a", domain.ExpectVersion(5), storetest.NewEventData())}
	third := []domain.StreamAppend{to("b", domain.ExpectNoStream, storetest.NewEventData())}
	batch := []*appendqueue.Request{request(first), request(conflict), request(third), request(first)}
	s.w.commit(batch, s.notify) // the writer goroutine is idle: nothing is queued
	wantReplies(t, batch, []int64{2, 0, 3, 2}, domain.ErrConflict)
	verify(t, s, 0, 3)
}

// TestRefusedInsertFailsAlone makes PostgreSQL refuse one append of a batch
// (a CHECK constraint added with raw SQL refuses its type): the batch is
// redone with a savepoint per append, the refused append fails alone and
// the others, including a repeat, are written and answered as usual.
func TestRefusedInsertFailsAlone(t *testing.T) {
	schema := newSchema(t)
	s := openTest(t, schema, Options{})
	rawExec(t, schema, "ALTER TABLE events ADD CONSTRAINT test_poison CHECK (type <> 'test.poison.v1')")
	poison := storetest.NewEventData()
	poison.Type = "test.poison.v1"
	first := []domain.StreamAppend{to("a", domain.ExpectNoStream, events(2)...)}
	refused := []domain.StreamAppend{to("p", domain.ExpectNoStream, poison)}
	third := []domain.StreamAppend{to("a", domain.ExpectVersion(2), storetest.NewEventData())}
	batch := []*appendqueue.Request{request(first), request(refused), request(third), request(first)}
	s.w.commit(batch, s.notify)
	wantReplies(t, batch, []int64{2, 0, 3, 2}, nil)
	if err := (<-batch[1].Replies).Err; err == nil || !strings.Contains(err.Error(), "test_poison") {
		t.Fatalf("refused append: error %v, want the check constraint's", err)
	}
	verify(t, s, 0, 3)
}

// TestLaterEventStored appends a new first event with a second one that is
// stored already: the unique index refuses the insert, and the append fails
// alone with an idempotency mismatch.
func TestLaterEventStored(t *testing.T) {
	s := openTest(t, newSchema(t), Options{})
	stored := storetest.NewEventData()
	mustAppend(t, s, to("a", domain.ExpectNoStream, stored))
	_, err := s.Append(context.Background(), to("b", domain.ExpectAny, storetest.NewEventData(), stored))
	if !errors.Is(err, domain.ErrIdempotencyMismatch) {
		t.Fatalf("Append = %v, want an idempotency mismatch", err)
	}
	mustAppend(t, s, to("b", domain.ExpectNoStream, storetest.NewEventData()))
	verify(t, s, 0, 2)
}

// TestCanceledAppend appends with a context that has ended: Append returns
// its error and writes nothing.
func TestCanceledAppend(t *testing.T) {
	s := openTest(t, newSchema(t), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 { // enqueue or not, the writer must not take it up
		if _, err := s.Append(ctx, to("c", domain.ExpectAny, storetest.NewEventData())); !errors.Is(err, context.Canceled) {
			t.Fatalf("Append with a canceled context = %v, want %v", err, context.Canceled)
		}
	}
	verify(t, s, 0, 0)
}

// request builds the writer's request for a valid append.
func request(appends []domain.StreamAppend) *appendqueue.Request {
	return appendqueue.NewRequest(context.Background(), appends)
}

// wantReplies checks the replies of batch: position 0 means the request
// must have failed (with an error matching failure, unless nil), and its
// reply is put back for the caller.
func wantReplies(t *testing.T, batch []*appendqueue.Request, positions []int64, failure error) {
	t.Helper()
	for i, r := range batch {
		rep := <-r.Replies
		if positions[i] == 0 {
			if rep.Err == nil || (failure != nil && !errors.Is(rep.Err, failure)) {
				t.Fatalf("append %d: error %v, want one matching %v", i, rep.Err, failure)
			}
			r.Replies <- rep
			continue
		}
		if rep.Err != nil || rep.Res.Position != positions[i] {
			t.Fatalf("append %d = %+v, %v; want position %d", i, rep.Res, rep.Err, positions[i])
		}
	}
}

// TestSchemaFromURL opens a store with no Options.Schema: the URL's
// search_path names the schema, and a synchronous_commit=off in the URL is
// overridden.
func TestSchemaFromURL(t *testing.T) {
	schema := newSchema(t)
	s, err := Open(context.Background(), withParams(t, "search_path", schema+",public", "synchronous_commit", "off"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if got := s.w.channel.schema; got != schema {
		t.Fatalf("store schema %q, want %q", got, schema)
	}
	mustAppend(t, s, to("s", domain.ExpectNoStream, storetest.NewEventData()))
	var n int
	var sync string
	err = s.wpool.QueryRow(context.Background(), "SELECT count(*), current_setting('synchronous_commit') FROM "+
		pgx.Identifier{schema, "events"}.Sanitize()).Scan(&n, &sync)
	if err != nil || n != 1 || sync != "on" {
		t.Fatalf("events in %s: %d, synchronous_commit %q (%v); want 1 and on", schema, n, sync, err)
	}
}

func TestFirstSchema(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "public",
		"ledger":                 "ledger",
		" ledger , public":       "ledger",
		`"My ""Ledger""",public`: `My "Ledger"`,
	} {
		if got := firstSchema(in); got != want {
			t.Errorf("firstSchema(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSlowAppenderHoldsBackLaterAppends plays the bigserial trap with a
// long transaction: a raw transaction, as another node's writer would,
// takes the append lock, inserts the next event and stays open while a
// Store appends. The Store's append must wait for the lock rather than
// commit a later position first, so a follower never sees position N+1
// before N; once the raw transaction commits, the append lands right after
// it and the log reads N, N+1 in order with the chain intact. The waiting
// append's caller gives up meanwhile: the append was taken up, so it still
// commits, and the caller's retry is answered with the original result.
func TestSlowAppenderHoldsBackLaterAppends(t *testing.T) {
	schema := newSchema(t)
	s := openTest(t, schema, Options{})
	mustAppend(t, s, to("before", domain.ExpectNoStream, events(2)...))
	ctx := context.Background()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	slow := storetest.NewEventData()
	slow.Meta.RecordedAt = slow.Meta.RecordedAt.UTC().Truncate(time.Microsecond)
	rec := domain.RecordedEvent{Position: head.Position + 1, Stream: "slow", Version: 1, EventData: slow}
	rec.Hash = domain.ChainHash(head.Hash, rec)
	for _, sql := range []string{"SET search_path TO " + pgx.Identifier{schema}.Sanitize(), "BEGIN", lockSQL} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if _, err := conn.Exec(ctx, insertSQL, columnsOf([]domain.RecordedEvent{rec})...); err != nil {
		t.Fatal(err)
	}

	fast := storetest.NewEventData()
	timedOut, timeOut := context.WithCancel(ctx)
	done := make(chan domain.AppendResult, 1)
	go func() {
		res, err := s.Append(timedOut, to("fast", domain.ExpectNoStream, fast))
		if err != nil {
			t.Errorf("an append taken up, then timed out: %v; want it completed", err)
		}
		done <- res
	}()
	time.Sleep(300 * time.Millisecond)
	timeOut() // the caller gives up while its append waits for the lock
	select {
	case res := <-done:
		t.Fatalf("an append committed at %d while an earlier appender held the lock", res.Position)
	default:
	}
	if evs, err := s.ReadAll(ctx, head.Position, 0); err != nil || len(evs) != 0 {
		t.Fatalf("ReadAll while the slow appender is open = %d events, %v; want none", len(evs), err)
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.Position != head.Position+2 {
		t.Fatalf("the waiting append committed at %d, want %d", res.Position, head.Position+2)
	}
	if retry := mustAppend(t, s, to("fast", domain.ExpectNoStream, fast)); retry.Position != res.Position {
		t.Fatalf("the retry of the timed-out append = %+v, want the original %+v", retry, res)
	}
	evs, err := s.ReadAll(ctx, head.Position, 0)
	if err != nil || len(evs) != 2 || evs[0].ID != slow.ID || evs[1].ID != fast.ID {
		t.Fatalf("ReadAll after the commits = %d events, %v; want the slow one, then the fast one", len(evs), err)
	}
	verify(t, s, 0, head.Position+2)
}

// TestLedgerIDIsTheSchemas: every node of a schema reads one random
// ledger ID, another schema another one; a schema created before the ID
// existed is still read by an Existing open (ID "") and gets one when a
// node migrates it, which later opens read. Nodes name their NATS
// namespace after it: two ledgers whose URLs read alike shared one.
func TestLedgerIDIsTheSchemas(t *testing.T) {
	schema := newSchema(t)
	a, b := openTest(t, schema, Options{}), openTest(t, schema, Options{})
	other := openTest(t, newSchema(t), Options{})
	if a.LedgerID() == "" || a.LedgerID() != b.LedgerID() || other.LedgerID() == a.LedgerID() || other.LedgerID() == "" {
		t.Fatalf("ledger IDs %q and %q on one schema, %q on another; want one non-empty ID per schema",
			a.LedgerID(), b.LedgerID(), other.LedgerID())
	}

	old := newSchema(t)
	mustAppend(t, openTest(t, old, Options{}), to("s", domain.ExpectNoStream, storetest.NewEventData()))
	rawExec(t, old, "DROP TABLE ledger_identity; DELETE FROM schema_migrations WHERE version >= 2")
	before := openTest(t, old, Options{Existing: true})
	if evs, err := before.ReadAll(context.Background(), 0, 0); err != nil || len(evs) != 1 || before.LedgerID() != "" {
		t.Fatalf("Existing open of a schema at version 1: %d events, %v, ID %q; want its event and no ID", len(evs), err, before.LedgerID())
	}
	migrated := openTest(t, old, Options{})
	after := openTest(t, old, Options{Existing: true})
	if migrated.LedgerID() == "" || after.LedgerID() != migrated.LedgerID() {
		t.Fatalf("after migration: ID %q, then %q read; want one non-empty ID", migrated.LedgerID(), after.LedgerID())
	}
	// Each open says whether it raised the schema's version (serve logs it).
	again := openTest(t, old, Options{})
	n := len(migrations)
	for what, got := range map[string][2]int{"a new schema": pair(a.SchemaUpgrade()), "the one an open migrated": pair(migrated.SchemaUpgrade()),
		"an Existing open of version 1": pair(before.SchemaUpgrade()), "the next open": pair(again.SchemaUpgrade())} {
		want := map[string][2]int{"a new schema": {0, n}, "the one an open migrated": {1, n}, "an Existing open of version 1": {n, n},
			"the next open": {n, n}}[what]
		if got != want {
			t.Errorf("SchemaUpgrade of %s: %v, want %v", what, got, want)
		}
	}
}

// pair returns the two values it is given, as one comparable value.
func pair(a, b int) [2]int { return [2]int{a, b} }

// TestShortOfResourcesIsUnavailable has PostgreSQL itself refuse an append
// with each error of a server short of resources or taking no writes, at
// the insert (a row trigger) and at the COMMIT (a deferred constraint
// trigger, as a disk that fills under the WAL), and wants an error
// matching domain.ErrUnavailable that says why (an API client then gets
// 503 with Retry-After, not 500), nothing written, and appends going
// through again once the trouble is gone.
func TestShortOfResourcesIsUnavailable(t *testing.T) {
	for _, c := range []struct{ code, name, message, want string }{
		{"53100", "disk_full", "could not extend file: No space left on device", "disk of the event store's database (PostgreSQL) is full"},
		{"25006", "read_only_sql_transaction", "cannot execute INSERT in a read-only transaction", "takes no writes now"},
		{"53200", "out_of_memory", "out of memory", "lacks the resources"},
		{"58030", "io_error", "could not write to file", "could not write to its disk"},
		{"57014", "query_canceled", "canceling statement due to statement timeout", "canceled the statement at its statement timeout"},
	} {
		for _, at := range []string{"insert", "commit"} {
			t.Run(c.name+"/"+at, func(t *testing.T) {
				schema := newSchema(t)
				s := openTest(t, schema, Options{})
				mustAppend(t, s, to("a", domain.ExpectNoStream, events(1)...))
				rawExec(t, schema, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN RAISE EXCEPTION '`+c.message+`' USING ERRCODE = '`+c.code+`'; END $$`)
				trigger := "CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()"
				if at == "commit" {
					trigger = "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED " +
						"FOR EACH ROW EXECUTE FUNCTION refuse()"
				}
				rawExec(t, schema, trigger)
				_, err := s.Append(context.Background(), to("a", domain.ExpectVersion(1), events(2)...))
				if !errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Append refused with %s = %v, want an unavailable error saying %q", c.code, err, c.want)
				}
				verify(t, s, 0, 1)
				rawExec(t, schema, "DROP TRIGGER refuse ON events")
				mustAppend(t, s, to("a", domain.ExpectVersion(1), events(2)...))
				verify(t, s, 0, 3)
			})
		}
	}
}

// TestOpenOnAReadOnlyDatabase: a node starts on a PostgreSQL that takes no
// writes for now (default_transaction_read_only, as a primary is set
// during a failover) when its schema is current: it reads, and its appends
// answer unavailable, saying so (re-check 6, F6: the start-up migration
// step wrote, and the node did not start).
func TestOpenOnAReadOnlyDatabase(t *testing.T) {
	schema := newSchema(t)
	mustAppend(t, openTest(t, schema, Options{}), to("a", domain.ExpectNoStream, events(2)...))
	s := openURL(t, withParams(t, "options", "-cdefault_transaction_read_only=on"), schema, Options{})
	if head, err := s.Head(context.Background()); err != nil || head.Position != 2 {
		t.Fatalf("Head on a read-only database = %d, %v; want 2", head.Position, err)
	}
	_, err := s.Append(context.Background(), to("a", domain.ExpectVersion(2), events(1)...))
	if !errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), "takes no writes now") {
		t.Fatalf("Append on a read-only database = %v, want an unavailable error saying it takes no writes", err)
	}
}
