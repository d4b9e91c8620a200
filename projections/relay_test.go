package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
)

// appendRaw appends n events of a test type to stream, one per call.
func appendRaw(t testing.TB, st domain.EventStore, stream string, n int) {
	t.Helper()
	for i := range n {
		_, err := st.Append(context.Background(), domain.StreamAppend{Stream: stream, Expected: domain.ExpectAny,
			Events: []domain.EventData{{ID: uuid.NewString(), Type: domain.TypeOrgKeyRevoked,
				Data: []byte(fmt.Sprintf(`{"org_id":%q,"key_id":"k%d"}`, stream, i)),
				Meta: domain.Metadata{CorrelationID: "corr-" + stream, SchemaVersion: 1}}}})
		if err != nil {
			t.Error(err)
			return
		}
	}
}

func newBus(t testing.TB) *gochannel.GoChannel {
	bus := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, nil)
	t.Cleanup(func() { bus.Close() })
	return bus
}

func TestRelayPublishesEveryEventOnceInCommitOrder(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "before", 5)
	bus := newBus(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs, err := bus.Subscribe(ctx, Topic)
	if err != nil {
		t.Fatal(err)
	}
	relay := NewRelay(st, bus, RelayOptions{Logger: quietLogger(), BatchSize: 7})
	relayDone := make(chan error, 1)
	go func() { relayDone <- relay.Run(ctx, 0) }()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			appendRaw(t, st, "writer-"+strconv.Itoa(g), 25)
		}()
	}
	wg.Wait()
	const total = 5 + 4*25
	seen := map[string]bool{}
	var last int64
	for last < total {
		select {
		case msg := <-msgs:
			e, prev, err := DecodeMessage(msg)
			if err != nil {
				t.Fatal(err)
			}
			if prev != last || e.Position != last+1 || msg.UUID != e.ID || seen[e.ID] {
				t.Fatalf("message %s at %d after %d (last %d), seen %v", msg.UUID, e.Position, prev, last, seen[e.ID])
			}
			if msg.Metadata.Get(MetaStream) != e.Stream || msg.Metadata.Get(MetaEventType) != e.Type ||
				middleware.MessageCorrelationID(msg) != "corr-"+e.Stream {
				t.Fatalf("metadata %v of %+v", msg.Metadata, e)
			}
			seen[e.ID], last = true, e.Position
			msg.Ack()
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d events relayed", last, total)
		}
	}
	cancel()
	if err := <-relayDone; err != nil {
		t.Fatal(err)
	}
	if relay.Position() != total {
		t.Fatalf("relay position %d", relay.Position())
	}
}

// recorder is a test projection that records the position of every event
// it applies, in the order applied, and fails or panics on request.
type recorder struct {
	failAt, panicAt int64
	padding         int // bytes written with each event, so that each needs pages of its own
}

func (recorder) Name() string     { return "recorder" }
func (recorder) Tables() []string { return []string{"rec"} }
func (recorder) Schema() []string {
	return []string{"CREATE TABLE rec (seq INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE, pad BLOB NOT NULL)"}
}

func (r recorder) Apply(tx *Tx, e domain.RecordedEvent, _ domain.Event) error {
	switch e.Position {
	case r.failAt:
		return errors.New("cannot apply this one")
	case r.panicAt:
		panic("boom")
	}
	return tx.Exec("INSERT INTO rec (position, pad) VALUES (?, zeroblob(?))", e.Position, r.padding)
}

// recorded returns the positions the recorder applied, in order.
func recorded(t testing.TB, db *DB) []int64 {
	t.Helper()
	rows, err := db.Reader().Query("SELECT position FROM rec ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func upTo(n int64) []int64 {
	var out []int64
	for i := int64(1); i <= n; i++ {
		out = append(out, i)
	}
	return out
}

// unroutedRecorder returns a runner of the recorder over st, on a read-model
// file of its own, for tests that call CatchUp themselves.
func unroutedRecorder(t *testing.T, st domain.EventStore, rec recorder) (*Runner, *DB) {
	t.Helper()
	opts := fastRetries()
	opts.Projections = []Projection{rec}
	db := openDB(t, t.TempDir())
	r, err := NewRunner(context.Background(), db, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, db
}

// routedRecorder runs a runner with the recorder behind a router on a bus.
func routedRecorder(t *testing.T, st domain.EventStore, rec recorder) (*Runner, *DB, *gochannel.GoChannel) {
	t.Helper()
	db := openDB(t, t.TempDir())
	opts := fastRetries()
	opts.Projections = []Projection{rec}
	opts.BatchSize = 3
	r, err := NewRunner(context.Background(), db, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	bus := newBus(t)
	router, err := message.NewRouter(message.RouterConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.AddHandlers(router, bus)
	go func() { _ = router.Run(context.Background()) }()
	t.Cleanup(func() { router.Close() })
	<-router.Running()
	return r, db, bus
}

// publish publishes the store's event at pos as if its predecessor were
// at prev.
func publish(t *testing.T, st domain.EventStore, bus message.Publisher, pos, prev int64) {
	t.Helper()
	publishInBatch(t, st, bus, pos, prev, 0)
}

// publishInBatch publishes the store's event at pos as if its predecessor
// were at prev and the relay's batch ended at batchLast (none when 0).
func publishInBatch(t *testing.T, st domain.EventStore, bus message.Publisher, pos, prev, batchLast int64) {
	t.Helper()
	events, err := st.ReadAll(context.Background(), pos-1, 1)
	if err != nil || len(events) != 1 {
		t.Fatalf("read %d: %v", pos, err)
	}
	msg, err := NewMessage(events[0], prev)
	if err != nil {
		t.Fatal(err)
	}
	if batchLast > 0 {
		msg.Metadata.Set(MetaBatchLast, strconv.FormatInt(batchLast, 10))
	}
	if err := bus.Publish(Topic, msg); err != nil {
		t.Fatal(err)
	}
}

// TestRunnerReadsTheRelayBatchAhead checks that one message whose relay
// batch goes further applies the whole batch from the store, and that a
// batch holding an event the projection cannot apply still stops it right
// before that event.
func TestRunnerReadsTheRelayBatchAhead(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 12)
	r, db, bus := routedRecorder(t, st, recorder{}) // reads at most 3 events at a time
	publishInBatch(t, st, bus, 1, 0, 12)
	if err := waitFor(t, r, 3); err != nil {
		t.Fatal(err)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(3)) {
		t.Fatalf("applied %v after one message of a batch to 12, want 1..3", got)
	}
	for pos := int64(2); pos <= 12; pos++ {
		publishInBatch(t, st, bus, pos, pos-1, 12)
	}
	if err := waitFor(t, r, 12); err != nil {
		t.Fatal(err)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(12)) {
		t.Fatalf("applied %v, want 1..12 once each", got)
	}

	st = openStore(t, t.TempDir())
	appendRaw(t, st, "s", 12)
	r, db, bus = routedRecorder(t, st, recorder{failAt: 5})
	for pos := int64(1); pos <= 12; pos++ {
		publishInBatch(t, st, bus, pos, pos-1, 12)
	}
	var stopped *StoppedError
	if err := waitFor(t, r, 12); !errors.As(err, &stopped) || stopped.Checkpoint != 4 {
		t.Fatalf("WaitFor: %v, want a stop at checkpoint 4", err)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(4)) {
		t.Fatalf("applied %v, want 1..4", got)
	}
}

func waitFor(t *testing.T, r *Runner, pos int64) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.WaitFor(ctx, pos)
}

func TestRunnerHealsGapsAndSkipsRedeliveries(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 12)
	r, db, bus := routedRecorder(t, st, recorder{})
	for _, m := range [][2]int64{{1, 0}, {2, 1}, {9, 8}, {2, 1}, {4, 3}, {10, 9}, {12, 11}, {11, 10}} {
		publish(t, st, bus, m[0], m[1])
	}
	if err := waitFor(t, r, 12); err != nil {
		t.Fatal(err)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(12)) {
		t.Fatalf("applied %v, want 1..12 once each, in order", got)
	}
	var cp int64
	if err := db.Reader().QueryRow("SELECT position FROM projection_checkpoints WHERE name = 'recorder'").Scan(&cp); err != nil || cp != 12 {
		t.Fatalf("stored checkpoint %d, %v", cp, err)
	}
	// A redelivery of an applied position is skipped before its payload
	// is decoded, so even an unreadable one leaves the projection running.
	stale := message.NewMessage("stale-5", []byte("{not json"))
	stale.Metadata.Set(MetaPosition, "5")
	stale.Metadata.Set(MetaPreviousPosition, "4")
	if err := bus.Publish(Topic, stale); err != nil {
		t.Fatal(err)
	}
	appendRaw(t, st, "s", 1)
	publish(t, st, bus, 13, 12)
	if err := waitFor(t, r, 13); err != nil {
		t.Fatal(err)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(13)) {
		t.Fatalf("applied %v, want 1..13 once each, in order", got)
	}
}

// TestRunnerNeverSkipsAGapTheStoreCannotFill hands the runner a message
// whose predecessor the store does not hold (yet): a bus that runs ahead
// of the store the node reads, or that still carries another store's log.
// Healing reads the store up to its end, which falls short of the
// message's predecessor; the projection must not apply the message and
// jump over the missing events, but stop at the store's end, unhealthy.
func TestRunnerNeverSkipsAGapTheStoreCannotFill(t *testing.T) {
	st, ahead := openStore(t, t.TempDir()), openStore(t, t.TempDir())
	appendRaw(t, st, "s", 3)
	appendRaw(t, ahead, "s", 10)
	r, db, bus := routedRecorder(t, st, recorder{})
	publish(t, ahead, bus, 10, 9)
	var stopped *StoppedError
	if err := waitFor(t, r, 10); !errors.As(err, &stopped) || stopped.Checkpoint != 3 {
		t.Fatalf("WaitFor: %v; statuses %+v; want a stop at checkpoint 3", err, r.Statuses())
	}
	appendRaw(t, st, "s", 7)
	publish(t, st, bus, 10, 9)
	if got := recorded(t, db); !slices.Equal(got, upTo(3)) {
		t.Fatalf("applied %v, want 1..3 and nothing past the store's end", got)
	}
}

// unreachableStore is a store whose ReadAll fails while down is set, as a
// store whose database cannot be reached does; refused counts the reads it
// failed.
type unreachableStore struct {
	domain.EventStore
	down    atomic.Bool
	refused atomic.Int64
}

func (s *unreachableStore) ReadAll(ctx context.Context, after int64, limit int) ([]domain.RecordedEvent, error) {
	if s.down.Load() {
		s.refused.Add(1)
		return nil, domain.Unavailable("the store cannot be reached")
	}
	return s.EventStore.ReadAll(ctx, after, limit)
}

// TestRunnerWaitsOutAStoreItCannotReadToHealAGap: a message whose gap the
// runner cannot read while the store is down does not stop the projection;
// the message comes again, and once the store answers the gap is healed.
func TestRunnerWaitsOutAStoreItCannotReadToHealAGap(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 10)
	flaky := &unreachableStore{EventStore: st}
	flaky.down.Store(true)
	r, db, bus := routedRecorder(t, flaky, recorder{})
	published := make(chan struct{})
	go func() { // the bus holds the publish until the message is taken
		defer close(published)
		publish(t, st, bus, 10, 9)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for flaky.refused.Load() < 10 { // several rounds of retries, each ending in the outermost middleware
		if time.Now().After(deadline) {
			t.Fatalf("the runner read the store %d times while it was down", flaky.refused.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s := r.Statuses()[0]; !s.Healthy || s.Checkpoint != 0 {
		t.Fatalf("while the store was down: %+v; want healthy at 0", s)
	}
	flaky.down.Store(false)
	if err := waitFor(t, r, 10); err != nil {
		t.Fatalf("after the store came back: %v; statuses %+v", err, r.Statuses())
	}
	<-published
	if got := recorded(t, db); !slices.Equal(got, upTo(10)) {
		t.Fatalf("applied %v, want 1..10", got)
	}
}

func TestRunnerStopsOnAnEventItCannotApply(t *testing.T) {
	for _, rec := range []recorder{{failAt: 4}, {panicAt: 4}} {
		t.Run(fmt.Sprintf("%+v", rec), func(t *testing.T) {
			st := openStore(t, t.TempDir())
			appendRaw(t, st, "s", 6)
			r, db, bus := routedRecorder(t, st, rec)
			for pos := int64(1); pos <= 6; pos++ {
				publish(t, st, bus, pos, pos-1)
			}
			err := waitFor(t, r, 6)
			var stopped *StoppedError
			if !errors.As(err, &stopped) || !errors.Is(err, ErrStopped) || stopped.Checkpoint != 3 || stopped.Name != "recorder" {
				t.Fatalf("WaitFor: %v", err)
			}
			if s := r.Statuses()[0]; s.Healthy || s.Checkpoint != 3 || s.Error == "" {
				t.Fatalf("status %+v", s)
			}
			if got := recorded(t, db); !slices.Equal(got, upTo(3)) {
				t.Fatalf("applied %v, want 1..3 and nothing after the failure", got)
			}
		})
	}
}

func TestCatchUpStopsRightBeforeTheBadEvent(t *testing.T) {
	for _, rec := range []recorder{{failAt: 7}, {panicAt: 7}} {
		t.Run(fmt.Sprintf("%+v", rec), func(t *testing.T) {
			st := openStore(t, t.TempDir())
			appendRaw(t, st, "s", 10)
			db := openDB(t, t.TempDir())
			opts := fastRetries()
			opts.Projections, opts.BatchSize = []Projection{rec}, 4
			r, err := NewRunner(context.Background(), db, st, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.CatchUp(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if s := r.Statuses()[0]; s.Healthy || s.Checkpoint != 6 {
				t.Fatalf("status %+v", s)
			}
			if got := recorded(t, db); !slices.Equal(got, upTo(6)) {
				t.Fatalf("applied %v", got)
			}
			opts.Projections = []Projection{recorder{}}
			fixed, err := NewRunner(context.Background(), db, st, opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := fixed.Rebuild(context.Background(), []string{"recorder"}, nil); err != nil {
				t.Fatal(err)
			}
			if got := recorded(t, db); !slices.Equal(got, upTo(10)) || !fixed.Statuses()[0].Healthy {
				t.Fatalf("after the fix and a rebuild: %v %+v", got, fixed.Statuses())
			}
		})
	}
}

func TestRunnerStopsWhenAnotherProcessMovesTheCheckpoint(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 6)
	r, db, bus := routedRecorder(t, st, recorder{})
	for pos := int64(1); pos <= 3; pos++ {
		publish(t, st, bus, pos, pos-1)
	}
	if err := waitFor(t, r, 3); err != nil {
		t.Fatal(err)
	}
	err := db.Update(context.Background(), func(tx *Tx) error {
		return tx.Exec("UPDATE projection_checkpoints SET position = 5 WHERE name = 'recorder'")
	})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, st, bus, 4, 3)
	if err := waitFor(t, r, 4); !errors.Is(err, ErrStopped) || !errors.Is(err, ErrCheckpointMoved) {
		t.Fatalf("WaitFor: %v", err)
	}
	if got := recorded(t, db); !slices.Equal(got, upTo(3)) {
		t.Fatalf("applied %v, want nothing after the checkpoint moved", got)
	}
}

// holedStore is a store whose log lacks one position, as one whose row
// was deleted: every read skips it.
type holedStore struct {
	domain.EventStore
	missing int64
}

func (s holedStore) ReadAll(ctx context.Context, after int64, limit int) ([]domain.RecordedEvent, error) {
	events, err := s.EventStore.ReadAll(ctx, after, limit)
	return slices.DeleteFunc(events, func(e domain.RecordedEvent) bool { return e.Position == s.missing }), err
}

// TestRunnerStopsAtAHoleInTheLog: a log with a position missing (a row
// deleted from the store) stops the projection, unhealthy, before the
// hole, whether the events come from a catch-up or from the relay, which
// hands the event after the hole as following the one before it; the
// read models were built past the hole, healthy.
func TestRunnerStopsAtAHoleInTheLog(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendRaw(t, st, "s", 10)
	holed := holedStore{EventStore: st, missing: 5}

	r, db, _ := routedRecorder(t, holed, recorder{})
	if _, err := r.CatchUp(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if s := r.Statuses()[0]; s.Healthy || s.Checkpoint != 4 || !slices.Equal(recorded(t, db), upTo(4)) {
		t.Fatalf("catch-up over a hole at 5: %+v, applied %v; want a stop at 4", s, recorded(t, db))
	}

	r, db, bus := routedRecorder(t, holed, recorder{})
	for pos := int64(1); pos <= 4; pos++ {
		publish(t, st, bus, pos, pos-1)
	}
	publish(t, st, bus, 6, 4)
	var stopped *StoppedError
	if err := waitFor(t, r, 6); !errors.As(err, &stopped) || stopped.Checkpoint != 4 || !slices.Equal(recorded(t, db), upTo(4)) {
		t.Fatalf("the relay over a hole at 5: %v, applied %v; want a stop at 4", err, recorded(t, db))
	}
}
