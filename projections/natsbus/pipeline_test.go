package natsbus_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections"
	"github.com/patentledger/ledger/projections/natsbus"
)

// appendEvents appends n events that the projections accept and ignore.
func appendEvents(t testing.TB, st domain.EventStore, n int) {
	t.Helper()
	for range n {
		_, err := st.Append(context.Background(), domain.StreamAppend{Stream: "org-1", Expected: domain.ExpectAny,
			Events: []domain.EventData{{ID: uuid.NewString(), Type: domain.TypeOrgKeyRevoked,
				Data: []byte(fmt.Sprintf(`{"org_id":"org-1","key_id":%q}`, uuid.NewString())),
				Meta: domain.Metadata{CorrelationID: "corr", SchemaVersion: 1}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// node is one ledger node of the distributed mode: its own read models and
// runner fed by the bus, and a candidate relay.
type node struct {
	name      string
	bus       *natsbus.Bus
	runner    *projections.Runner
	stopRelay context.CancelFunc
	relayDone chan struct{}
}

// startNode starts a node whose relay, once it holds the lease, publishes
// store's log after the stream's last event, or after position gapUntil
// when the stream is empty (the projections read the events before it
// straight from the store).
func startNode(t *testing.T, url, ns, name string, store domain.EventStore, gapUntil int64) *node {
	t.Helper()
	ctx := context.Background()
	n := &node{name: name, bus: openBus(t, testConfig(url, ns)), relayDone: make(chan struct{})}
	db, err := projections.OpenDB(ctx, filepath.Join(t.TempDir(), "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if n.runner, err = projections.NewRunner(ctx, db, store, projections.RunnerOptions{Logger: quietLogger()}); err != nil {
		t.Fatal(err)
	}
	sub := newSubscriber(t, n.bus, name)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	n.runner.AddHandlers(router, sub)
	routerDone := make(chan struct{})
	go func() {
		defer close(routerDone)
		if err := router.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() {
		router.Close()
		<-routerDone
	})
	select {
	case <-router.Running():
	case <-time.After(patience):
		t.Fatal("router not running")
	}

	pub := newPublisher(t, n.bus)
	relayCtx, stop := context.WithCancel(ctx)
	n.stopRelay = stop
	t.Cleanup(func() {
		stop()
		<-n.relayDone
	})
	go func() {
		defer close(n.relayDone)
		err := n.bus.RunAsRelay(relayCtx, name, func(ctx context.Context) error {
			from, err := n.bus.LastPosition(ctx)
			if err != nil {
				return err
			}
			if from == 0 {
				from = gapUntil
			}
			relay := projections.NewRelay(store, pub, projections.RelayOptions{Logger: quietLogger(),
				RetryDelay: 200 * time.Millisecond})
			return relay.Run(ctx, from)
		})
		if err != nil {
			t.Error(err)
		}
	}()
	return n
}

func (n *node) waitFor(t *testing.T, pos int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := n.runner.WaitFor(ctx, pos); err != nil {
		t.Fatalf("%s: projections at %+v, want %d: %v", n.name, n.runner.Statuses(), pos, err)
	}
}

// TestTwoNodesFollowTheFeed runs the distributed read side on one NATS
// server: two nodes, each with its own read models, one relay at a time.
// The projections heal the gap before the first published event from the
// store, and the relay that takes over continues after the stream's last
// event, so that the stream holds every event once.
func TestTwoNodesFollowTheFeed(t *testing.T) {
	url := natsURL(t)
	ns := namespace(t, url)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"),
		sqlite.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	appendEvents(t, store, 6)
	const gap = 4
	a := startNode(t, url, ns, "node-a", store, gap)
	b := startNode(t, url, ns, "node-b", store, gap)
	appendEvents(t, store, 5)
	a.waitFor(t, 11)
	b.waitFor(t, 11)

	holder, err := natsbus.RelayHolder(context.Background(), a.bus.JetStream(), ns)
	if err != nil {
		t.Fatal(err)
	}
	leader, other := a, b
	if holder == b.name {
		leader, other = b, a
	} else if holder != a.name {
		t.Fatalf("relay holder %q", holder)
	}
	leader.stopRelay()
	<-leader.relayDone
	appendEvents(t, store, 4)
	a.waitFor(t, 15)
	b.waitFor(t, 15)
	waitFor(t, other.name+" as relay", func() bool {
		h, err := natsbus.RelayHolder(context.Background(), a.bus.JetStream(), ns)
		return err == nil && h == other.name
	})
	// The projections may reach 15 before the relay has published it: a
	// message tells them how far its batch goes, and they read ahead from
	// the store. The relay publishes in order, so once the stream's last
	// event is 15 it holds everything it will hold.
	waitFor(t, "the stream to reach position 15", func() bool {
		last, err := a.bus.LastPosition(context.Background())
		return err == nil && last == 15
	})
	if n := streamMsgs(t, a.bus); n != 15-gap {
		t.Errorf("the stream holds %d messages, want %d (positions %d…15 once each)", n, 15-gap, gap+1)
	}
	for _, n := range []*node{a, b} {
		for _, s := range n.runner.Statuses() {
			if !s.Healthy || s.Checkpoint != 15 {
				t.Errorf("%s: %+v", n.name, s)
			}
		}
	}
}
