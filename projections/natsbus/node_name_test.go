package natsbus_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/patentledger/ledger/api"
	"github.com/patentledger/ledger/domain"
	"github.com/patentledger/ledger/eventstore/sqlite"
	"github.com/patentledger/ledger/projections"
	"github.com/patentledger/ledger/projections/natsbus"
)

// TestNodeNamesAreUniqueAmongRunningNodes: a node name claimed by a
// running node is refused to another (which would share its durable
// consumer and get half of the events), while another name is not; it is
// free again at once when the node releases it, and within two lease TTLs
// when the node dies without releasing it.
func TestNodeNamesAreUniqueAmongRunningNodes(t *testing.T) {
	url := natsURL(t)
	ns := namespace(t, url)
	ctx := context.Background()
	first, second := openBus(t, testConfig(url, ns)), openBus(t, testConfig(url, ns))
	release, err := first.ClaimNodeName(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.ClaimNodeName(ctx, "n1"); !errors.Is(err, natsbus.ErrNodeNameTaken) {
		t.Fatalf("a second node named n1 while the first runs: %v, want ErrNodeNameTaken", err)
	}
	other, err := second.ClaimNodeName(ctx, "n2")
	if err != nil {
		t.Fatalf("another name: %v", err)
	}
	other()
	release()
	again, err := second.ClaimNodeName(ctx, "n1")
	if err != nil {
		t.Fatalf("n1 after the first node released it: %v", err)
	}
	// The node that holds it now dies without releasing it: its lease is
	// no longer renewed and expires.
	third := openBus(t, testConfig(url, ns))
	second.Close()
	start := time.Now()
	last, err := third.ClaimNodeName(ctx, "n1")
	if err != nil {
		t.Fatalf("n1 after its node died: %v (after %v)", err, time.Since(start))
	}
	last()
	again()
}

// behindFreezingProxy returns the URL of the tests' NATS server, a fresh
// namespace on it, and a freezing proxy to it.
func behindFreezingProxy(t *testing.T) (u, ns string, proxy *freezingProxy) {
	t.Helper()
	u = natsURL(t)
	server, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return u, namespace(t, u), startFreezingProxy(t, server.Host)
}

// TestANodeTakesItsNameAgainAfterAPartition: a node cut off from NATS
// for longer than the lease TTL loses the lease on its name; once NATS
// answers again, it takes it again by itself, and the name is refused to
// another node.
func TestANodeTakesItsNameAgainAfterAPartition(t *testing.T) {
	u, ns, proxy := behindFreezingProxy(t)
	cfg := testConfig("nats://"+proxy.ln.Addr().String(), ns)
	cfg.PingInterval = 200 * time.Millisecond
	cut := openBus(t, cfg)
	release, err := cut.ClaimNodeName(context.Background(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	names, err := natsbus.NamesFor(ns)
	if err != nil {
		t.Fatal(err)
	}
	direct := openBus(t, testConfig(u, ns))
	holder := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		kv, err := direct.JetStream().KeyValue(ctx, names.LocksBucket)
		if err != nil {
			t.Fatal(err)
		}
		entry, err := kv.Get(ctx, natsbus.NodeLeaseKey("n1"))
		if err != nil {
			return ""
		}
		return string(entry.Value())
	}
	before := holder()
	proxy.frozen.Store(true)
	time.Sleep(3 * leaseTTL) // the renewals fail: lost by the node, expired on the server
	proxy.frozen.Store(false)
	deadline := time.Now().Add(patience)
	for now := holder(); now == "" || now == before; now = holder() {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not take its name again within %v (the lease holds %q)", patience, now)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := direct.ClaimNodeName(context.Background(), "n1"); !errors.Is(err, natsbus.ErrNodeNameTaken) {
		t.Fatalf("another node named n1 after the partition: %v, want ErrNodeNameTaken", err)
	}
}

// TestAFrozenConnectionIsNoNameConflict: a node whose connection to NATS
// froze (no answer, while its pings had not yet failed) logged, at every
// attempt to take its name again, an error saying another running node
// used its name, sending its operator to rename nodes, and an error that
// it could not take the relay lease. Now it says once that NATS does not
// answer, and takes its name again once NATS does.
func TestAFrozenConnectionIsNoNameConflict(t *testing.T) {
	_, ns, proxy := behindFreezingProxy(t)
	logs := &recordedLogs{}
	cfg := testConfig("nats://"+proxy.ln.Addr().String(), ns)
	cfg.PingInterval = time.Hour // the connection stays "connected" while frozen
	cfg.Logger = slog.New(logs)
	cut := openBus(t, cfg)
	release, err := cut.ClaimNodeName(context.Background(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	relayDone := make(chan error, 1)
	go func() {
		relayDone <- cut.RunAsRelay(ctx, "n1", func(ctx context.Context) error { <-ctx.Done(); return nil }) // as a relay's run ends
	}()
	defer func() { cancel(); <-relayDone }()
	waitFor(t, "the relay lease", func() bool { return logs.count(slog.LevelInfo, "natsbus: this node is the relay") == 1 })
	proxy.frozen.Store(true)
	// The leases are lost after a TTL; taking them again waits for an
	// answer that does not come (two TTLs and a second for the name).
	time.Sleep(4*leaseTTL + 2*time.Second)
	proxy.frozen.Store(false)
	const retaken = "natsbus: this node lost the lease on its name; taking it again"
	waitFor(t, "the node to try to take its name again", func() bool { return logs.count(slog.LevelWarn, retaken) == 1 })
	logs.mu.Lock()
	records := slices.Clone(logs.records)
	logs.mu.Unlock()
	noAnswer := 0
	for _, rec := range records {
		if strings.HasPrefix(rec, "ERROR ") {
			t.Errorf("logged while NATS did not answer: %q", rec)
		}
		if rec == "WARN natsbus: NATS does not answer; the node takes the lease on its name again once it does" {
			noAnswer++
		}
	}
	if noAnswer != 1 {
		t.Errorf("%d warnings that NATS does not answer, want 1: %q", noAnswer, records)
	}
}

// TestANameTakenDuringAPartitionMakesTheNodeUnhealthy: a node cut off from
// NATS for longer than the lease TTL loses the lease on its name, and
// another node may take the name meanwhile. The first then logged an error
// at every attempt to take it again while its /healthz said ok, though the
// two shared one durable consumer. Now its bus status names the conflict
// and /healthz answers 503 saying to stop one of them; once the other node
// lets the name go, the first takes it again and is healthy.
func TestANameTakenDuringAPartitionMakesTheNodeUnhealthy(t *testing.T) {
	u, ns, proxy := behindFreezingProxy(t)
	cfg := testConfig("nats://"+proxy.ln.Addr().String(), ns)
	cfg.PingInterval = 200 * time.Millisecond
	cut := openBus(t, cfg)
	ctx := context.Background()
	release, err := cut.ClaimNodeName(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	p, err := projections.Start(ctx, store, filepath.Join(t.TempDir(), "readmodels.db"), projections.Options{
		Logger: quietLogger(), Bus: cut, Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	svc, err := domain.NewService(store, domain.ServiceOptions{NewID: uuid.NewString})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.New(api.Config{Service: svc, Store: store, Logger: quietLogger(), ReadModels: p}).Handler())
	t.Cleanup(ts.Close)
	if status, body := healthz(t, ts.URL); status != http.StatusOK || cut.NodeNameTaken() != nil {
		t.Fatalf("/healthz before the partition: %d %s (name taken: %v)", status, body, cut.NodeNameTaken())
	}

	proxy.frozen.Store(true)
	other := openBus(t, testConfig(u, ns))
	releaseOther, err := other.ClaimNodeName(ctx, "n1") // waits for the cut node's lease to expire
	if err != nil {
		t.Fatalf("another node takes n1 while the first is cut off: %v", err)
	}
	proxy.frozen.Store(false)
	waitFor(t, "the cut node to find its name taken", func() bool { return errors.Is(cut.NodeNameTaken(), natsbus.ErrNodeNameTaken) })
	status, body := healthz(t, ts.URL)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "another node runs under this node") ||
		!strings.Contains(body, "give each node its own --node") {
		t.Fatalf("/healthz while another node holds its name: %d %s", status, body)
	}

	releaseOther()
	waitFor(t, "the node to take its name again", func() bool { return cut.NodeNameTaken() == nil })
	if status, body := healthz(t, ts.URL); status != http.StatusOK || !strings.Contains(body, `"connected":true`) {
		t.Fatalf("/healthz once the name is the node's again: %d %s", status, body)
	}
}

// healthz returns the status and body of GET /healthz on the server at
// base.
func healthz(t *testing.T, base string) (int, string) {
	t.Helper()
	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}
