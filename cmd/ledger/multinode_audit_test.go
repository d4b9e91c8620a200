package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/patentledger/ledger/projections/natsbus"
)

// readModelPaths are read-model answers that every node of a ledger must
// give byte for byte once it has applied the same position.
var readModelPaths = []string{
	"/v1/listings?limit=100",
	"/v1/tallies/deals?period=month&from=2024-01-01&to=2024-12-31",
	"/v1/tallies/declarations?period=month&from=2024-01-01&to=2024-12-31",
	"/v1/rankings/patentees?metric=licenses&from=2024-01-01&to=2024-12-31",
}

// sameReadModels reads every path of readModelPaths at min_position pos on
// each node and fails unless all of them answer 200 with the same bytes. It
// returns the first node's deals tally.
func sameReadModels(t *testing.T, pos int64, nodes ...*proc) reply {
	t.Helper()
	var deals reply
	for _, path := range readModelPaths {
		var first []byte
		for i, p := range nodes {
			r := must(t, retry503(t, p.server, fmt.Sprintf("%s&min_position=%d", path, pos), 3), 200)
			if i == 0 {
				first = r.raw
				if strings.HasPrefix(path, "/v1/tallies/deals") {
					deals = r
				}
				continue
			}
			if !bytes.Equal(first, r.raw) {
				t.Fatalf("%s answers %s differently from %s at position %d:\n%s\n%s", p.node, path, nodes[0].node, pos, r.raw, first)
			}
		}
	}
	return deals
}

// dealsTotal returns total.deals of a deals tally answer.
func dealsTotal(r reply) int {
	total, _ := r.body["total"].(map[string]any)
	n, _ := total["deals"].(float64)
	return int(n)
}

// stream returns the names of the cluster's namespace and its JetStream
// stream.
func (c *cluster) stream(ctx context.Context, t *testing.T) (natsbus.Names, jetstream.Stream) {
	t.Helper()
	names, err := natsbus.NamesFor(c.ns)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := c.js.Stream(ctx, names.Stream)
	if err != nil {
		t.Fatal(err)
	}
	return names, stream
}

// feedHoldsTheLog waits up to 10 s for the cluster's stream to hold the
// events up to head, and fails unless it holds each of them once, in order
// (positions 1 to head): what an external consumer of the feed reads.
func feedHoldsTheLog(t *testing.T, c *cluster, head int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, stream := c.stream(ctx, t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs >= uint64(head) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("stream message %d: %v", seq, err)
		}
		got = append(got, msg.Header.Get(natsbus.MetaPosition))
	}
	want := make([]string, head)
	for i := range want {
		want[i] = fmt.Sprint(i + 1)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("the stream holds positions %v, want 1 to %d once each", got, head)
	}
}

// seeded is a small ledger written through one node: a university, SMEs
// with keys, and declared patents.
type seeded struct {
	uni, uniKey string
	smes, keys  []string
	numbers     []string
	decls       []string
}

// seed writes a university, nSME SMEs and nPatents declared patents through s.
func seed(t *testing.T, s *server, nSME, nPatents int) seeded {
	t.Helper()
	var w seeded
	w.uni, w.uniKey = s.org(t, "华南理工大学", "university", "440106", "12440000455416125", false)
	for i := 0; i < nSME; i++ {
		id, key := smeOrg(t, s, i)
		w.smes, w.keys = append(w.smes, id), append(w.keys, key)
	}
	for i := 0; i < nPatents; i++ {
		n := patentNumber(t, fmt.Sprintf("2021102%05d", i))
		must(t, s.call(t, "POST", "/v1/patents", w.uniKey, map[string]any{"number": n, "title": fmt.Sprintf("一种固态锂电池电解质 %d", i),
			"patentee_ids": []string{w.uni}, "ipc": []string{"H01M 10/0562"}, "filed_on": "2021-03-15", "granted_on": "2022-01-10"}), 201)
		d := must(t, s.call(t, "POST", "/v1/patents/"+n+"/declarations", w.uniKey, map[string]any{
			"fee": map[string]any{"mode": "lump_sum", "lump_sum_fen": 5_000_000}, "term_months": 36, "declared_on": "2024-01-02"}), 201)
		w.numbers, w.decls = append(w.numbers, n), append(w.decls, d.str("declaration_id"))
	}
	return w
}

// storeLicences counts the licences of the patents as the store holds them
// (GET /v1/patents/{n}, read from the store) on s at position pos.
func storeLicences(t *testing.T, s *server, numbers []string, pos int64) int {
	t.Helper()
	total := 0
	for _, n := range numbers {
		total += len(patentLicenses(t, s, n, pos))
	}
	return total
}

// TestMultiNodeRelaySIGKILL SIGKILLs the relay holder while another node
// takes writes: a survivor holds the lease within the lease's TTL and a
// candidate's poll, every survivor and a node started later on an empty
// data folder reach the head and answer listings, tallies and rankings byte
// for byte alike, and the deals they count are the licences the store
// holds (none lost, none applied twice).
func TestMultiNodeRelaySIGKILL(t *testing.T) {
	c := newCluster(t, "audit_kill")
	n1 := c.start("n1", t.TempDir())
	c.waitHolder("n1")
	n2, n3 := c.start("n2", t.TempDir()), c.start("n3", t.TempDir())
	w := seed(t, n2.server, 6, 6)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var n2Errs []error
	killed := make(chan struct{})
	wg.Add(1)
	go func() { // writes through n2 before, across and after the SIGKILL
		defer wg.Done()
		client := &http.Client{Timeout: 15 * time.Second}
		for i, n := range w.numbers {
			if i == 3 {
				<-killed
			}
			if _, err := postLicense(client, n2.base, n, w.keys[0], w.smes[0], w.decls[i]); err != nil {
				mu.Lock()
				n2Errs = append(n2Errs, err)
				mu.Unlock()
			}
		}
	}()
	for i := 0; i < 3; i++ { // writes through the relay holder
		must(t, n1.call(t, "POST", "/v1/patents/"+w.numbers[i]+"/licenses", w.keys[1], openLicenseBody(w.smes[1], w.decls[i])), 201)
	}
	killedAt := time.Now()
	if err := n1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-n1.done
	close(killed)
	holder := c.waitHolder("n2", "n3")
	took := time.Since(killedAt)
	t.Logf("relay lease taken by %s %v after the SIGKILL", holder, took.Round(time.Millisecond))
	if limit := natsbus.DefaultLeaseTTL + time.Second; took > limit {
		t.Errorf("the relay lease was taken over %v after the SIGKILL, want within %v (TTL and a candidate's poll)", took, limit)
	}
	wg.Wait()
	if len(n2Errs) > 0 {
		t.Fatalf("writes through the survivor failed: %v", n2Errs)
	}
	pos := must(t, n3.call(t, "POST", "/v1/patents/"+w.numbers[5]+"/licenses", w.keys[2], openLicenseBody(w.smes[2], w.decls[5])), 201).num("position")
	deals := sameReadModels(t, pos, n2, n3)
	if got, want := dealsTotal(deals), storeLicences(t, n2.server, w.numbers, pos); got != want || want != 10 {
		t.Fatalf("the survivors count %d deals, the store holds %d licences (want 10)", got, want)
	}

	feedHoldsTheLog(t, c, pos)

	started := time.Now()
	n4 := c.start("n4", t.TempDir())
	sameReadModels(t, pos, n2, n3, n4)
	t.Logf("n4 (empty data folder) answered like the others %v after it was started", time.Since(started).Round(time.Millisecond))
}

// TestMultiNodeNATSOutage runs two nodes whose NATS connections pass
// through a TCP proxy and cuts it: writes go on, a read with min_position
// on the other node is answered from the store's log within its wait, the
// lag shows on /healthz and /metrics meanwhile, and once NATS is back the
// relay publishes again and both nodes answer alike at the head.
func TestMultiNodeNATSOutage(t *testing.T) {
	c := newCluster(t, "audit_nats_cut")
	proxy := newTCPProxy(t, strings.TrimPrefix(c.natsURL, "nats://"))
	c.natsURL = "nats://" + proxy.addr
	n1 := c.start("n1", t.TempDir())
	c.waitHolder("n1")
	n2 := c.start("n2", t.TempDir())
	w := seed(t, n1.server, 3, 3)
	sameReadModels(t, n1.head(t), n1, n2)

	proxy.Cut()
	cutAt := time.Now()
	lic := n1.call(t, "POST", "/v1/patents/"+w.numbers[0]+"/licenses", w.keys[0], openLicenseBody(w.smes[0], w.decls[0]))
	t.Logf("a write on n1 with NATS cut: %d after %v", lic.status, time.Since(cutAt).Round(time.Millisecond))
	must(t, lic, 201)
	pos := lic.num("position")
	readAt := time.Now()
	r := n2.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", pos), "", nil)
	t.Logf("listings with min_position on n2 with NATS cut: %d after %v", r.status, time.Since(readAt).Round(time.Millisecond))
	for _, p := range []*proc{n1, n2} {
		hz := waitBus(t, p, func(b map[string]any) bool { return b["connected"] == false && b["relay"] == false })
		t.Logf("%s /healthz with NATS cut: %d %s", p.node, hz.status, hz.raw)
		metrics := string(p.call(t, "GET", "/metrics", "", nil).raw)
		for _, line := range []string{"ledger_bus_connected 0", "ledger_relay_active 0"} {
			if !strings.Contains(metrics, "\n"+line+"\n") {
				t.Errorf("%s /metrics with NATS cut lacks %q", p.node, line)
			}
		}
	}
	must(t, r, 200)

	proxy.Restore(t)
	restoredAt := time.Now()
	lic = must(t, n2.call(t, "POST", "/v1/patents/"+w.numbers[1]+"/licenses", w.keys[1], openLicenseBody(w.smes[1], w.decls[1])), 201)
	pos = lic.num("position")
	deals := sameReadModels(t, pos, n1, n2)
	t.Logf("NATS back: both nodes answered alike at position %d %v later", pos, time.Since(restoredAt).Round(time.Millisecond))
	if got := dealsTotal(deals); got != 2 {
		t.Fatalf("%d deals after the outage, want 2", got)
	}
	relayAgain(t, c, restoredAt, n1, n2)
	feedHoldsTheLog(t, c, pos)
}

// relayAgain waits up to 10 s for every node to be connected to NATS and
// for the lease's holder, and it alone, to relay, and fails the test
// otherwise.
func relayAgain(t *testing.T, c *cluster, since time.Time, nodes ...*proc) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		holder, state := c.holder(), ""
		ok := holder != ""
		for _, p := range nodes {
			hz := must(t, p.call(t, "GET", "/healthz", "", nil), 200)
			bus, _ := hz.body["bus"].(map[string]any)
			ok = ok && bus["connected"] == true && bus["relay"] == (p.node == holder)
			state += fmt.Sprintf(" %s %v", p.node, bus)
		}
		if ok {
			t.Logf("%v after NATS came back, %s relays:%s", time.Since(since).Round(time.Millisecond), holder, state)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease holder %q;%s", holder, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitBus polls /healthz on p for up to 10 s until its bus status satisfies
// ok, and fails the test otherwise.
func waitBus(t *testing.T, p *proc, ok func(bus map[string]any) bool) reply {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		hz := must(t, p.call(t, "GET", "/healthz", "", nil), 200)
		bus, _ := hz.body["bus"].(map[string]any)
		if bus != nil && ok(bus) {
			return hz
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s /healthz: %s", p.node, hz.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMultiNodeConcurrentWritesOnOnePatent writes licences on one patent
// through two nodes at once: each distinct licence is recorded once
// (optimistic concurrency retried, none lost or doubled), one request
// repeated with the same Idempotency-Key on both nodes makes one licence,
// two exclusive licences over the same period get one 201 and one 409, and
// each write is read on the other node with min_position.
func TestMultiNodeConcurrentWritesOnOnePatent(t *testing.T) {
	c := newCluster(t, "audit_race")
	n1 := c.start("n1", t.TempDir())
	c.waitHolder("n1")
	n2 := c.start("n2", t.TempDir())
	nodes := []*proc{n1, n2}
	w := seed(t, n1.server, 10, 1)
	patent, decl := w.numbers[0], w.decls[0]
	undeclared := patentNumber(t, "202110399999")
	must(t, n2.call(t, "POST", "/v1/patents", w.uniKey, map[string]any{"number": undeclared, "title": "一种电池隔膜",
		"patentee_ids": []string{w.uni}, "ipc": []string{"H01M 50/40"}, "filed_on": "2021-03-15", "granted_on": "2022-01-10"}), 201)

	type answer struct {
		node int
		kind string
		r    reply
	}
	answers := make(chan answer, 32)
	var wg sync.WaitGroup
	fire := func(node int, kind, path, key string, body any, headers ...string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers <- answer{node, kind, nodes[node].call(t, "POST", path, key, body, headers...)}
		}()
	}
	for i := 0; i < 8; i++ { // eight licensees, four through each node
		fire(i%2, "distinct", "/v1/patents/"+patent+"/licenses", w.keys[i], openLicenseBody(w.smes[i], decl))
	}
	for i := 0; i < 6; i++ { // one request, repeated on both nodes
		fire(i%2, "repeated", "/v1/patents/"+patent+"/licenses", w.keys[8], openLicenseBody(w.smes[8], decl), "Idempotency-Key", "race-1")
	}
	exclusive := func(sme int) map[string]any {
		return map[string]any{"type": "exclusive", "licensee_id": w.smes[sme], "effective_on": "2024-03-01",
			"ends_on": "2025-02-28", "fee_paid_fen": 1_000_000}
	}
	fire(0, "exclusive", "/v1/patents/"+undeclared+"/licenses", w.uniKey, exclusive(0))
	fire(1, "exclusive", "/v1/patents/"+undeclared+"/licenses", w.uniKey, exclusive(1))
	wg.Wait()
	close(answers)

	ids, idem := map[string]bool{}, map[string]bool{}
	statuses := map[int]int{}
	var last int64
	for a := range answers {
		statuses[a.r.status]++
		if a.r.status == 201 {
			last = max(last, a.r.num("position"))
			other := nodes[1-a.node].server
			must(t, retry503(t, other, fmt.Sprintf("/v1/patents/%s?min_position=%d", patent, a.r.num("position")), 3), 200)
		}
		if a.r.status != 201 {
			t.Logf("%s write on n%d: %d %s", a.kind, a.node+1, a.r.status, a.r.raw)
			continue
		}
		if a.kind == "repeated" {
			idem[a.r.str("license_id")+fmt.Sprint(a.r.num("position"))] = true
		}
		ids[a.r.str("license_id")] = true
	}
	if len(idem) != 1 {
		t.Errorf("one request repeated with one Idempotency-Key on both nodes answered %d licences or positions: %v", len(idem), idem)
	}
	t.Logf("statuses of 16 concurrent writes on two nodes: %v", statuses)
	if statuses[201] != 15 || statuses[409] != 1 {
		t.Errorf("statuses %v, want 15 × 201 (8 licensees, 6 repeats, 1 exclusive) and one 409", statuses)
	}
	got := patentLicenses(t, n2.server, patent, last)
	if len(got) != 9 {
		t.Errorf("patent %s holds %d licences after 8 licensees and 6 repeats of one request, want 9", patent, len(got))
	}
	excl := patentLicenses(t, n1.server, undeclared, last)
	if len(excl) != 1 {
		t.Errorf("patent %s holds %d exclusive licences, want 1", undeclared, len(excl))
	}
	if len(ids) != 10 {
		t.Errorf("%d distinct licence ids answered, want 10 (8 + 1 repeated + 1 exclusive)", len(ids))
	}
	hist := must(t, n1.call(t, "GET", "/v1/patents/"+patent+"/history", testAdminKey, nil), 200)
	versions := map[float64]bool{}
	for _, e := range hist.list {
		m, _ := e.(map[string]any)
		v, _ := m["version"].(float64)
		if versions[v] {
			t.Errorf("version %v twice in the history of %s", v, patent)
		}
		versions[v] = true
	}
	if deals := sameReadModels(t, last, n1, n2); dealsTotal(deals) != 10 {
		t.Errorf("both nodes count %d deals, want 10", dealsTotal(deals))
	}
}

// TestMultiNodeStreamAndConsumers reads the JetStream configuration the
// nodes made, then stops a node, lets the stream lose every message it
// holds (as MaxAge would) and the node's consumer (as InactiveThreshold
// would), and starts the node again on its data folder: it reaches the head
// and answers like the node that stayed up.
func TestMultiNodeStreamAndConsumers(t *testing.T) {
	c := newCluster(t, "audit_stream")
	n1 := c.start("n1", t.TempDir())
	c.waitHolder("n1")
	data2 := t.TempDir()
	n2 := c.start("n2", data2)
	w := seed(t, n1.server, 2, 2)
	sameReadModels(t, n1.head(t), n1, n2)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	names, stream := c.stream(ctx, t)
	sc := stream.CachedInfo().Config
	t.Logf("stream %s: retention %v, discard %v, max age %v, max bytes %d, max msgs %d, duplicates %v, storage %v, replicas %d",
		sc.Name, sc.Retention, sc.Discard, sc.MaxAge, sc.MaxBytes, sc.MaxMsgs, sc.Duplicates, sc.Storage, sc.Replicas)
	for _, node := range []string{"n1", "n2"} {
		cons, err := c.js.PushConsumer(ctx, names.Stream, names.Durable(node))
		if err != nil {
			t.Fatalf("consumer of %s: %v", node, err)
		}
		cc := cons.CachedInfo().Config
		t.Logf("consumer %s: deliver %v, ack %v, ack wait %v, max deliver %d, max ack pending %d, inactive %v, group %q",
			cc.Durable, cc.DeliverPolicy, cc.AckPolicy, cc.AckWait, cc.MaxDeliver, cc.MaxAckPending, cc.InactiveThreshold, cc.DeliverGroup)
		if cc.AckPolicy != jetstream.AckExplicitPolicy || cc.Durable != names.Durable(node) {
			t.Errorf("consumer of %s: %+v", node, cc)
		}
	}

	n2.kill()
	must(t, n1.call(t, "POST", "/v1/patents/"+w.numbers[0]+"/licenses", w.keys[0], openLicenseBody(w.smes[0], w.decls[0])), 201)
	if err := stream.Purge(ctx); err != nil { // as MaxAge or MaxBytes would
		t.Fatal(err)
	}
	if err := stream.DeleteConsumer(ctx, names.Durable("n2")); err != nil { // as InactiveThreshold would
		t.Fatal(err)
	}
	pos := must(t, n1.call(t, "POST", "/v1/patents/"+w.numbers[1]+"/licenses", w.keys[1], openLicenseBody(w.smes[1], w.decls[1])), 201).num("position")
	n2 = c.start("n2", data2)
	if deals := sameReadModels(t, pos, n1, n2); dealsTotal(deals) != 2 {
		t.Fatalf("%d deals after the restart, want 2", dealsTotal(deals))
	}
}

// TestALostRelayLeaseStaysLost cuts a relay lease holder off NATS until its
// lease is lost, and lets it reconnect before the lease's key expires: the
// renewals it tried meanwhile must not reach the server then, or the key
// names a holder that no longer relays, and the other nodes wait a TTL more
// for it to expire.
func TestALostRelayLeaseStaysLost(t *testing.T) {
	c := newCluster(t, "audit_lease")
	proxy := newTCPProxy(t, strings.TrimPrefix(c.natsURL, "nats://"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bus, err := natsbus.Open(ctx, natsbus.Config{URL: "nats://" + proxy.addr, Namespace: c.ns,
		Options: []nats.Option{nats.ReconnectWait(20 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	lease, err := bus.AcquireRelayLease(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	select {
	case <-lease.Lost():
	case <-ctx.Done():
		t.Fatal("the lease was not lost with NATS cut")
	}
	lostAt := time.Now()
	proxy.Restore(t)
	for !bus.Connected() {
		if ctx.Err() != nil {
			t.Fatal("the bus did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The key was last renewed at most 2/3 of the TTL before the loss: it
	// expires by TTL/3 after it, unless a renewal reached the server later.
	time.Sleep(time.Until(lostAt.Add(natsbus.DefaultLeaseTTL/3 + 500*time.Millisecond)))
	if h := c.holder(); h != "" {
		t.Fatalf("the relay lease names %q %v after that node lost it", h, time.Since(lostAt).Round(time.Millisecond))
	}
}
