package natsbus_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections"
)

// silentBus returns a NATS URL, a namespace on it whose relay lease a node
// holds that publishes nothing, and a store of 3 events: a node started on
// them gets no event from its bus.
func silentBus(t *testing.T) (url, ns string, store *sqlite.Store) {
	t.Helper()
	url = natsURL(t)
	ns = namespace(t, url)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	appendEvents(t, store, 3)
	silent := openBus(t, testConfig(url, ns))
	lease, err := silent.AcquireRelayLease(context.Background(), "silent-relay")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lease.Release(context.Background()) })
	return url, ns, store
}

// TestPipelineCatchesUpWhatTheBusNeverDelivers runs a node whose bus
// delivers nothing: another node holds the relay lease and publishes no
// event, as a bus that lost its messages would behave. Only the pipeline's
// stall check can then bring the projections to the head of the store.
func TestPipelineCatchesUpWhatTheBusNeverDelivers(t *testing.T) {
	url, ns, store := silentBus(t)
	ctx := context.Background()

	bus := openBus(t, testConfig(url, ns))
	metrics := prometheus.NewRegistry()
	p, err := projections.Start(ctx, store, filepath.Join(t.TempDir(), "readmodels.db"), projections.Options{
		Logger: quietLogger(), Registerer: metrics, Bus: bus, Node: "node-a", StallCheck: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	wait, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	if err := p.WaitFor(wait, 3); err != nil {
		t.Fatalf("the start-up catch-up: projections at %+v, want 3: %v", p.Statuses(), err)
	}
	// The start-up catch-up ends with one more read of the store, at once;
	// the pause makes sure the next events come after it.
	time.Sleep(300 * time.Millisecond)
	appendEvents(t, store, 4)

	// Polled rather than WaitFor, which catches up from the store itself
	// when a position keeps it waiting.
	waitFor(t, "the stall check to reach position 7", func() bool {
		return lowest(p.Statuses()) == 7
	})
	for _, s := range p.Statuses() {
		if !s.Healthy || s.Checkpoint != 7 {
			t.Errorf("after the stall check: %+v", s)
		}
	}
	if n := streamMsgs(t, bus); n != 0 {
		t.Errorf("the stream holds %d messages; the test needs a bus that delivered none", n)
	}
	if n := stallCatchUps(t, metrics); n < 1 {
		t.Errorf("ledger_projection_stall_catchups_total is %v; want the catch-up counted", n)
	}
}

// lowest returns the lowest checkpoint of statuses.
func lowest(statuses []projections.Status) int64 {
	low := statuses[0].Checkpoint
	for _, s := range statuses[1:] {
		low = min(low, s.Checkpoint)
	}
	return low
}

// stallCatchUps returns the value of the stall check's counter in reg.
func stallCatchUps(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "ledger_projection_stall_catchups_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no ledger_projection_stall_catchups_total among the metrics")
	return 0
}

// TestWaitingForAPositionDoesNotNeedTheBus runs a node whose bus delivers
// nothing and whose stall check is far off: a read waiting for a position
// the store holds (min_position) still gets it within a second, from the
// store, as it would with NATS unreachable.
func TestWaitingForAPositionDoesNotNeedTheBus(t *testing.T) {
	url, ns, store := silentBus(t)
	ctx := context.Background()
	p, err := projections.Start(ctx, store, filepath.Join(t.TempDir(), "readmodels.db"), projections.Options{
		Logger: quietLogger(), Bus: openBus(t, testConfig(url, ns)), Node: "node-a", StallCheck: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	waitFor(t, "the start-up catch-up", func() bool { return lowest(p.Statuses()) == 3 })
	time.Sleep(300 * time.Millisecond) // after the start-up catch-up's last read of the store
	appendEvents(t, store, 4)

	wait, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := p.WaitFor(wait, 7); err != nil {
		t.Fatalf("a wait for position 7, in the store, with the bus silent: %v; projections at %+v", err, p.Statuses())
	}
}
