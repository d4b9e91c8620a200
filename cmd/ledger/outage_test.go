package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpProxy forwards TCP connections from a local address to a target, and
// can simulate an outage of the target: Cut closes every connection and
// refuses new ones (the listening socket is closed), Restore listens again
// on the same address; while frozen it forwards nothing and closes
// nothing, as a partition or a hung server.
type tcpProxy struct {
	target string
	addr   string
	frozen atomic.Bool

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newTCPProxy starts a proxy on 127.0.0.1 to target, closed when the test
// ends.
func newTCPProxy(tb testing.TB, target string) *tcpProxy {
	tb.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	tb.Cleanup(func() { p.Cut(); p.wg.Wait() })
	return p
}

// serve accepts connections on ln until it is closed.
func (p *tcpProxy) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.forward(c)
		}
	}()
}

// forward connects c to the target and copies both ways until either side
// closes or Cut.
func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		_, _ = io.Copy(dst, freezable{src, &p.frozen})
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}
	p.wg.Add(2)
	go pipe(c, up)
	go pipe(up, c)
}

// freezable reads from r, holding what it read while frozen is set.
type freezable struct {
	r      io.Reader
	frozen *atomic.Bool
}

func (f freezable) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	for f.frozen.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	return n, err
}

// Cut closes every connection and the listening socket: new connections
// are refused until Restore.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore accepts connections again on the proxy's address.
func (p *tcpProxy) Restore(tb testing.TB) {
	tb.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after Cut
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serve(ln)
}

// proxiedURL returns url with its host replaced by addr.
func proxiedURL(tb testing.TB, url, addr string) string {
	tb.Helper()
	i := strings.Index(url, "@")
	if i < 0 {
		i = strings.Index(url, "://") + 2
	}
	j := strings.IndexAny(url[i+1:], "/?")
	if j < 0 {
		tb.Fatalf("proxiedURL: cannot find the host in %q", url)
	}
	return url[:i+1] + addr + url[i+1+j:]
}

// TestE2EPostgresOutage runs `ledger serve --store postgres` through a TCP
// proxy to the PostgreSQL of LEDGER_TEST_POSTGRES_URL and cuts it for a
// while: writes answer 503 unavailable with Retry-After quickly, reads of
// the read models go on, /healthz says the store is unreachable; after the
// store is back, the same write with the same Idempotency-Key makes one
// licence, and the projections reach the head.
func TestE2EPostgresOutage(t *testing.T) {
	url, _ := freshPostgresSchema(t, "outage", "the PostgreSQL outage test")
	proxy := newTCPProxy(t, "127.0.0.1:5432")
	s := startServer(t, "--store", "postgres", "--store-url", proxiedURL(t, url, proxy.addr))
	p := s.parties(t)
	n := s.registerPatent(t, p, "202010123456")
	declID := s.declare(t, p, n)
	head := s.head(t)
	must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", head), "", nil), 200)

	proxy.Cut()
	outageStart := time.Now()
	key := []string{"Idempotency-Key", "outage-licence-1"}
	start := time.Now()
	w := s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID), key...)
	took := time.Since(start)
	if w.status != 503 || w.str("code") != "unavailable" || w.header.Get("Retry-After") == "" || took > 10*time.Second {
		t.Errorf("a write while the store is down: %d Retry-After %q after %v: %s", w.status, w.header.Get("Retry-After"), took, w.raw)
	}
	list := s.call(t, "GET", "/v1/listings", "", nil)
	if list.status != 200 {
		t.Errorf("listings while the store is down: %d %s", list.status, list.raw)
	}
	tally := s.call(t, "GET", "/v1/tallies/declarations?period=year&from=2024-01-01&to=2024-12-31", "", nil)
	if tally.status != 200 {
		t.Errorf("a tally while the store is down: %d %s", tally.status, tally.raw)
	}
	ahead := s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", head+1), "", nil)
	if ahead.status != 503 || ahead.str("code") != "unavailable" || ahead.header.Get("Retry-After") == "" {
		t.Errorf("listings past the read models while the store is down: %d Retry-After %q: %s", ahead.status, ahead.header.Get("Retry-After"), ahead.raw)
	}
	hz := s.call(t, "GET", "/healthz", "", nil)
	if hz.status != 503 || hz.str("code") != "unavailable" || hz.header.Get("Retry-After") == "" {
		t.Errorf("/healthz while the store is down: %d Retry-After %q: %s", hz.status, hz.header.Get("Retry-After"), hz.raw)
	}
	if strings.Contains(string(hz.raw), proxy.addr) {
		t.Errorf("/healthz, which needs no key, shows the store's address %s: %s", proxy.addr, hz.raw)
	}
	t.Logf("healthz while down: %d %s", hz.status, hz.raw)
	if m := s.call(t, "GET", "/metrics", "", nil); !strings.Contains(string(m.raw), "\nledger_store_up 0\n") {
		t.Errorf("/metrics while the store is down has no ledger_store_up 0:\n%s", m.raw)
	}
	// A key the store cannot check is no wrong guess: 503 each time, never
	// 429 once the address's budget of failed keys would be spent.
	for i := range 25 {
		if r := s.call(t, "GET", "/v1/orgs/"+p.uni, p.regKey, nil); r.status != 503 {
			t.Fatalf("keyed read %d while the store is down: %d %s", i+1, r.status, r.raw)
		}
	}
	time.Sleep(12*time.Second - time.Since(outageStart)) // an outage of about 12 s
	proxy.Restore(t)

	var lic reply
	deadline := time.Now().Add(20 * time.Second)
	for {
		lic = s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID), key...)
		if lic.status != 503 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	must(t, lic, 201)
	again := must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.smeKey, openLicenseBody(p.sme, declID), key...), 201)
	if again.str("license_id") != lic.str("license_id") || again.num("position") != lic.num("position") {
		t.Fatalf("a repeat after recovery made another licence: %s then %s", lic.raw, again.raw)
	}
	pos := lic.num("position")
	list = must(t, s.call(t, "GET", fmt.Sprintf("/v1/listings?min_position=%d", pos), "", nil), 200)
	items, _ := list.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["licenses"] != float64(1) {
		t.Fatalf("listings after recovery: %s", list.raw)
	}
	// A second write after recovery, with no retries needed.
	must(t, s.call(t, "POST", "/v1/patents/"+n+"/licenses", p.sme2Key, openLicenseBody(p.sme2, declID)), 201)
	var hzOK reply
	deadline = time.Now().Add(15 * time.Second)
	for {
		hzOK = s.call(t, "GET", "/healthz", "", nil)
		if hzOK.status == 200 && allCaughtUp(hzOK) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if hzOK.status != 200 || !allCaughtUp(hzOK) {
		t.Fatalf("/healthz after recovery: %d %s", hzOK.status, hzOK.raw)
	}
	metrics := s.call(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(metrics.raw), "\nledger_store_up 1\n") {
		t.Errorf("/metrics after recovery has no ledger_store_up 1")
	}
	for _, line := range strings.Split(string(metrics.raw), "\n") {
		if strings.HasPrefix(line, "ledger_projection_lag_events{") && !strings.HasSuffix(line, " 0") {
			t.Errorf("metrics after recovery: %s", line)
		}
	}
}

// allCaughtUp reports whether a /healthz answer shows every projection
// healthy with no lag.
func allCaughtUp(r reply) bool {
	views, _ := r.body["projections"].([]any)
	if len(views) == 0 {
		return false
	}
	for _, v := range views {
		m, _ := v.(map[string]any)
		if m["lag"] != float64(0) || m["healthy"] != true {
			return false
		}
	}
	return true
}

// TestE2EServeStopsInTimeWhenPostgresFreezes: with PostgreSQL not
// answering (a partition: the connections stay open, nothing comes back),
// a stopped server took its grace period and then about 30 s more closing
// the store (its queued appends waited out their stall timeout, its pool a
// ping without deadline), 46 s for one SIGTERM. Now it waits for the store
// storeCloseLimit at most.
func TestE2EServeStopsInTimeWhenPostgresFreezes(t *testing.T) {
	url, _ := freshPostgresSchema(t, "frozen", "the frozen PostgreSQL shutdown test")
	defer func(g, c time.Duration) { shutdownGrace, storeCloseLimit = g, c }(shutdownGrace, storeCloseLimit)
	shutdownGrace, storeCloseLimit = 300*time.Millisecond, time.Second
	proxy := newTCPProxy(t, "127.0.0.1:5432")
	s := startServer(t, "--store", "postgres", "--store-url", proxiedURL(t, url, proxy.addr))
	p := s.parties(t)
	body, err := json.Marshal(map[string]any{"number": patentNumber(t, "202010123456"), "title": "一种电池",
		"patentee_ids": []string{p.uni}, "ipc": []string{"H01M 10/0562"}, "filed_on": "2020-03-15", "granted_on": "2022-01-10"})
	if err != nil {
		t.Fatal(err)
	}
	proxy.frozen.Store(true)
	defer proxy.frozen.Store(false)
	go func() { // a write that waits on the frozen store when the stop comes
		req, _ := http.NewRequest("POST", s.base+"/v1/patents", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+p.uniKey)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	code := s.stop()
	took := time.Since(start)
	t.Logf("stopped with exit %d after %v", code, took)
	if code != 1 || took > shutdownGrace+storeCloseLimit+5*time.Second {
		t.Fatalf("stop with PostgreSQL frozen: exit %d after %v; want 1 (the write cut) within the grace period and storeCloseLimit", code, took)
	}
}
