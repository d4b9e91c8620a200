package natsbus_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patentledger/ledger/projections/natsbus"
)

// candidate is a node competing for the relay lease on a connection of its
// own.
type candidate struct {
	name  string
	bus   *natsbus.Bus
	lease chan *natsbus.Lease
	err   chan error
}

// compete starts node competing for the lease of ns until the test ends.
func compete(t *testing.T, url, ns, node string) *candidate {
	t.Helper()
	c := &candidate{name: node, bus: openBus(t, testConfig(url, ns)), lease: make(chan *natsbus.Lease, 1),
		err: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		l, err := c.bus.AcquireRelayLease(ctx, node)
		if err != nil {
			c.err <- err
			return
		}
		c.lease <- l
	}()
	return c
}

// leader waits for one of cs to acquire the lease and returns it and its
// lease.
func leader(t *testing.T, cs ...*candidate) (*candidate, *natsbus.Lease) {
	t.Helper()
	timeout := time.After(patience)
	for {
		for _, c := range cs {
			select {
			case l := <-c.lease:
				return c, l
			case err := <-c.err:
				t.Fatalf("%s: %v", c.name, err)
			default:
			}
		}
		select {
		case <-timeout:
			t.Fatal("nobody acquired the relay lease")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func holder(t *testing.T, c *candidate) string {
	t.Helper()
	h, err := natsbus.RelayHolder(context.Background(), c.bus.JetStream(), c.bus.Names().Namespace)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("%s did not happen", what)
	}
}

func TestOneRelayLeaseHolderAndFailOver(t *testing.T) {
	url := natsURL(t)
	ns := namespace(t, url)
	a, b := compete(t, url, ns, "node-a"), compete(t, url, ns, "node-b")
	first, lease := leader(t, a, b)
	second := b
	if first == b {
		second = a
	}
	if got := holder(t, first); got != first.name {
		t.Errorf("RelayHolder = %q, want %q", got, first.name)
	}
	// The other keeps trying but does not get the lease while the holder
	// renews it (several TTLs).
	select {
	case <-second.lease:
		t.Fatal("both candidates hold the relay lease")
	case err := <-second.err:
		t.Fatal(err)
	case <-lease.Lost():
		t.Fatalf("the lease was lost: %v", lease.Err())
	case <-time.After(3 * leaseTTL):
	}

	// The holder dies: its connection goes away without a release.
	first.bus.Close()
	waitClosed(t, lease.Lost(), "the dead holder's loss of the lease")
	if lease.Err() == nil || errors.Is(lease.Err(), natsbus.ErrLeaseReleased) {
		t.Errorf("lost for %v", lease.Err())
	}
	next, nextLease := leader(t, second)
	if got := holder(t, next); got != second.name {
		t.Errorf("RelayHolder = %q, want %q", got, second.name)
	}

	// A release hands the lease over without waiting for it to expire.
	third := compete(t, url, ns, "node-c")
	if err := nextLease.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, nextLease.Lost(), "Lost after Release")
	if !errors.Is(nextLease.Err(), natsbus.ErrLeaseReleased) {
		t.Errorf("released lease ended with %v", nextLease.Err())
	}
	_, thirdLease := leader(t, third)
	if err := thirdLease.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := thirdLease.Release(context.Background()); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if got := holder(t, third); got != "" {
		t.Errorf("RelayHolder = %q after release", got)
	}
}

func TestLeaseTakenOverIsLost(t *testing.T) {
	url := natsURL(t)
	ns := namespace(t, url)
	a := compete(t, url, ns, "node-a")
	_, lease := leader(t, a)
	// Someone else writes the key (as a successor would after an expiry).
	kv, err := a.bus.JetStream().KeyValue(context.Background(), a.bus.Names().LocksBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), natsbus.RelayLeaseKey, []byte("intruder x")); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, lease.Lost(), "the loss of a lease taken over")
	if !errors.Is(lease.Err(), natsbus.ErrLeaseTaken) {
		t.Errorf("lost for %v, want ErrLeaseTaken", lease.Err())
	}
	// Releasing a lost lease leaves the new holder alone.
	if err := lease.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := holder(t, a); got != "intruder" {
		t.Errorf("RelayHolder = %q, want intruder", got)
	}
}

func TestRunAsRelayRunsOneRelayAtATime(t *testing.T) {
	url := natsURL(t)
	ns := namespace(t, url)
	var (
		mu      sync.Mutex
		running = map[string]bool{}
		starts  atomic.Int32
	)
	run := func(node string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			mu.Lock()
			running[node] = true
			mu.Unlock()
			starts.Add(1)
			<-ctx.Done()
			mu.Lock()
			running[node] = false
			mu.Unlock()
			return nil
		}
	}
	active := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for n, r := range running {
			if r {
				out = append(out, n)
			}
		}
		return out
	}
	cancels := map[string]context.CancelFunc{}
	done := map[string]chan struct{}{}
	for _, node := range []string{"node-a", "node-b"} {
		b := openBus(t, testConfig(url, ns))
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		finished := make(chan struct{})
		cancels[node], done[node] = cancel, finished
		go func() {
			defer close(finished) // not done[node]: the loop writes the map meanwhile
			if err := b.RunAsRelay(ctx, node, run(node)); err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, "a relay", func() bool { return len(active()) == 1 })
	time.Sleep(3 * leaseTTL)
	if a := active(); len(a) != 1 || starts.Load() != 1 {
		t.Fatalf("relays running: %v after %d starts", a, starts.Load())
	}
	first := active()[0]
	cancels[first]()
	waitClosed(t, done[first], "RunAsRelay's return")
	waitFor(t, "the other relay", func() bool { a := active(); return len(a) == 1 && a[0] != first })
}

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
